// start → heartbeat → stop through nginx against real redis-server, internal_api and moneta,
// asserting responses, /metrics deltas and the Redis state; plus the api.md error codes and
// bad input of every kind.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <csignal>
#include <filesystem>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "moneta/jwt/verifier.hpp"
#include "moneta/testing/playback.hpp"
#include "moneta/testing/stack.hpp"
#include "moneta/testing/support.hpp"
#include "moneta/testing/wait.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta {
namespace {

using namespace std::chrono_literals;
using testing::HttpHeaders;
using testing::HttpReply;

boost::json::object parse(const HttpReply& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return !ec && v.is_object() ? v.get_object() : boost::json::object{};
}

std::string code_of(const HttpReply& r) {
    const auto o = parse(r);
    if (!o.contains("error")) {
        return "";
    }
    EXPECT_TRUE(o.contains("server_time_ms")) << r.body;
    return std::string(o.at("error").at("code").as_string());
}

class StackTest : public testing::SharedStackTest<StackTest> {
public:
    static testing::StackOptions options() { return {}; }
};

TEST_F(StackTest, StartHeartbeatStopThroughNginx) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    const double granted0 = s.metric("moneta_playback_starts_total", "result=\"granted\"");
    const double created0 = s.metric("moneta_http_requests_total", "route=\"start\",code=\"201\"");

    const HttpReply start = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "tv-main"), tok);
    ASSERT_EQ(start.status, 201) << start.body;
    const auto body = parse(start);
    const std::string sid(body.at("session_id").as_string());
    EXPECT_TRUE(std::regex_match(sid, std::regex("ps_[A-Za-z0-9_-]{24}")));
    EXPECT_EQ(body.at("content").at("id").as_string(), "m_1");
    EXPECT_EQ(body.at("limits").at("max_concurrent_streams").as_int64(), 4);
    EXPECT_EQ(body.at("lease").at("heartbeat_interval_sec").as_int64(), 30);
    const std::int64_t expires = body.at("lease").at("expires_at_ms").as_int64();
    EXPECT_NEAR(static_cast<double>(expires - body.at("server_time_ms").as_int64()), 90'000, 1);
    EXPECT_EQ(start.header("X-Request-Id")->size(), 32U);  // nginx's id, echoed by moneta
    EXPECT_EQ(s.metric("moneta_playback_starts_total", "result=\"granted\"") - granted0, 1);
    EXPECT_EQ(s.metric("moneta_http_requests_total", "route=\"start\",code=\"201\"") - created0, 1);
    // Redis: the lease, the session info and the device index.
    EXPECT_EQ(s.redis_cmd({"ZSCORE", testing::account_key("lease:", "a_1"), sid}), std::to_string(expires));
    EXPECT_NE(s.redis_cmd({"HGET", testing::account_key("sess:", "a_1"), sid}).find("\"device_id\":\"tv-main\""), std::string::npos);
    EXPECT_EQ(s.redis_cmd({"HGET", testing::account_key("dev:", "a_1"), "tv-main"}), sid);

    const HttpReply hb = s.call("POST", "/v1/playback/sessions/" + sid + "/heartbeat",
                                R"({"position_sec":1902.5,"state":"playing","seq":17})", tok);
    ASSERT_EQ(hb.status, 200) << hb.body;
    const auto hbo = parse(hb);
    EXPECT_EQ(hbo.at("action").as_string(), "continue");
    EXPECT_TRUE(hbo.at("reason").is_null());
    EXPECT_GE(hbo.at("lease_expires_at_ms").as_int64(), expires);
    EXPECT_EQ(s.redis_cmd({"ZSCORE", testing::account_key("lease:", "a_1"), sid}), std::to_string(hbo.at("lease_expires_at_ms").as_int64()));

    const HttpReply stop = s.call("POST", "/v1/playback/sessions/" + sid + "/stop",
                                  R"({"position_sec":2011.0,"reason":"user","seq":18})", tok);
    EXPECT_EQ(stop.status, 204);
    EXPECT_TRUE(stop.body.empty());
    EXPECT_EQ(s.redis_cmd({"ZSCORE", testing::account_key("lease:", "a_1"), sid}), "(nil)");
    EXPECT_EQ(s.redis_cmd({"HGET", testing::account_key("dev:", "a_1"), "tv-main"}), "(nil)");
    // Stop is idempotent; a heartbeat afterwards finds nothing.
    EXPECT_EQ(s.call("POST", "/v1/playback/sessions/" + sid + "/stop", R"({"position_sec":2011.0,"reason":"user","seq":19})", tok).status, 204);
    const HttpReply gone = s.call("POST", "/v1/playback/sessions/" + sid + "/heartbeat",
                                  R"({"position_sec":1,"state":"playing","seq":20})", tok);
    EXPECT_EQ(gone.status, 404);
    EXPECT_EQ(code_of(gone), "SESSION_NOT_FOUND");
}

