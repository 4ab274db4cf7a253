// hex_lower: the server's request ids, sixteen bytes as 32 lower-case hex digits, against the
// one-nibble-at-a-time table it replaced: every byte value at every position, and random ids.
#include "hex_id.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>

namespace moneta::http::detail {
namespace {

std::string by_table(const std::array<std::uint8_t, 16>& in) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : in) {
        out += kHex[b >> 4U];
        out += kHex[b & 0xFU];
    }
    return out;
}

std::string by_hex_lower(const std::array<std::uint8_t, 16>& in) {
    std::string out(34, '!');  // guard bytes: exactly 32 are written
    hex_lower(in, out.data() + 1);
    EXPECT_EQ(out.front(), '!');
    EXPECT_EQ(out.back(), '!');
    return out.substr(1, 32);
}

TEST(HexIdTest, EveryByteAtEveryPositionAsTheTableWritesIt) {
    for (std::size_t at = 0; at < 16; ++at) {
        for (int b = 0; b < 256; ++b) {
            std::array<std::uint8_t, 16> in{};
            in.fill(static_cast<std::uint8_t>(at * 17));
            in[at] = static_cast<std::uint8_t>(b);
            ASSERT_EQ(by_hex_lower(in), by_table(in)) << "byte " << b << " at " << at;
        }
    }
}

TEST(HexIdTest, RandomIdsAsTheTableWritesThem) {
    std::mt19937_64 rng(11);
    for (int i = 0; i < 10000; ++i) {
        std::array<std::uint8_t, 16> in{};
        for (auto& b : in) {
            b = static_cast<std::uint8_t>(rng());
        }
        ASSERT_EQ(by_hex_lower(in), by_table(in));
    }
    EXPECT_EQ(by_hex_lower({0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}),
              "0123456789abcdeffedcba9876543210");
}

}  // namespace
}  // namespace moneta::http::detail
