#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "moneta/redis/reply.hpp"

namespace moneta::redis {
namespace {

// Parses exactly one reply from @p wire with the parser the client's reader uses (the
// streaming side is in reply_reader_test.cpp).
Reply parse(std::string_view wire) {
    auto r = Reply::from_resp(wire);
    EXPECT_TRUE(r.has_value()) << "not one complete reply: " << wire;
    return r ? std::move(*r) : Reply{};
}

TEST(ReplyTest, ParsesNilBulkString) {
    const auto r = parse("$-1\r\n");
    EXPECT_EQ(r.type(), ReplyType::kNil);
    EXPECT_TRUE(r.is_nil());
    EXPECT_EQ(r.as_string_view(), "");
    EXPECT_EQ(r.to_string(), "(nil)");
}

TEST(ReplyTest, ParsesIntegers) {
    const auto r = parse(":-42\r\n");
    EXPECT_TRUE(r.is_integer());
    EXPECT_EQ(r.as_integer(), -42);
    EXPECT_EQ(r.to_int64(), -42);
    EXPECT_EQ(r.as_string_view(), "");
    EXPECT_EQ(r.to_string(), "(integer) -42");
}

TEST(ReplyTest, ParsesBinarySafeBulkStrings) {
    const auto r = parse(std::string_view("$7\r\na\r\nb\0cd\r\n", 13));
    EXPECT_TRUE(r.is_string());
    EXPECT_EQ(r.as_string_view(), std::string_view("a\r\nb\0cd", 7));
    EXPECT_EQ(r.as_integer(), std::nullopt);
    EXPECT_EQ(r.to_int64(), std::nullopt);
    EXPECT_EQ(parse("$0\r\n\r\n").as_string_view(), "");
    EXPECT_TRUE(parse("$0\r\n\r\n").is_string());
}

TEST(ReplyTest, ConvertsDecimalBulkStringsToIntegers) {
    EXPECT_EQ(parse("$3\r\n123\r\n").to_int64(), 123);
    EXPECT_EQ(parse("$2\r\n-7\r\n").to_int64(), -7);
    EXPECT_EQ(parse("$3\r\n12x\r\n").to_int64(), std::nullopt);
    EXPECT_EQ(parse("$0\r\n\r\n").to_int64(), std::nullopt);
}

TEST(ReplyTest, ParsesStatusReplies) {
    const auto r = parse("+OK\r\n");
    EXPECT_TRUE(r.is_status());
    EXPECT_FALSE(r.is_error());
    EXPECT_EQ(r.as_string_view(), "OK");
    EXPECT_EQ(r.error_message(), "");
}

TEST(ReplyTest, ParsesErrorRepliesAndMatchesTheirPrefix) {
    const auto r = parse("-NOSCRIPT No matching script. Please use EVAL.\r\n");
    EXPECT_TRUE(r.is_error());
    EXPECT_EQ(r.error_message(), "NOSCRIPT No matching script. Please use EVAL.");
    EXPECT_TRUE(r.is_error_with_prefix("NOSCRIPT"));
    EXPECT_FALSE(r.is_error_with_prefix("NOSCRIPTX"));
    EXPECT_FALSE(r.is_error_with_prefix("NOSCR"));
    EXPECT_FALSE(parse("+NOSCRIPT\r\n").is_error_with_prefix("NOSCRIPT"));
    EXPECT_TRUE(parse("-WRONGTYPE\r\n").is_error_with_prefix("WRONGTYPE"));
}

TEST(ReplyTest, ParsesNestedArraysWithMixedElements) {
    const auto r = parse("*4\r\n$1\r\na\r\n:2\r\n$-1\r\n*2\r\n+x\r\n-ERR e\r\n");
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.size(), 4U);
    EXPECT_EQ(r[0].as_string_view(), "a");
    EXPECT_EQ(r[1].as_integer(), 2);
    EXPECT_TRUE(r[2].is_nil());
    ASSERT_TRUE(r[3].is_array());
    EXPECT_EQ(r[3].size(), 2U);
    EXPECT_TRUE(r[3][0].is_status());
    EXPECT_TRUE(r[3][1].is_error());
    EXPECT_TRUE(r[4].is_nil());  // out of range is nil, not UB
    EXPECT_TRUE(r[0][0].is_nil());  // indexing a non-array is nil
    EXPECT_EQ(r.to_string(), "[\"a\", (integer) 2, (nil), [x, (error) ERR e]]");
}

TEST(ReplyTest, ParsesEmptyAndNilArrays) {
    const auto empty = parse("*0\r\n");
    EXPECT_TRUE(empty.is_array());
    EXPECT_EQ(empty.size(), 0U);
    EXPECT_TRUE(parse("*-1\r\n").is_nil());
}

TEST(ReplyTest, MovesOwnershipWithoutCopying) {
    Reply a = parse("$5\r\nhello\r\n");
    const char* bytes = a.as_string_view().data();
    Reply b(std::move(a));
    EXPECT_TRUE(a.is_nil());  // NOLINT(bugprone-use-after-move): documented moved-from state
    EXPECT_EQ(b.as_string_view().data(), bytes);
    Reply c;
    c = std::move(b);
    EXPECT_EQ(c.as_string_view(), "hello");
    c = parse(":1\r\n");  // the previous tree is freed (ASan would report a leak)
    EXPECT_EQ(c.as_integer(), 1);
}

TEST(ReplyTest, FromRespParsesExactlyOneCompleteReply) {
    auto ok = Reply::from_resp("*2\r\n$1\r\na\r\n:7\r\n");
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)[1].as_integer(), 7);
    EXPECT_FALSE(Reply::from_resp(""));
    EXPECT_FALSE(Reply::from_resp("$5\r\nab"));            // incomplete
    EXPECT_FALSE(Reply::from_resp("*2\r\n:1\r\n"));       // incomplete aggregate
    EXPECT_FALSE(Reply::from_resp(":1\r\n:2\r\n"));       // two replies
    EXPECT_FALSE(Reply::from_resp(":1\r\n:"));             // trailing partial reply
    EXPECT_FALSE(Reply::from_resp("?garbage\r\n"));        // not RESP
    EXPECT_EQ(Reply::from_resp("+OK\r\n")->as_string_view(), "OK");
}