TEST_F(StackTest, WarmStartMakesZeroInternalApiCallsAndTwoRedisRoundTrips) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_standard", "p_standard");
    ASSERT_EQ(s.call("POST", "/v1/playback/sessions", testing::start_body("m_hdr", "warm-dev"), tok).status, 201);  // warms the cache
    // Reads only: write-behind upserts of earlier tests may land in this window.
    auto reads = [&] { return s.internal_api_calls("account") + s.internal_api_calls("content") + s.internal_api_calls("progress_read"); };
    const double api0 = reads();
    const double moneta_api0 = s.metric("moneta_internal_api_requests_total");
    const double rt0 = s.metric("moneta_redis_round_trips_total");
    const HttpReply warm = s.call("POST", "/v1/playback/sessions", testing::start_body("m_hdr", "warm-dev"), tok);
    ASSERT_EQ(warm.status, 201) << warm.body;
    EXPECT_EQ(reads() - api0, 0);
    EXPECT_EQ(s.metric("moneta_internal_api_requests_total") - moneta_api0, 0);
    EXPECT_EQ(s.metric("moneta_redis_round_trips_total") - rt0, 2);  // GET pipeline + lease script

    const std::string sid(parse(warm).at("session_id").as_string());
    const double rt1 = s.metric("moneta_redis_round_trips_total");
    ASSERT_EQ(s.call("POST", "/v1/playback/sessions/" + sid + "/heartbeat", R"({"position_sec":5,"state":"paused","seq":1})", tok).status, 200);
    EXPECT_EQ(s.metric("moneta_redis_round_trips_total") - rt1, 1);
}

// Billing events invalidate the cached entitlement (DEL ent:). A heartbeat never waits for the
// internal API, but it starts a background reload so the next heartbeat judges fresh data.
TEST_F(StackTest, HeartbeatReloadsAnInvalidatedEntitlementInTheBackground) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    const HttpReply start = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "tv-reload"), tok);
    ASSERT_EQ(start.status, 201) << start.body;
    const std::string sid(parse(start).at("session_id").as_string());
    ASSERT_EQ(s.redis_cmd({"DEL", testing::account_key("ent:", "a_1")}), "1");
    const double reloads0 = s.metric("moneta_entitlement_refreshes_total");
    const double account_calls0 = s.internal_api_calls("account");
    const HttpReply hb = s.call("POST", "/v1/playback/sessions/" + sid + "/heartbeat",
                                R"({"position_sec":10,"state":"playing","seq":1})", tok);
    ASSERT_EQ(hb.status, 200) << hb.body;
    EXPECT_EQ(parse(hb).at("action").as_string(), "continue");
    EXPECT_EQ(s.metric("moneta_entitlement_refreshes_total") - reloads0, 1);
    EXPECT_TRUE(testing::wait_until([&] { return s.redis_cmd({"EXISTS", testing::account_key("ent:", "a_1")}) == "1"; }, 10s,
                                    "the account cached again"));
    EXPECT_EQ(s.internal_api_calls("account") - account_calls0, 1);
    EXPECT_EQ(s.call("POST", "/v1/playback/sessions/" + sid + "/stop", R"({"position_sec":11,"reason":"user","seq":2})", tok).status, 204);
}

