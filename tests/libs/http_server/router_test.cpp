#include "moneta/http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

namespace moneta::http {
namespace {

boost::asio::awaitable<Response> ok(Request&) { co_return Response{}; }

Request make(Method m, std::string_view target) {
    Request r;
    r.set_line(m, method_name(m), target);
    return r;
}

TEST(RouterTest, MatchesLiteralsAndParameters) {
    core::FakeClock clock;
    Router router(clock);
    router.add(Method::kPost, "/v1/playback/sessions", ok);
    router.add(Method::kPost, "/v1/playback/sessions/{id}/heartbeat", ok);
    router.add(Method::kDelete, "/v1/playback/sessions/{id}", ok);
    router.add(Method::kGet, "/v1/playback/sessions", ok);

    Request hb = make(Method::kPost, "/v1/playback/sessions/ps_1/heartbeat?x=1");
    EXPECT_NE(router.match(hb).handler, nullptr);
    EXPECT_EQ(hb.path_param(0), "ps_1");

    Request del = make(Method::kDelete, "/v1/playback/sessions/ps_9");
    EXPECT_NE(router.match(del).handler, nullptr);
    EXPECT_EQ(del.path_param(0), "ps_9");

    Request empty_param = make(Method::kPost, "/v1/playback/sessions//heartbeat");
    EXPECT_EQ(router.match(empty_param).handler, nullptr);
    Request trailing = make(Method::kPost, "/v1/playback/sessions/");
    EXPECT_EQ(router.match(trailing).handler, nullptr);
    Request longer = make(Method::kPost, "/v1/playback/sessions/ps_1/heartbeat/x");
    EXPECT_EQ(router.match(longer).handler, nullptr);

    // The path is split once per request into at most 16 segments: deeper paths match nothing.
    router.add(Method::kGet, "/", ok);
    Request root = make(Method::kGet, "/");
    EXPECT_NE(router.match(root).handler, nullptr);
    std::string deep;
    for (int i = 0; i < 40; ++i) {
        deep += "/a";
    }
    Request too_deep = make(Method::kGet, deep);
    EXPECT_EQ(router.match(too_deep).handler, nullptr);
    EXPECT_EQ(router.match(too_deep).allow, "");
}

// The router before its literal runs, kept as the oracle: the path split into at most 16
// segments, each route of that many segments tried in the order added, segment by segment.
struct OracleRoute {
    Method method;
    std::vector<std::string> segments;  ///< "{}" marks a parameter
};

std::vector<std::string> oracle_split(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 1;
    while (i <= s.size()) {
        const auto slash = s.find('/', i);
        const auto end = slash == std::string_view::npos ? s.size() : slash;
        out.emplace_back(s.substr(i, end - i));
        i = end + 1;
    }
    return out;
}

struct OracleMatch {
    int route = -1;
    std::vector<std::string> params;
    std::string allow;
};

OracleMatch oracle_match(const std::vector<OracleRoute>& routes, Method method, std::string_view path) {
    OracleMatch m;
    if (path.empty() || path.front() != '/') {
        return m;
    }
    const std::vector<std::string> segs = oracle_split(path);
    if (segs.size() > 16) {
        return m;
    }
    const Method wanted = method == Method::kHead ? Method::kGet : method;
    for (std::size_t id = 0; id < routes.size(); ++id) {
        const OracleRoute& r = routes[id];
        if (r.segments.size() != segs.size()) {
            continue;
        }
        std::vector<std::string> params;
        bool ok = true;
        for (std::size_t s = 0; ok && s < segs.size(); ++s) {
            if (r.segments[s] == "{}") {
                ok = !segs[s].empty() && params.size() < Request::kMaxParams;
                params.push_back(segs[s]);
            } else {
                ok = segs[s] == r.segments[s];
            }
        }
        if (!ok) {
            continue;
        }
        if (r.method == wanted) {
            return {static_cast<int>(id), params, ""};
        }
        if (!m.allow.empty()) {
            m.allow += ", ";
        }
        m.allow += method_name(r.method);
        if (r.method == Method::kGet) {
            m.allow += ", HEAD";
        }
    }
    return m;
}

TEST(RouterTest, MatchesWhatSplittingThePathIntoSegmentsMatches) {
    const std::vector<std::string> pieces{"a", "ab", "v1", "playback", "sessions", "heartbeat", "{id}", "{x}",
                                          "", "a{b}", "{"};
    const std::vector<std::string> path_pieces{"a", "ab", "v1", "playback", "sessions", "heartbeat", "",
                                               "0123456789abcdef0123456789abcdef", "x", "{id}", "a{b}", "sessions2"};
    const Method methods[] = {Method::kGet, Method::kPost, Method::kPut, Method::kDelete, Method::kOther};
    std::uint64_t state = 0x2545F4914F6CDD1DULL;
    const auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    const auto random_path = [&](const std::vector<std::string>& from, std::size_t max_segments) {
        std::string p;
        const std::size_t n = 1 + next() % max_segments;
        for (std::size_t i = 0; i < n; ++i) {
            p += "/" + from[next() % from.size()];
        }
        return p;
    };
    core::FakeClock clock;
    int matched = 0;
    int allowed = 0;
    for (int table = 0; table < 200; ++table) {
        Router router(clock);
        std::vector<OracleRoute> oracle;
        const std::size_t count = 1 + next() % 12;
        std::vector<std::string> patterns;
        for (std::size_t i = 0; i < count; ++i) {
            // Mostly short patterns, now and then one of 15-18 segments (the 16-segment bound).
            std::string pattern = next() % 10 == 0 ? random_path(pieces, 18) : random_path(pieces, 5);
            if (next() % 4 == 0 && !patterns.empty()) {
                pattern = patterns[next() % patterns.size()];  // the same path, another method
            }
            if (next() % 20 == 0) {
                pattern = next() % 2 == 0 ? "/" : "";
            }
            patterns.push_back(pattern);
            const Method m = methods[next() % std::size(methods)];
            router.add(m, pattern, ok);
            OracleRoute r{m, {}};
            for (std::string& seg : oracle_split(pattern)) {
                r.segments.push_back(seg.size() >= 2 && seg.front() == '{' && seg.back() == '}' ? "{}" : seg);
            }
            oracle.push_back(std::move(r));
        }
        for (int probe = 0; probe < 200; ++probe) {
            std::string path;
            switch (next() % 4) {
                case 0:  // a pattern with its parameters filled
                    path = patterns[next() % patterns.size()];
                    break;
                case 1:
                    path = random_path(path_pieces, 6);
                    break;
                case 2:
                    path = random_path(path_pieces, 20);
                    break;
                default: {
                    path = patterns[next() % patterns.size()];
                    if (!path.empty()) {
                        path.resize(next() % (path.size() + 1));  // a prefix of one
                    }
                }
            }
            const Method method = next() % 8 == 0 ? Method::kHead : methods[next() % std::size(methods)];
            Request req = make(method, path);
            const Router::Match got = router.match(req);
            const OracleMatch want = oracle_match(oracle, method, req.path());
            ASSERT_EQ(got.handler != nullptr, want.route >= 0) << path << " table " << table;
            EXPECT_EQ(req.route_id(), want.route >= 0 ? want.route : Request::kNoRoute) << path;
            EXPECT_EQ(got.allow, want.allow) << path;
            for (std::size_t i = 0; i < Request::kMaxParams; ++i) {
                EXPECT_EQ(req.path_param(i), i < want.params.size() ? want.params[i] : "") << path << " param " << i;
            }
            matched += want.route >= 0 ? 1 : 0;
            allowed += want.allow.empty() ? 0 : 1;
        }
    }
    EXPECT_GT(matched, 2000);  // hits, 405s and misses all exercised
    EXPECT_GT(allowed, 500);
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
    core::FakeClock clock;
    Router router(clock);
    router.add(Method::kPost, "/v1/playback/sessions", ok);
    router.add(Method::kGet, "/v1/playback/sessions", ok);
    Request put = make(Method::kPut, "/v1/playback/sessions");
    const auto m = router.match(put);
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_EQ(m.allow, "POST, GET, HEAD");
    Request head = make(Method::kHead, "/v1/playback/sessions");
    EXPECT_NE(router.match(head).handler, nullptr);  // HEAD is served by GET
    Request unknown = make(Method::kGet, "/nope");
    const auto none = router.match(unknown);
    EXPECT_EQ(none.handler, nullptr);
    EXPECT_TRUE(none.allow.empty());
}

// Routes are tried only among those of the path's segment count, still in the order they were
// added: where two patterns fit a path, the first added wins.
TEST(RouterTest, AmongRoutesThatFitTheFirstAddedWins) {
    core::FakeClock clock;
    Router router(clock);
    EXPECT_EQ(router.add(Method::kGet, "/a/{x}/c", ok), 0);
    EXPECT_EQ(router.add(Method::kGet, "/a/{x}", ok), 1);
    EXPECT_EQ(router.add(Method::kGet, "/a/b/c", ok), 2);
    EXPECT_EQ(router.add(Method::kGet, "/a/b", ok), 3);
    Request three = make(Method::kGet, "/a/b/c");
    ASSERT_NE(router.match(three).handler, nullptr);
    EXPECT_EQ(three.route_id(), 0);
    Request two = make(Method::kGet, "/a/b");
    ASSERT_NE(router.match(two).handler, nullptr);
    EXPECT_EQ(two.route_id(), 1);
    EXPECT_EQ(two.path_param(0), "b");
    std::string seventeen;
    for (int i = 0; i < 17; ++i) {
        seventeen += "/s";
    }
    router.add(Method::kGet, seventeen, ok);  // deeper than any path is split: never matches
    Request deep = make(Method::kGet, seventeen);
    EXPECT_EQ(router.match(deep).handler, nullptr);
}

TEST(RouterTest, AMatchTellsTheRequestWhichRouteItWas) {
    core::FakeClock clock;
    Router router(clock);
    EXPECT_EQ(router.add(Method::kPost, "/v1/playback/sessions", ok), 0);
    EXPECT_EQ(router.add(Method::kPost, "/v1/playback/sessions/{id}/heartbeat", ok), 1);
    EXPECT_EQ(router.add(Method::kGet, "/v1/playback/sessions", ok), 2);
    ASSERT_EQ(router.route_count(), 3U);
    EXPECT_EQ(router.route_pattern(1), "/v1/playback/sessions/{id}/heartbeat");
    EXPECT_EQ(router.route_method(2), Method::kGet);

    Request hb = make(Method::kPost, "/v1/playback/sessions/ps_1/heartbeat");
    EXPECT_EQ(hb.route_id(), Request::kNoRoute);
    ASSERT_NE(router.match(hb).handler, nullptr);
    EXPECT_EQ(hb.route_id(), 1);
    Request list = make(Method::kHead, "/v1/playback/sessions");
    ASSERT_NE(router.match(list).handler, nullptr);
    EXPECT_EQ(list.route_id(), 2);  // HEAD counts as the GET route it is served by
    Request put = make(Method::kPut, "/v1/playback/sessions");
    EXPECT_EQ(router.match(put).handler, nullptr);
    EXPECT_EQ(put.route_id(), Request::kNoRoute);  // 405: no route ran
    // A reused Request (keep-alive) starts without the previous request's route.
    hb.set_line(Method::kGet, "GET", "/nope");
    EXPECT_EQ(hb.route_id(), Request::kNoRoute);
}

Response teapot_page(int status, std::string_view code, std::string_view message, std::int64_t now_ms) {
    Response r;
    r.status = status;
    r.body = std::string(code) + "|" + std::string(message) + "|" + std::to_string(now_ms);
    return r;
}

TEST(RouterTest, NotFoundAndMethodNotAllowedUseTheInstalledErrorPage) {
    core::FakeClock clock;
    clock.set_wall_ms(1764000000123);
    Router router(clock);
    router.add(Method::kGet, "/a", ok);
    router.set_error_page(teapot_page);
    auto run = [&](Method m, std::string_view target) {
        Request req = make(m, target);
        boost::asio::io_context io;
        Response out;
        boost::asio::co_spawn(io, router.async_dispatch(req), [&](std::exception_ptr, Response r) { out = std::move(r); });
        io.run();
        return out;
    };
    const Response missing = run(Method::kGet, "/b");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body, "NOT_FOUND|Not found.|1764000000123");
    const Response wrong = run(Method::kPost, "/a");
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.body, "METHOD_NOT_ALLOWED|Method not allowed.|1764000000123");
    ASSERT_EQ(wrong.headers.size(), 1U);
    EXPECT_EQ(wrong.headers[0].second, "GET, HEAD");
    EXPECT_EQ(run(Method::kGet, "/a").status, 200);
}

TEST(ErrorResponseTest, TheDefaultPageMarksOnlyTryAgainStatusesRetryable) {
    EXPECT_NE(default_error_page(400, "INVALID_REQUEST", "x", 1).body.find(R"("retryable":false)"), std::string::npos);
    EXPECT_NE(default_error_page(500, "INTERNAL", "x", 1).body.find(R"("retryable":true)"), std::string::npos);
    EXPECT_NE(default_error_page(408, "REQUEST_TIMEOUT", "x", 1).body.find(R"("retryable":true)"), std::string::npos);
}

TEST(ErrorResponseTest, FollowsTheApiErrorModel) {
    const Response r = error_response(404, "NOT_FOUND", "Not \"found\".", false, 1764000000000);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, R"({"error":{"code":"NOT_FOUND","message":"Not \"found\".","retryable":false,"details":{}},"server_time_ms":1764000000000})");
}

}  // namespace
}  // namespace moneta::http
