#include "domain/api_error.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace moneta::domain {
namespace {

TEST(ApiErrorTest, TableMatchesTheContract) {
    EXPECT_EQ(info(ApiError::kInvalidRequest).status, 400);
    EXPECT_EQ(info(ApiError::kTokenExpired).code, "TOKEN_EXPIRED");
    EXPECT_EQ(info(ApiError::kStreamLimitReached).status, 403);
    EXPECT_EQ(info(ApiError::kSessionEvicted).status, 409);
    EXPECT_EQ(info(ApiError::kNoCompatibleStream).status, 406);
    EXPECT_EQ(info(ApiError::kUpstreamTimeout).status, 504);
    EXPECT_EQ(info(ApiError::kUpstreamUnavailable).code, "UPSTREAM_UNAVAILABLE");
    EXPECT_TRUE(info(ApiError::kRateLimited).retryable);
    EXPECT_FALSE(info(ApiError::kGeoBlocked).retryable);
    EXPECT_EQ(info(ApiError::kInternal).status, 500);
}

TEST(ApiErrorTest, BodyFollowsTheErrorModel) {
    const std::string body =
        error_body(ApiError::kStreamLimitReached, 1764000000000, R"({"active_sessions":[]})");
    const auto v = boost::json::parse(body).as_object();
    const auto& e = v.at("error").as_object();
    EXPECT_EQ(e.at("code").as_string(), "STREAM_LIMIT_REACHED");
    EXPECT_FALSE(e.at("message").as_string().empty());
    EXPECT_EQ(e.at("retryable").as_bool(), false);
    EXPECT_TRUE(e.at("details").as_object().contains("active_sessions"));
    EXPECT_EQ(v.at("server_time_ms").as_int64(), 1764000000000);
}

}  // namespace
}  // namespace moneta::domain