// An entitlement past its soft TTL (cache.account_ttl_ms, 10 min) is still served, and the
// heartbeat reloads it in the background: revocations are seen within the soft TTL even though
// the Redis key lives for the hard staleness bound (docs/resilience.md "Fallbacks").
TEST_F(StackTest, HeartbeatRefreshesAnEntitlementPastItsSoftTtl) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    const HttpReply start = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "tv-soft"), tok);
    ASSERT_EQ(start.status, 201) << start.body;
    const std::string sid(parse(start).at("session_id").as_string());
    const std::string cached = s.redis_cmd({"GET", testing::account_key("ent:", "a_1")});
    const auto bar = cached.find('|');
    ASSERT_NE(bar, std::string::npos) << cached;
    const std::int64_t fetched = std::stoll(cached.substr(0, bar));
    const std::string old = std::to_string(fetched - 11 * 60 * 1000) + cached.substr(bar);  // 11 min old
    ASSERT_EQ(s.redis_cmd({"SET", testing::account_key("ent:", "a_1"), old, "PX", "3600000"}), "OK");
    // The heartbeat judges the entitlement digest written with the account: age it the same way.
    const std::string digest = s.redis_cmd({"GET", testing::account_key("entd:", "a_1")});
    const auto dbar = digest.find('|');
    ASSERT_NE(dbar, std::string::npos) << digest;
    ASSERT_EQ(std::stoll(digest.substr(0, dbar)), fetched);
    ASSERT_EQ(s.redis_cmd({"SET", testing::account_key("entd:", "a_1"), old.substr(0, old.find('|')) + digest.substr(dbar), "PX", "3600000"}),
              "OK");
    const double calls0 = s.internal_api_calls("account");
    const HttpReply hb = s.call("POST", "/v1/playback/sessions/" + sid + "/heartbeat",
                                R"({"position_sec":3,"state":"playing","seq":1})", tok);
    ASSERT_EQ(hb.status, 200) << hb.body;  // served from the stale entry, never waiting
    EXPECT_TRUE(testing::wait_until(
        [&] {
            const std::string now = s.redis_cmd({"GET", testing::account_key("ent:", "a_1")});
            return now.size() > bar && std::stoll(now.substr(0, now.find('|'))) >= fetched;
        },
        10s, "the entitlement refreshed"));
    EXPECT_EQ(s.internal_api_calls("account") - calls0, 1);
}

// Runtime control on the admin port (docs/resilience.md "Runtime control"): forcing a breaker open
// refuses the calls it guards at once (503 UPSTREAM_UNAVAILABLE + Retry-After, nothing sent) while
// warm requests keep working; "normal" restores it. Bad names and bodies get 404/400.
TEST_F(StackTest, AdminPortSwitchesBreakerModesAtRuntime) {
    testing::Stack& s = *stack_;
    const HttpReply list = s.call_admin("GET", "/admin/breakers");
    ASSERT_EQ(list.status, 200);
    const auto breakers = parse(list).at("breakers").as_array();
    ASSERT_EQ(breakers.size(), 5U);
    EXPECT_EQ(breakers[4].at("name").as_string(), "redis");

    const std::string tok = s.token("a_1", "p_1");
    ASSERT_EQ(s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "admin-dev"), tok).status, 201);  // warm
    const HttpReply forced = s.call_admin("PUT", "/admin/breakers/internal_api.content", R"({"mode":"forced_open"})");
    ASSERT_EQ(forced.status, 200) << forced.body;
    EXPECT_EQ(parse(forced).at("mode").as_string(), "forced_open");
    EXPECT_EQ(s.metric("moneta_circuit_breaker_mode", "breaker=\"internal_api.content\",mode=\"forced_open\""), 1);

    const double content_calls0 = s.internal_api_calls("content");
    const HttpReply cold = s.call("POST", "/v1/playback/sessions", testing::start_body("m_clear", "admin-dev"), tok);
    EXPECT_EQ(cold.status, 503) << cold.body;
    EXPECT_EQ(code_of(cold), "UPSTREAM_UNAVAILABLE");
    EXPECT_EQ(cold.header("Retry-After").value_or(""), "1");
    EXPECT_EQ(s.internal_api_calls("content") - content_calls0, 0);  // refused locally
    EXPECT_GE(s.metric("moneta_circuit_breaker_short_circuits_total", "breaker=\"internal_api.content\",reason=\"forced_open\""), 1);
    // A warm title is served from Redis: the kill switch costs nothing there.
    EXPECT_EQ(s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "admin-dev"), tok).status, 201);

    EXPECT_EQ(s.call_admin("PUT", "/admin/breakers/internal_api.content", R"({"mode":"normal"})").status, 200);
    const HttpReply after = s.call("POST", "/v1/playback/sessions", testing::start_body("m_clear", "admin-dev"), tok);
    EXPECT_NE(after.status, 503) << after.body;
    EXPECT_EQ(s.redis_cmd({"EXISTS", "content:{c:m_clear}"}), "1");

    EXPECT_EQ(s.call_admin("PUT", "/admin/breakers/nope", R"({"mode":"normal"})").status, 404);
    for (const char* bad : {R"({"mode":"sideways"})", R"({"mode":"normal","x":1})", "[]", "{", R"({"mode":1})"}) {
        EXPECT_EQ(s.call_admin("PUT", "/admin/breakers/redis", bad).status, 400) << bad;
    }
    EXPECT_EQ(testing::http_call(s.moneta_port(), "GET", "/admin/breakers").status, 404);  // admin port only
}

