#include "moneta/core/request_context.hpp"

#include <gtest/gtest.h>

namespace moneta::core {
namespace {

TEST(RequestContextTest, RequestIdValidation) {
    EXPECT_TRUE(is_valid_request_id("abc-123_x.y:z"));
    EXPECT_TRUE(is_valid_request_id(std::string(128, 'a')));
    EXPECT_FALSE(is_valid_request_id(""));
    EXPECT_FALSE(is_valid_request_id(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_request_id("a b"));
    EXPECT_FALSE(is_valid_request_id("a\"b"));
    EXPECT_FALSE(is_valid_request_id("a\nb"));
    EXPECT_EQ(new_request_id().size(), 32U);
    EXPECT_TRUE(is_valid_request_id(new_request_id()));
}

TEST(RequestContextTest, TimeoutHeaderIsStrictDecimalInRange) {
    EXPECT_EQ(parse_timeout_ms("250"), std::chrono::milliseconds(250));
    EXPECT_EQ(parse_timeout_ms("600000"), std::chrono::milliseconds(600000));
    EXPECT_FALSE(parse_timeout_ms("0"));
    EXPECT_FALSE(parse_timeout_ms("600001"));
    EXPECT_FALSE(parse_timeout_ms("-5"));
    EXPECT_FALSE(parse_timeout_ms("1e3"));
    EXPECT_FALSE(parse_timeout_ms(" 5"));
    EXPECT_FALSE(parse_timeout_ms(""));
    EXPECT_FALSE(parse_timeout_ms("99999999999999999999"));
}

}  // namespace
}  // namespace moneta::core