// Fuzz finding (fuzz/regressions/redis_reply), from the hiredis days: 13 bytes claiming
// 268435455 elements made hiredis allocate 2 GiB. Our parser refuses a length over the bound,
// and below it waits for the bytes before reserving anything (reply_reader_test.cpp).
TEST(ReplyTest, AnArrayLongerThanTheBoundIsAProtocolError) {
    const std::string over = "*" + std::to_string((1 << 20) + 1) + "\r\n";
    EXPECT_FALSE(Reply::from_resp(over + ":1\r\n").has_value());
    EXPECT_FALSE(Reply::from_resp("*1\r\n" + over + ":1\r\n").has_value());  // nested too
    EXPECT_FALSE(Reply::from_resp("*2147483647\r\n").has_value());
    const auto three = Reply::from_resp("*3\r\n:1\r\n:2\r\n:3\r\n");
    ASSERT_TRUE(three.has_value());
    EXPECT_EQ(three->size(), 3U);
}

TEST(ReplyTest, RejectsWhatRedisNeverSends) {
    for (const std::string_view bad : {
             "+OK\n",               // LF without CR
             "+O\rK\r\n",          // CR without LF
             "+a\nb\r\n",          // LF inside a status line
             ":12a\r\n",           // not a decimal
             ":\r\n",              // empty integer
             ":+1\r\n",            // sign RESP does not use
             ":-0\r\n",            // not canonical
             ":007\r\n",
             "$03\r\nabc\r\n",
             ":9223372036854775808\r\n",  // int64 overflow
             "$-2\r\n",            // negative length other than -1
             "$3\r\nabcd\r\n",     // bulk not followed by CRLF
             "$3\r\nab\r\n\r\n",   // the same, other way round
             "$ 3\r\nabc\r\n",     // spaces in a length
             "*-2\r\n",
             "*-0\r\n",            // a length is digits or -1, nothing else
             "$-0\r\n\r\n",
             "*1\r\n?\r\n",        // unknown type byte inside an array
             "_\r\n",              // RESP3 null
             ",1.5\r\n",           // RESP3 double
             "%1\r\n+a\r\n+b\r\n",  // RESP3 map
             "#t\r\n",             // RESP3 boolean
         }) {
        EXPECT_FALSE(Reply::from_resp(bad).has_value()) << bad;
    }
    EXPECT_EQ(Reply::from_resp(":-9223372036854775808\r\n")->as_integer(), INT64_MIN);
    EXPECT_EQ(Reply::from_resp(":9223372036854775807\r\n")->as_integer(), INT64_MAX);
}