// The exposition passes Prometheus' own linter (names, types, HELP, units, histogram shape).
TEST_F(StackTest, MetricsPassPromtoolCheck) {
    testing::Stack& s = *stack_;
    const HttpReply metrics = testing::http_call(s.admin_port(), "GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    const auto file = s.dir() / "metrics.txt";
    std::ofstream(file) << metrics.body;
    auto check = testing::Process::spawn({"/bin/sh", "-c", "promtool check metrics < " + file.string()}, {},
                                         s.dir() / "promtool.log");
    ASSERT_TRUE(check) << check.error().message();
    const auto status = check->wait_exit(60s);
    ASSERT_TRUE(status.has_value()) << "promtool did not finish";
    EXPECT_EQ(*status, 0) << check->read_log();
}

TEST_F(StackTest, StreamLimitReplacementAndEviction) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_basic", "p_basic");  // basic plan: one stream
    const HttpReply first = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "phone"), tok);
    ASSERT_EQ(first.status, 201) << first.body;
    const std::string first_sid(parse(first).at("session_id").as_string());

    const HttpReply second = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "tablet"), tok);
    ASSERT_EQ(second.status, 403);
    EXPECT_EQ(code_of(second), "STREAM_LIMIT_REACHED");
    const auto active = parse(second).at("error").at("details").at("active_sessions").as_array();
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(active[0].at("session_id").as_string(), first_sid);
    EXPECT_EQ(active[0].at("device_type").as_string(), "tv");
    EXPECT_EQ(active[0].at("content_id").as_string(), "m_1");
    EXPECT_TRUE(active[0].at("last_seen_ms").is_int64());

    // The same device restarting replaces its own lease; the old session is then evicted.
    const HttpReply again = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "phone"), tok);
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_EQ(parse(again).at("limits").at("active_streams").as_int64(), 1);
    const HttpReply evicted = s.call("POST", "/v1/playback/sessions/" + first_sid + "/heartbeat",
                                     R"({"position_sec":1,"state":"playing","seq":1})", tok);
    EXPECT_EQ(evicted.status, 409);
    EXPECT_EQ(code_of(evicted), "SESSION_EVICTED");
    EXPECT_EQ(s.redis_cmd({"ZCARD", testing::account_key("lease:", "a_basic")}), "1");
}

