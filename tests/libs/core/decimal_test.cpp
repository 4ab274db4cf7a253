// write_decimal (eight digits at a time, leading zeros dropped with a shift) against
// std::to_chars: every digit count, every power of ten and its neighbours, the int64 edges, the
// 16-digit switch to to_chars, and random values of every width; nothing written past the room.
// The reading side: non_digits exact for every byte value at every position, digits_value
// against a digit loop for every length 1-8 with any bytes after the digits.
#include "moneta/core/decimal.hpp"

#include <gtest/gtest.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace moneta::core {
namespace {

std::string reference(std::int64_t v) {
    char buf[24];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// The text, checked against to_chars, and the bytes after the room untouched.
void expect_same(std::int64_t v) {
    std::array<char, kDecimalRoom + 8> buf{};
    buf.fill('#');
    char* end = write_decimal(buf.data(), v);
    ASSERT_EQ(std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())), reference(v)) << v;
    for (std::size_t i = kDecimalRoom; i < buf.size(); ++i) {
        ASSERT_EQ(buf[i], '#') << v;
    }
}

TEST(DecimalTest, EveryPowerOfTenAndItsNeighboursReadAsToChars) {
    std::vector<std::int64_t> values = {0, 1, 9, std::numeric_limits<std::int64_t>::max(),
                                        std::numeric_limits<std::int64_t>::min(), -1, -10};
    std::int64_t p = 1;
    for (int digits = 1; digits <= 18; ++digits) {
        p *= 10;
        for (const std::int64_t d : {-2, -1, 0, 1, 2}) {
            values.push_back(p + d);
            values.push_back(-(p + d));
            values.push_back(p / 10 * 9 + d);  // 9…9x
        }
    }
    for (const std::int64_t v : values) {
        expect_same(v);
    }
}

TEST(DecimalTest, EveryValueBelowAMillionAndRandomValuesOfEveryWidthReadAsToChars) {
    for (std::int64_t v = 0; v < 1'000'000; ++v) {
        expect_same(v);
    }
    std::mt19937_64 rng(5);
    for (int i = 0; i < 200'000; ++i) {
        const int shift = static_cast<int>(rng() % 64);
        const auto v = static_cast<std::int64_t>(rng() >> shift);
        expect_same(v);
        expect_same(v % 10'000'000'000'000'000);  // dense in the 13-16 digit range
        expect_same(1'765'000'000'000 + static_cast<std::int64_t>(rng() % 1'000'000'000'000));  // ms times
    }
}

// Each eight-digit word: every value with digits in every position and zeros between them.
TEST(DecimalTest, EightDigitWordsHoldTheirDigitsInOrder) {
    for (std::uint32_t n = 0; n < 100'000'000; n += 9'973) {
        const std::uint64_t w = detail::eight_digits_ascii(n);
        char text[9] = {};
        std::memcpy(text, &w, 8);
        char expected[9];
        std::snprintf(expected, sizeof expected, "%08u", static_cast<unsigned>(n));
        ASSERT_STREQ(text, expected) << n;
    }
}

TEST(DecimalTest, NonDigitsMarksExactlyTheBytesThatAreNotDigits) {
    for (int pos = 0; pos < 8; ++pos) {
        for (int b = 0; b < 256; ++b) {
            char text[8];
            std::memcpy(text, "01234567", 8);
            text[pos] = static_cast<char>(b);
            std::uint64_t w = 0;
            std::memcpy(&w, text, 8);
            const bool digit = b >= '0' && b <= '9';
            const std::uint64_t expected = digit ? 0 : std::uint64_t{0x80} << (8 * pos);
            ASSERT_EQ(non_digits(w), expected) << "byte " << b << " at " << pos;
        }
    }
}

TEST(DecimalTest, DigitsValueReadsTheFirstKDigitsWhateverFollows) {
    std::mt19937_64 gen(11);
    for (int round = 0; round < 20000; ++round) {
        char text[8];
        const unsigned k = 1 + static_cast<unsigned>(gen() % 8);
        std::uint64_t expected = 0;
        for (unsigned i = 0; i < 8; ++i) {
            if (i < k) {
                text[i] = static_cast<char>('0' + gen() % 10);
                expected = expected * 10 + static_cast<std::uint64_t>(text[i] - '0');
            } else {
                text[i] = static_cast<char>(gen());  // anything: a separator, more digits, garbage
            }
        }
        std::uint64_t w = 0;
        std::memcpy(&w, text, 8);
        ASSERT_EQ(digits_value(w, k), expected) << std::string_view(text, k);
    }
}

}  // namespace
}  // namespace moneta::core
