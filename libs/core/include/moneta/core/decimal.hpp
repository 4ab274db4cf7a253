/// @file moneta/core/decimal.hpp
/// @brief Decimal text eight digits at a time, both ways. Writing: the same text as
/// std::to_chars, for the millisecond times every heartbeat writes (two in its response body, one
/// in its Redis call). Reading: the digit test and value of eight bytes, for the times every
/// heartbeat reads (its Redis reply, its entitlement digest). std::to_chars counts the digits first, then writes two at a time from a table, ~100
/// instructions for a 13-digit time; this converts eight digits with three multiplications
/// each and drops the leading zeros with one shift (~45).
#pragma once

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "moneta/core/swar.hpp"

namespace moneta::core {

namespace detail {

/// The eight decimal digits of @p n (< 10^8, leading zeros included) as ASCII in a word whose
/// lowest byte is the first digit: n splits into two 4-digit halves in 32-bit lanes, each into
/// two 2-digit 16-bit lanes, each into two digit bytes. q / 100 is (q * 10486) >> 20 for
/// q < 10^4 and r / 10 is (r * 103) >> 10 for r < 100; no lane's product reaches the next.
inline std::uint64_t eight_digits_ascii(std::uint32_t n) noexcept {
    std::uint64_t x = (n / 10000) | (static_cast<std::uint64_t>(n % 10000) << 32);
    const std::uint64_t hundreds = ((x * 10486) >> 20) & 0x0000007F0000007FULL;
    x = hundreds | ((x - hundreds * 100) << 16);
    const std::uint64_t tens = ((x * 103) >> 10) & 0x000F000F000F000FULL;
    x = tens | ((x - tens * 10) << 8);
    return x + 0x3030303030303030ULL;
}

}  // namespace detail

/// Bit 7 of each byte of the eight bytes of text @p w (first byte lowest) that is not an ASCII
/// digit; 0 when all eight are. Exact per byte (no sum below carries across a byte), so the
/// lowest set bit marks the first non-digit.
constexpr std::uint64_t non_digits(std::uint64_t w) noexcept {
    constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
    const std::uint64_t low = w & kLow7;
    const std::uint64_t at_least_0 = low + 0x5050505050505050ULL;  // bit 7 set: byte >= '0'
    const std::uint64_t above_9 = low + 0x4646464646464646ULL;      // bit 7 set: byte > '9'
    return (~at_least_0 | above_9 | w) & swar::kHighs;
}

/// The value of the first @p k (1-8) digit bytes of @p w (the first byte the most significant;
/// the bytes after them may be anything). The digits are moved to the top of the word so the
/// usual eight-digit reduction applies: pairs, then quads, then the two halves (three
/// multiplications instead of one per digit).
constexpr std::uint64_t digits_value(std::uint64_t w, unsigned k) noexcept {
    static_assert(std::endian::native == std::endian::little, "the first digit is the word's low byte");
    std::uint64_t d = w & 0x0F0F0F0F0F0F0F0FULL;  // each digit byte's value
    d <<= 8 * (8 - k);                             // k == 8: no shift; the low bytes become 0
    d = (d * 10) + (d >> 8);                       // pairs in bytes 1, 3, 5, 7
    d = (((d & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
         (((d >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
        32;
    return d;
}

/// Room write_decimal() needs at @p out, whatever it returns.
inline constexpr std::size_t kDecimalRoom = 20;

/// Writes the decimal text of @p v at @p out and returns its end: exactly std::to_chars's text.
/// Needs kDecimalRoom bytes at @p out: the bytes between the returned end and out + 16 may be
/// written too (whole eight-byte stores).
inline char* write_decimal(char* out, std::int64_t v) noexcept {
    static_assert(std::endian::native == std::endian::little, "the digit words are stored low byte first");
    constexpr std::int64_t kEightDigits = 100'000'000;
    if (v < 0 || v >= kEightDigits * kEightDigits) {
        return std::to_chars(out, out + kDecimalRoom, v).ptr;  // negative or over 16 digits: rare
    }
    const auto u = static_cast<std::uint64_t>(v);
    const auto high = static_cast<std::uint32_t>(u / kEightDigits);
    const auto low = static_cast<std::uint32_t>(u % kEightDigits);
    // The first word without its leading zeros (the digit bytes minus '0' are zero there);
    // a zero value keeps its last digit.
    const std::uint64_t first = detail::eight_digits_ascii(high != 0 ? high : low);
    const std::uint64_t digits = first - 0x3030303030303030ULL;
    const int skip = digits == 0 ? 7 : std::countr_zero(digits) / 8;
    const std::uint64_t shifted = first >> (8 * skip);
    std::memcpy(out, &shifted, 8);
    out += 8 - skip;
    if (high == 0) {
        return out;
    }
    const std::uint64_t second = detail::eight_digits_ascii(low);
    std::memcpy(out, &second, 8);
    return out + 8;
}

}  // namespace moneta::core