TEST_F(StackTest, EntitlementAndContentChecksInContractOrder) {
    testing::Stack& s = *stack_;
    struct Case {
        std::string sub, pid, content;
        HttpHeaders headers;
        int status;
        std::string code;
    };
    const std::vector<Case> cases = {
        {"a_expired", "p_expired", "m_1", {}, 403, "SUBSCRIPTION_REQUIRED"},
        {"a_suspended", "p_suspended", "m_1", {}, 403, "SUBSCRIPTION_REQUIRED"},
        {"a_nobody", "p_x", "m_1", {}, 403, "SUBSCRIPTION_REQUIRED"},
        {"a_basic", "p_2", "m_1", {}, 403, "PROFILE_NOT_IN_ACCOUNT"},
        {"a_1", "p_1", "m_nope", {}, 404, "CONTENT_NOT_FOUND"},
        {"a_1", "p_1", "m_future", {}, 403, "NOT_AVAILABLE_YET"},
        {"a_1", "p_1", "m_gone", {}, 403, "NO_LONGER_AVAILABLE"},
        {"a_1", "p_1", "m_geo_jp", {}, 403, "GEO_BLOCKED"},
        {"a_us", "p_us", "m_1", {}, 403, "GEO_BLOCKED"},
        {"a_1", "p_1", "m_1", {{"CloudFront-Viewer-Country", "US"}}, 403, "GEO_BLOCKED"},
        // A client-sent X-Viewer-Country never reaches moneta: the CDN's header decides.
        {"a_1", "p_1", "m_1", {{"CloudFront-Viewer-Country", "US"}, {"X-Viewer-Country", "KR"}}, 403, "GEO_BLOCKED"},
        {"a_1", "p_1", "m_geo_jp", {{"CloudFront-Viewer-Country", "JP"}}, 201, ""},
        {"a_basic", "p_basic", "m_premium", {}, 403, "PLAN_NOT_ELIGIBLE"},
        {"a_1", "p_2", "m_adult", {}, 403, "PARENTAL_CONTROL"},
    };
    for (const Case& c : cases) {
        const HttpReply r = s.call("POST", "/v1/playback/sessions", testing::start_body(c.content, "checks-" + c.sub), s.token(c.sub, c.pid), c.headers);
        EXPECT_EQ(r.status, c.status) << c.sub << " " << c.content << ": " << r.body;
        EXPECT_EQ(code_of(r), c.code) << c.sub << " " << c.content;
    }
}

// Only a request that came through the CDN (the CDN's secret origin header, which Stack::call
// adds as CloudFront would) gets its CloudFront-Viewer-Country believed by nginx; a client that
// reaches nginx directly cannot choose its country (docs/edge.md "CDN trust").
TEST_F(StackTest, ViewerCountryCountsOnlyThroughTheCdn) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    const HttpHeaders jp{{"CloudFront-Viewer-Country", "JP"}};
    const HttpReply direct = s.call_edge_direct("POST", "/v1/playback/sessions", testing::start_body("m_geo_jp", "cdn-dev"), tok, jp);
    EXPECT_EQ(direct.status, 403) << direct.body;
    EXPECT_EQ(code_of(direct), "GEO_BLOCKED");
    HttpHeaders wrong = jp;
    wrong.emplace_back("X-Origin-Verify", s.cdn_origin_secret() + "x");
    const HttpReply guessed = s.call_edge_direct("POST", "/v1/playback/sessions", testing::start_body("m_geo_jp", "cdn-dev"), tok, wrong);
    EXPECT_EQ(guessed.status, 403) << guessed.body;
    const HttpReply via_cdn = s.call("POST", "/v1/playback/sessions", testing::start_body("m_geo_jp", "cdn-dev"), tok, jp);
    EXPECT_EQ(via_cdn.status, 201) << via_cdn.body;
}

