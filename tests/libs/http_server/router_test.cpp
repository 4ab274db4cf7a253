#include "moneta/http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

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
