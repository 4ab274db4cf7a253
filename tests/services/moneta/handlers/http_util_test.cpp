// Issue 10: every retryable "try again later" error moneta builds says when (Retry-After), the
// 504 UPSTREAM_TIMEOUT included; nothing else carries it. Walks the whole ApiError table.
#include "handlers/http_util.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// The media type is compared without case (RFC 9110 §8.3.1), its parameters ignored; anything
// else, including a near miss, is not JSON.
TEST(HttpUtilTest, JsonContentTypeIgnoresCaseAndParametersOnly) {
    const auto is_json = [](const char* type) {
        http::Request req;
        if (type != nullptr) {
            req.mutable_headers().push_back({"Content-Type", type});
        }
        return has_json_content_type(req);
    };
    for (const char* yes : {"application/json", "APPLICATION/JSON", "Application/Json; charset=utf-8",
                            "application/json ;charset=utf-8", "application/json\t"}) {
        EXPECT_TRUE(is_json(yes)) << yes;
    }
    for (const char* no : {"application/jsonp", "application/jso", "text/json", "application/json-seq",
                           "application/xjson", "", static_cast<const char*>(nullptr)}) {
        EXPECT_FALSE(is_json(no)) << (no == nullptr ? "(none)" : no);
    }
}

// The sixteen-byte "application/json" is compared as two words: every byte value at every
// position, in lower and upper case, must get the answer of a plain case-insensitive compare.
TEST(HttpUtilTest, JsonContentTypeAsWordsAgreesWithAByteCompare) {
    const auto byte_compare = [](std::string_view v) {
        const auto semi = v.find(';');
        v = v.substr(0, semi);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
            v.remove_suffix(1);
        }
        constexpr std::string_view kJson = "application/json";
        if (v.size() != kJson.size()) {
            return false;
        }
        for (std::size_t i = 0; i < v.size(); ++i) {
            const char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] + 32) : v[i];
            if (c != kJson[i]) {
                return false;
            }
        }
        return true;
    };
    int matches = 0;
    for (const std::string base : {"application/json", "APPLICATION/JSON"}) {
        for (std::size_t at = 0; at < base.size(); ++at) {
            for (int b = 0; b < 256; ++b) {
                std::string type = base;
                type[at] = static_cast<char>(b);
                http::Request req;
                req.mutable_headers().push_back({"Content-Type", type});
                const bool want = byte_compare(type);
                EXPECT_EQ(has_json_content_type(req), want) << "byte " << b << " at " << at << " of " << base;
                matches += want ? 1 : 0;
            }
        }
    }
    EXPECT_EQ(matches, 2 * (15 * 2 + 1));  // each of the 15 letters in either case, the '/' itself
}

}  // namespace
}  // namespace moneta::handlers