// Each process gets only the secrets it needs, as ./dev up hands them out (scripts/stack.sh;
// tests/deploy/dev checks the script itself): moneta its own, internal_api its token, Redis and
// nginx none in their environment (theirs are in 0600 config files).
// Issue 12: a refused start is counted under its api.md code; a start's Redis script and the
// cold content's internal-API fetch land in the dependency-latency histograms.
TEST_F(StackTest, StartRefusalsByCodeAndDependencyLatencyAreCounted) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    const double not_found0 = s.metric("moneta_playback_start_refusals_total", "code=\"CONTENT_NOT_FOUND\"");
    const double limit0 = s.metric("moneta_playback_start_refusals_total", "code=\"STREAM_LIMIT_REACHED\"");
    const double content_calls0 =
        s.metric("moneta_internal_api_request_duration_seconds_count", "resource=\"content\"");
    const HttpReply missing = s.call("POST", "/v1/playback/sessions", testing::start_body("m_does_not_exist", "tv-refused"), tok);
    ASSERT_EQ(missing.status, 404) << missing.body;
    EXPECT_EQ(code_of(missing), "CONTENT_NOT_FOUND");
    EXPECT_EQ(s.metric("moneta_playback_start_refusals_total", "code=\"CONTENT_NOT_FOUND\""), not_found0 + 1);
    EXPECT_EQ(s.metric("moneta_playback_start_refusals_total", "code=\"STREAM_LIMIT_REACHED\""), limit0);
    // The unknown content was a cache miss: one exchange with the internal API, timed.
    EXPECT_EQ(s.metric("moneta_internal_api_request_duration_seconds_count", "resource=\"content\""),
              content_calls0 + 1);

    const double scripts0 = s.metric("moneta_redis_request_duration_seconds_count", "operation=\"script\"") +
                            s.metric("moneta_redis_request_duration_seconds_count", "operation=\"pipeline\"");
    // A start of a known title runs the lease script whatever it answers: 201, or 403 when the
    // other tests left a_1 at its stream limit (then counted under STREAM_LIMIT_REACHED).
    const double limit1 = s.metric("moneta_playback_start_refusals_total", "code=\"STREAM_LIMIT_REACHED\"");
    const HttpReply start = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "tv-latency"), tok);
    ASSERT_TRUE(start.status == 201 || start.status == 403) << start.body;
    EXPECT_GT(s.metric("moneta_redis_request_duration_seconds_count", "operation=\"script\"") +
                  s.metric("moneta_redis_request_duration_seconds_count", "operation=\"pipeline\""),
              scripts0);
    EXPECT_GT(s.metric("moneta_redis_request_duration_seconds_sum"), 0);
    EXPECT_EQ(s.metric("moneta_redis_connections_expected"), s.metric("moneta_redis_connected"));
    if (start.status == 403) {
        EXPECT_EQ(code_of(start), "STREAM_LIMIT_REACHED");
        EXPECT_EQ(s.metric("moneta_playback_start_refusals_total", "code=\"STREAM_LIMIT_REACHED\""), limit1 + 1);
    } else {
        const auto stop = s.call("POST",
                                 "/v1/playback/sessions/" + std::string(parse(start).at("session_id").as_string()) + "/stop",
                                 R"({"position_sec":1,"reason":"user","seq":1})", tok);
        EXPECT_EQ(stop.status, 204) << stop.body;
    }
}

TEST_F(StackTest, EachProcessHoldsOnlyItsOwnSecrets) {
    testing::Stack& s = *stack_;
    const std::map<std::string, std::string> secrets = {
        {"MONETA_JWT_SECRET", s.jwt_secret()},
        {"MONETA_REDIS_PASSWORD", s.redis_password()},
        {"MONETA_EDGE_TOKEN", s.edge_token()},
        {"MONETA_ADMIN_TOKEN", s.admin_token()},
    };
    const auto moneta = testing::proc_environ(s.moneta_pid());
    ASSERT_FALSE(moneta.empty());
    for (const auto& [name, value] : secrets) {
        EXPECT_EQ(moneta.count(name) == 1 ? moneta.at(name) : "(unset)", value) << name;
    }
    EXPECT_EQ(moneta.count("INTERNAL_API_TOKEN"), 1U);
    const auto internal_api = testing::proc_environ(s.internal_api_pid());
    ASSERT_FALSE(internal_api.empty());
    EXPECT_EQ(internal_api.count("INTERNAL_API_TOKEN"), 1U);
    for (const pid_t pid : {s.internal_api_pid(), s.redis_pid(), s.nginx_pid()}) {
        SCOPED_TRACE(pid);
        const auto env = testing::proc_environ(pid);
        // redis-server writes its process title over its environ area, so /proc shows nothing
        // there; nginx does the same only in master mode (the Stack runs it as one process).
        ASSERT_TRUE(!env.empty() || pid == s.redis_pid());
        for (const auto& [name, value] : secrets) {
            EXPECT_EQ(env.count(name), 0U) << name;
            for (const auto& [k, v] : env) {
                EXPECT_EQ(v.find(value), std::string::npos) << name << " leaked into " << k;
            }
        }
        const auto cmdline = testing::read_file("/proc/" + std::to_string(pid) + "/cmdline");
        EXPECT_EQ(cmdline.find(s.redis_password()), std::string::npos) << cmdline;
        EXPECT_EQ(cmdline.find(s.edge_token()), std::string::npos) << cmdline;
    }
    // Redis wants the password; moneta (which is ready, so connected) has it.
    const auto noauth = testing::raw_exchange(s.redis().port(), "PING\r\n", 300ms);
    EXPECT_EQ(noauth.rfind("-NOAUTH", 0), 0U) << noauth;
    EXPECT_EQ(s.redis_cmd({"PING"}), "PONG");
    EXPECT_EQ(testing::http_call(s.moneta_port(), "GET", "/readyz").status, 200);
}

