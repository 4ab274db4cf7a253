// handlers::server_error_page: the errors libs/http_server makes itself answer from the one
// error table, with the status, code, message and retryable nginx uses for that status.
#include "handlers/server_errors.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "domain/api_error.hpp"
#include "domain/edge_errors.hpp"

namespace moneta::handlers {
namespace {

boost::json::object body_of(const http::Response& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return !ec && v.is_object() ? v.get_object() : boost::json::object{};
}

TEST(ServerErrorPageTest, EveryStatusTheServerMakesAnswersLikeTheEdge) {
    // What libs/http_server and the router send themselves (docs/http_server.md).
    for (const int status : {400, 404, 405, 408, 413, 414, 431, 500, 501, 505}) {
        SCOPED_TRACE(status);
        const domain::EdgeError* edge = domain::edge_error_answering(status);
        ASSERT_NE(edge, nullptr) << "nginx has no page for a status moneta's server sends";
        const http::Response r = server_error_page(status, "LIB_CODE", "What was wrong.", 1764000000000);
        EXPECT_EQ(r.status, status);
        const auto o = body_of(r);
        const domain::ApiErrorInfo& row = domain::info(edge->error);
        EXPECT_EQ(o.at("error").at("code").as_string(), row.code);
        EXPECT_EQ(o.at("error").at("message").as_string(), row.message);
        EXPECT_EQ(o.at("error").at("retryable").as_bool(), row.retryable);
        EXPECT_EQ(o.at("error").at("details").at("reason").as_string(), "What was wrong.");
        EXPECT_EQ(o.at("server_time_ms").as_int64(), 1764000000000);
    }
}

TEST(ServerErrorPageTest, TheLibrarysReasonIsEscapedAndAnUnknownStatusIs500) {
    const http::Response r = server_error_page(418, "TEAPOT", "bad \"quote\" \x01 \xff", 1);
    EXPECT_EQ(r.status, 500);
    const auto o = body_of(r);
    EXPECT_EQ(o.at("error").at("code").as_string(), "INTERNAL");
    EXPECT_EQ(o.at("error").at("details").at("reason").as_string(), "bad \"quote\" \x01 \xEF\xBF\xBD");
}

TEST(ServerErrorPageTest, RetryableUnavailableAnswersSayWhenToRetry) {
    const http::Response r = server_error_page(503, "UNAVAILABLE", "busy", 1);
    EXPECT_EQ(r.status, 503);
    ASSERT_EQ(r.headers.size(), 1U);
    EXPECT_EQ(r.headers[0].first, "Retry-After");
    EXPECT_TRUE(server_error_page(400, "X", "y", 1).headers.empty());
}

}  // namespace
}  // namespace moneta::handlers
