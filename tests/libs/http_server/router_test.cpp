#include "moneta/http/router.hpp"

#include <gtest/gtest.h>

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

TEST(ErrorResponseTest, FollowsTheApiErrorModel) {
    const Response r = error_response(404, "NOT_FOUND", "Not \"found\".", false, 1764000000000);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, R"({"error":{"code":"NOT_FOUND","message":"Not \"found\".","retryable":false,"details":{}},"server_time_ms":1764000000000})");
}

}  // namespace
}  // namespace moneta::http