// Integers, lengths and counts of 1-18 digits are read in one pass with their CRLF; longer ones
// and signed ones the general way: both give the same values and the same refusals.
TEST(ReplyTest, NumbersOfEveryWidthParseTheSameEitherWay) {
    std::string digits;
    std::int64_t value = 0;
    for (int width = 1; width <= 19; ++width) {
        digits.push_back(width % 10 == 0 ? '7' : static_cast<char>('0' + width % 10));  // 1234567897123…
        value = value * 10 + (digits.back() - '0');
        EXPECT_EQ(Reply::from_resp(":" + digits + "\r\n")->as_integer(), value) << digits;
        EXPECT_EQ(Reply::from_resp(":-" + digits + "\r\n")->as_integer(), -value) << digits;
        EXPECT_FALSE(Reply::from_resp(":0" + digits + "\r\n").has_value()) << digits;  // a leading zero
        EXPECT_FALSE(Reply::from_resp(":" + digits + "\n").has_value()) << digits;
        EXPECT_FALSE(Reply::from_resp(":" + digits + "\rx").has_value()) << digits;
        EXPECT_FALSE(Reply::from_resp("$" + digits + "\r\n").has_value()) << digits;  // bytes not there
    }
    EXPECT_EQ(Reply::from_resp(":0\r\n")->as_integer(), 0);
    EXPECT_EQ(Reply::from_resp("$0\r\n\r\n")->as_string_view(), "");
    EXPECT_TRUE(Reply::from_resp("*0\r\n")->is_array());
    EXPECT_EQ(Reply::from_resp("$12\r\nhello world!\r\n")->as_string_view(), "hello world!");
    EXPECT_EQ(Reply::from_resp("*2\r\n:1\r\n$1\r\nx\r\n")->size(), 2U);
    for (const std::string_view bad : {":00\r\n", "$00\r\n\r\n", "*00\r\n", "*01\r\n:1\r\n", "$1\r\nab\r\n"}) {
        EXPECT_FALSE(Reply::from_resp(bad).has_value()) << bad;
    }
}

TEST(ReplyTest, BoundsTheNestingDepth) {
    auto nested = [](int depth) {
        std::string s;
        for (int i = 0; i < depth; ++i) {
            s += "*1\r\n";
        }
        return s + ":1\r\n";
    };
    const auto seven = Reply::from_resp(nested(7));
    ASSERT_TRUE(seven.has_value());
    EXPECT_EQ((*seven)[0][0][0][0][0][0][0].as_integer(), 1);
    EXPECT_FALSE(Reply::from_resp(nested(8)).has_value());
    EXPECT_FALSE(Reply::from_resp(nested(100000)).has_value());  // no deep recursion either
}

TEST(ReplyTest, NamesEveryType) {
    EXPECT_STREQ(reply_type_name(ReplyType::kArray), "array");
    EXPECT_STREQ(reply_type_name(ReplyType::kNil), "nil");
    EXPECT_STREQ(reply_type_name(ReplyType::kError), "error");
}

}  // namespace
}  // namespace moneta::redis
