// Hex writing: the SSE2 steps and the table tail against a nibble-at-a-time table, every byte
// value at every position of every length from 0 to 40 (none, part of a block, one block, a
// block and a tail, two blocks and a tail), exactly 2n bytes written; the 64-bit form against
// std::format's; reading one digit.
#include "moneta/core/hex.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace moneta::core {
namespace {

std::string by_table(const std::vector<std::uint8_t>& in) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : in) {
        out += kDigits[b >> 4U];
        out += kDigits[b & 0xFU];
    }
    return out;
}

/// write_hex into a buffer with guard bytes on both sides: exactly 2n bytes may change.
std::string by_write_hex(const std::vector<std::uint8_t>& in) {
    std::string out(2 * in.size() + 2, '!');
    write_hex(in, out.data() + 1);
    EXPECT_EQ(out.front(), '!');
    EXPECT_EQ(out.back(), '!');
    return out.substr(1, 2 * in.size());
}

TEST(HexTest, EveryByteAtEveryPositionOfEveryLengthAsTheTableWritesIt) {
    for (std::size_t n = 0; n <= 40; ++n) {
        for (std::size_t at = 0; at < n; ++at) {
            for (int b = 0; b < 256; ++b) {
                std::vector<std::uint8_t> in(n, static_cast<std::uint8_t>(at * 17 + n));
                in[at] = static_cast<std::uint8_t>(b);
                ASSERT_EQ(by_write_hex(in), by_table(in)) << "byte " << b << " at " << at << " of " << n;
            }
        }
        std::string a5s;
        for (std::size_t i = 0; i < n; ++i) {
            a5s += "a5";
        }
        EXPECT_EQ(to_hex(std::vector<std::uint8_t>(n, 0xA5)), a5s);
    }
}

TEST(HexTest, RandomInputsAsTheTableWritesThem) {
    std::mt19937_64 rng(11);
    for (int i = 0; i < 10000; ++i) {
        std::vector<std::uint8_t> in(rng() % 70);
        for (auto& b : in) {
            b = static_cast<std::uint8_t>(rng());
        }
        ASSERT_EQ(by_write_hex(in), by_table(in));
        ASSERT_EQ(to_hex(in), by_table(in));
    }
    EXPECT_EQ(to_hex(std::vector<std::uint8_t>{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc,
                                               0xba, 0x98, 0x76, 0x54, 0x32, 0x10}),
              "0123456789abcdeffedcba9876543210");
    EXPECT_EQ(to_hex(std::vector<std::uint8_t>{0x00, 0xAB, 0x0F, 0xF0}), "00ab0ff0");
}

TEST(HexTest, SixtyFourBitsMostSignificantFirst) {
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> values = {0, 1, 0xF, 0x10, 0xFFFFFFFFFFFFFFFFULL, 0x0123456789ABCDEFULL};
    for (int i = 0; i < 1000; ++i) {
        values.push_back(rng() >> (rng() % 64));
    }
    for (const std::uint64_t v : values) {
        char expected[17];
        std::snprintf(expected, sizeof expected, "%016llx", static_cast<unsigned long long>(v));
        std::string out(18, '!');
        write_hex(v, out.data() + 1);
        EXPECT_EQ(out.front(), '!');
        EXPECT_EQ(out.back(), '!');
        EXPECT_EQ(out.substr(1, 16), expected) << v;
    }
}

TEST(HexTest, ReadsOneDigit) {
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        int expected = -1;
        if (ch >= '0' && ch <= '9') {
            expected = ch - '0';
        } else if (ch >= 'a' && ch <= 'f') {
            expected = ch - 'a' + 10;
        } else if (ch >= 'A' && ch <= 'F') {
            expected = ch - 'A' + 10;
        }
        EXPECT_EQ(hex_value(ch), expected) << c;
    }
}

}  // namespace
}  // namespace moneta::core