TEST_F(StackTest, BadInputGetsTheDocumentedErrorAndNeverHurtsTheServer) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    auto check = [&](const HttpReply& r, int status, const std::string& code) {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(code_of(r), code) << r.body;
    };
    check(s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "d"), ""), 401, "TOKEN_MISSING");
    check(s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "d"), "not.a.token"), 401, "TOKEN_INVALID");
    check(s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "d"), s.token("a_1", "p_1", -120)), 401, "TOKEN_EXPIRED");
    auto forged = jwt::Signer::hs256("dev", std::string(40, 'x'));
    check(s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "d"), forged->sign(R"({"sub":"a_1","pid":"p_1","exp":9999999999})")), 401, "TOKEN_INVALID");
    check(s.call("POST", "/v1/playback/sessions", "{bad json", tok), 400, "INVALID_REQUEST");
    check(s.call("POST", "/v1/playback/sessions", R"({"content_id":5})", tok), 400, "INVALID_REQUEST");
    check(s.call("POST", "/v1/playback/sessions", R"({"content_id":"m_1","device":{"id":"d","type":"fridge"},"capabilities":{"protocols":["dash"],"max_height":1080}})", tok), 400, "INVALID_REQUEST");
    check(testing::http_call(s.edge_port(), "POST", "/v1/playback/sessions", testing::start_body("m_1", "d"),
                             {{"Authorization", "Bearer " + tok}, {"Content-Type", "text/plain"}}), 415, "UNSUPPORTED_MEDIA_TYPE");
    check(s.call("POST", "/v1/playback/sessions", std::string(20000, 'x'), tok), 413, "PAYLOAD_TOO_LARGE");
    check(s.call("POST", "/v1/playback/sessions/ps_x/heartbeat", R"({"position_sec":-5,"state":"playing","seq":1})", tok), 400, "INVALID_REQUEST");
    check(s.call("GET", "/admin", "", tok), 404, "NOT_FOUND");
    check(s.call("GET", "/v1/playback/nothing-here", "", tok), 404, "NOT_FOUND");
    const HttpReply wrong_method = s.call("PUT", "/v1/playback/sessions", "{}", tok);
    check(wrong_method, 405, "METHOD_NOT_ALLOWED");
    EXPECT_EQ(wrong_method.header("Allow"), "POST, GET, HEAD");
    check(s.call("GET", "/v1/playback/%2e%2e/x", "", tok), 404, "NOT_FOUND");
    // Straight to moneta (no nginx): the app's own strictness.
    EXPECT_EQ(testing::http_call(s.moneta_port(), "GET", "/v1/playback/../healthz").status, 400);
    EXPECT_EQ(testing::parse_http_reply(testing::raw_exchange(s.moneta_port(),
        "POST /v1/playback/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 2s))->status, 400);
    // Still healthy, and the token never appears in moneta's logs.
    EXPECT_EQ(testing::http_call(s.moneta_port(), "GET", "/healthz").status, 200);
    const std::string log = s.moneta_log();
    EXPECT_FALSE(log.empty());
    EXPECT_EQ(log.find(tok), std::string::npos);
    EXPECT_EQ(log.find(s.jwt_secret()), std::string::npos);
}

// One error table for both hops (issue 11): a request the HTTP layer itself refuses gets, from
// moneta directly, the status, code, message and retryable nginx answers it with; what exactly
// was wrong is in details.reason. And requests are counted under the route the router matched.
TEST_F(StackTest, TheServersOwnErrorsAndRouteLabelsComeFromTheOneTable) {
    testing::Stack& s = *stack_;
    const auto refused = [](std::uint16_t port) {
        testing::HttpConnection c(port);
        EXPECT_TRUE(c.send_raw("POST /v1/playback/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"));
        return c.read_reply(5s);
    };
    const HttpReply direct = refused(s.moneta_port());
    const HttpReply edge = refused(s.edge_port());
    ASSERT_EQ(direct.status, 501) << direct.body;
    ASSERT_EQ(edge.status, 501) << edge.body;
    const auto d = parse(direct).at("error").as_object();
    const auto e = parse(edge).at("error").as_object();
    EXPECT_EQ(d.at("code"), e.at("code"));
    EXPECT_EQ(d.at("code").as_string(), "INVALID_REQUEST");
    EXPECT_EQ(d.at("message"), e.at("message"));
    EXPECT_EQ(d.at("retryable"), e.at("retryable"));
    EXPECT_EQ(d.at("details").at("reason").as_string(), "Unsupported Transfer-Encoding.");

    const auto other_404 = [&] { return s.metric("moneta_http_requests_total", "route=\"other\",code=\"404\""); };
    const auto heartbeat_404 = [&] {
        return s.metric("moneta_http_requests_total", "route=\"heartbeat\",code=\"404\"");
    };
    const double other0 = other_404();
    const double hb0 = heartbeat_404();
    const HttpReply missing = s.call_moneta("GET", "/v1/nope", "", "");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(code_of(missing), "NOT_FOUND");
    EXPECT_EQ(parse(missing).at("error").at("message").as_string(), "Not found.");

    const std::string tok = s.token("a_1", "p_1");
    EXPECT_EQ(s.call_moneta("POST", "/v1/playback/sessions/ps_nosuchsession/heartbeat",
                            R"({"position_sec":1,"state":"playing","seq":1})", tok)
                  .status,
              404);
    // A request is counted after its response is written (the access hook), so a scrape right
    // after the reply can come first: wait for the counts, then check they are exact.
    EXPECT_TRUE(testing::wait_until([&] { return other_404() - other0 >= 1 && heartbeat_404() - hb0 >= 1; }, 5s,
                                    "the two 404s counted"));
    EXPECT_EQ(other_404() - other0, 1);
    EXPECT_EQ(heartbeat_404() - hb0, 1);
}

// Log rotation the way logrotate (without copytruncate) or an operator does it: rename the file,
// send SIGHUP. moneta keeps serving, opens a new file under the same name and writes its next
// lines there; the renamed file keeps what was written before. Last in the suite, and it puts
// the file back, because the other tests read the log by its name.
TEST_F(StackTest, SighupReopensTheLogFileAfterARenameAndKeepsServing) {
    testing::Stack& s = *stack_;
    namespace fs = std::filesystem;
    const fs::path log = s.dir() / "moneta.json.log";
    const fs::path rotated = s.dir() / "moneta.json.log.1";
    const auto count = [](const std::string& text, std::string_view what) {
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
            ++n;
        }
        return n;
    };
    ASSERT_TRUE(fs::exists(log));
    fs::rename(log, rotated);
    ASSERT_EQ(::kill(s.moneta_pid(), SIGHUP), 0);
    ASSERT_TRUE(testing::wait_until(
        [&] { return fs::exists(log) && count(testing::read_file(log), "\"log file reopened\"") == 1; }, 10s,
        "a new log file with the reopen line"));
    EXPECT_EQ(count(testing::read_file(rotated), "\"log file reopened\""), 0U);
    EXPECT_NE(testing::read_file(rotated).find("\"moneta started\""), std::string::npos);

    // Still serving, and the access line of this request lands in the new file.
    const HttpReply r = s.call_moneta("GET", "/v1/rotation-probe", "", "");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(testing::wait_until(
        [&] { return testing::read_file(log).find("/v1/rotation-probe") != std::string::npos; }, 10s,
        "the access line in the new file"));
    EXPECT_EQ(testing::read_file(rotated).find("/v1/rotation-probe"), std::string::npos);

    // Back to one file for anything that reads the log after this test.
    fs::rename(log, s.dir() / "moneta.json.log.2");
    fs::rename(rotated, log);
    ASSERT_EQ(::kill(s.moneta_pid(), SIGHUP), 0);
    EXPECT_TRUE(testing::wait_until(
        [&] { return count(testing::read_file(log), "\"log file reopened\"") == 1; }, 10s, "reopened again"));
}

}  // namespace
}  // namespace moneta
