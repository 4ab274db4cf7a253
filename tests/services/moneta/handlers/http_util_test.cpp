// Issue 10: every retryable "try again later" error moneta builds says when (Retry-After), the
// 504 UPSTREAM_TIMEOUT included; nothing else carries it. Walks the whole ApiError table.
#include "handlers/http_util.hpp"

#include <gtest/gtest.h>

#include <string>

namespace moneta::handlers {
namespace {

std::vector<std::string> retry_after(const http::Response& r) {
    std::vector<std::string> out;
    for (const auto& [n, v] : r.headers) {
        if (n == "Retry-After") {
            out.push_back(v);
        }
    }
    return out;
}

TEST(HttpUtilTest, Every429And503And504CarriesRetryAfterAndNothingElseDoes) {
    int with_header = 0;
    for (int i = 0; i <= static_cast<int>(domain::ApiError::kInternal); ++i) {
        const auto e = static_cast<domain::ApiError>(i);
        const http::Response r = error(e, 1'764'000'000'000, "{}", 3);
        const auto& row = domain::info(e);
        if (row.status == 429 || row.status == 503 || row.status == 504) {
            EXPECT_EQ(retry_after(r), std::vector<std::string>{"3"}) << row.code;
            EXPECT_TRUE(row.retryable) << row.code;
            ++with_header;
        } else {
            EXPECT_TRUE(retry_after(r).empty()) << row.code;
        }
    }
    EXPECT_EQ(with_header, 4);  // RATE_LIMITED, UPSTREAM_UNAVAILABLE, OVERLOADED, UPSTREAM_TIMEOUT
    EXPECT_EQ(retry_after(error(domain::ApiError::kUpstreamTimeout, 0)), std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace moneta::handlers
