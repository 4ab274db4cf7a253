#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
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

// The RESP2 grammar as docs/redis_client.md states it, written the plain way (a byte at a time,
// std::from_chars), for the generated-replies test below: a reply's text, or nothing for bytes
// that are not exactly one reply (malformed, incomplete, or followed by more).
class PlainResp {
public:
    explicit PlainResp(std::string_view in) : in_(in) {}

    std::optional<std::string> whole() {
        auto t = value(0);
        if (!t || pos_ != in_.size()) {
            return std::nullopt;
        }
        return t;
    }

private:
    // The line after the type byte, up to its CRLF (none: not a reply).
    std::optional<std::string_view> line() {
        const std::size_t from = pos_ + 1;
        const std::size_t cr = in_.find('\r', from);
        if (cr == std::string_view::npos || cr + 1 >= in_.size() || in_[cr + 1] != '\n') {
            return std::nullopt;
        }
        pos_ = cr + 2;
        return in_.substr(from, cr - from);
    }
    static std::optional<std::int64_t> decimal(std::string_view s) {
        const std::string_view digits = !s.empty() && s[0] == '-' ? s.substr(1) : s;
        if (digits.empty() || (digits[0] == '0' && s.size() > 1)) {
            return std::nullopt;  // empty, a leading zero, "-0"
        }
        std::int64_t v = 0;
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size()) {
            return std::nullopt;
        }
        return v;
    }
    std::optional<std::string> value(int depth) {
        if (pos_ >= in_.size()) {
            return std::nullopt;
        }
        const char type = in_[pos_];
        const auto text = line();
        if (!text) {
            return std::nullopt;
        }
        switch (type) {
            case '+':
            case '-':
                if (text->find('\n') != std::string_view::npos) {
                    return std::nullopt;
                }
                return std::string(1, type) + std::string(*text);
            case ':': {
                const auto v = decimal(*text);
                return v ? std::optional<std::string>("i" + std::to_string(*v)) : std::nullopt;
            }
            case '$': {
                if (*text == "-1") {
                    return "nil";
                }
                const auto len = decimal(*text);
                if (!len || *len < 0 || static_cast<std::uint64_t>(*len) + 2 > in_.size() - pos_) {
                    return std::nullopt;
                }
                const std::string_view body = in_.substr(pos_, static_cast<std::size_t>(*len));
                pos_ += static_cast<std::size_t>(*len);
                if (in_.substr(pos_, 2) != "\r\n") {
                    return std::nullopt;
                }
                pos_ += 2;
                return "s" + std::string(body);
            }
            case '*': {
                if (*text == "-1") {
                    return "nil";
                }
                const auto n = decimal(*text);
                if (!n || *n < 0 || depth + 1 > 7) {
                    return std::nullopt;
                }
                std::string out = "[";
                for (std::int64_t i = 0; i < *n; ++i) {
                    const auto e = value(depth + 1);
                    if (!e) {
                        return std::nullopt;
                    }
                    out += *e + ",";
                }
                return out + "]";
            }
            default: return std::nullopt;
        }
    }

    std::string_view in_;
    std::size_t pos_ = 0;
};

// A parsed reply in PlainResp's notation.
std::string plain_text(const ReplyView& r) {
    switch (r.type()) {
        case ReplyType::kNil: return "nil";
        case ReplyType::kInteger: return "i" + std::to_string(*r.as_integer());
        case ReplyType::kString: return "s" + std::string(r.as_string_view());
        case ReplyType::kStatus: return "+" + std::string(r.as_string_view());
        case ReplyType::kError: return "-" + std::string(r.error_message());
        case ReplyType::kArray: {
            std::string out = "[";
            for (std::size_t i = 0; i < r.size(); ++i) {
                out += plain_text(r[i]) + ",";
            }
            return out + "]";
        }
    }
    return "?";
}

// The parser's fast paths (an array's integers and bulk strings read in its own loop; numbers
// eight digits at a time) against PlainResp over generated replies shaped like a script's:
// arrays of integers and bulk strings of every width 0-20 digits (leading zeros, signs, one
// byte off a digit, the 18- and 19-digit edges), nils, statuses, nested arrays; each whole, cut
// short at every byte, and with one byte changed. Same value, or refused alike.
TEST(ReplyTest, GeneratedRepliesParseAsThePlainGrammarSays) {
    std::mt19937 rng(7);
    const auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    const auto number = [&](bool allow_sign) {
        std::string d;
        const std::size_t width = pick(21);
        for (std::size_t i = 0; i < width; ++i) {
            d.push_back(static_cast<char>('0' + pick(10)));
        }
        if (!d.empty() && pick(4) != 0 && d.size() > 1 && d[0] == '0') {
            d[0] = static_cast<char>('1' + pick(9));  // mostly canonical
        }
        if (allow_sign && pick(5) == 0) {
            d.insert(0, "-");
        }
        if (!d.empty() && pick(12) == 0) {
            d[pick(d.size())] = static_cast<char>("/:a "[pick(4)]);  // one byte next to the digits
        }
        return d;
    };
    std::function<std::string(int)> element = [&](int depth) -> std::string {
        switch (pick(depth < 2 ? 7 : 6)) {
            case 0:
            case 1: return ":" + number(true) + "\r\n";
            case 2: {
                const std::size_t len = pick(25);
                std::string body(len, 'x');
                for (char& c : body) {
                    c = static_cast<char>("ab\r\n09:$"[pick(8)]);
                }
                return "$" + (pick(10) == 0 ? number(true) : std::to_string(len)) + "\r\n" + body + "\r\n";
            }
            case 3: {
                const std::string n = std::to_string(1'000'000'000'000 + static_cast<std::int64_t>(rng()) * 997);
                return "$" + std::to_string(n.size()) + "\r\n" + n + "\r\n";  // a time as text
            }
            case 4: return pick(2) == 0 ? "$-1\r\n" : "*-1\r\n";
            case 5: return pick(2) == 0 ? "+OK\r\n" : "-ERR x\r\n";
            default: {
                const std::size_t n = pick(8);
                std::string out = "*" + std::to_string(n) + "\r\n";
                for (std::size_t i = 0; i < n; ++i) {
                    out += element(depth + 1);
                }
                return out;
            }
        }
    };
    const auto check = [](const std::string& wire) {
        const auto expected = PlainResp(wire).whole();
        const auto got = Reply::from_resp(wire);
        ASSERT_EQ(got.has_value(), expected.has_value()) << testing::PrintToString(wire);
        if (got) {
            ASSERT_EQ(plain_text(got->view()), *expected) << testing::PrintToString(wire);
        }
    };
    int parsed = 0;
    for (int round = 0; round < 4000; ++round) {
        const std::size_t n = pick(9);
        std::string wire = "*" + std::to_string(n) + "\r\n";
        for (std::size_t i = 0; i < n; ++i) {
            wire += element(1);
        }
        check(wire);
        parsed += PlainResp(wire).whole().has_value() ? 1 : 0;
        for (std::size_t cut = 0; cut < wire.size(); cut += 1 + pick(3)) {
            check(wire.substr(0, cut));
        }
        std::string changed = wire;
        changed[pick(changed.size())] = static_cast<char>("0123456789:$*-+\r\nx"[pick(18)]);
        check(changed);
    }
    EXPECT_GT(parsed, 1000);  // the generator makes valid replies too, not only refusals
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
