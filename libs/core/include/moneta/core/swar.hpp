/// @file moneta/core/swar.hpp
/// @brief Byte-class tests on eight bytes at once ("SIMD within a register"), for the scanners
/// that run over every request's bytes: HTTP head checks and JSON string escaping. A word that
/// passes is eight plain bytes; one that fails is re-read byte by byte, so the exact rule stays
/// in one scalar function next to each caller.
#pragma once

#include <cstdint>
#include <cstring>

namespace moneta::core::swar {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

/// The eight bytes at @p p (any alignment).
inline std::uint64_t load8(const char* p) noexcept {
    std::uint64_t w = 0;
    std::memcpy(&w, p, sizeof w);
    return w;
}

/// The four bytes at @p p (any alignment): the short tail of a compare done eight at a time.
inline std::uint32_t load4(const char* p) noexcept {
    std::uint32_t w = 0;
    std::memcpy(&w, p, sizeof w);
    return w;
}

/// Nonzero when some byte of @p w is below @p n (n <= 128). Exact as a whole-word answer; which
/// bit is set may be wrong after the first such byte (borrows), so callers only test != 0.
constexpr std::uint64_t any_below(std::uint64_t w, std::uint8_t n) noexcept {
    return (w - kOnes * n) & ~w & kHighs;
}

/// Nonzero when some byte of @p w equals @p b (same caveat as any_below).
constexpr std::uint64_t any_equal(std::uint64_t w, std::uint8_t b) noexcept {
    const std::uint64_t x = w ^ (kOnes * b);
    return (x - kOnes) & ~x & kHighs;
}

/// Nonzero when some byte of @p w is 0x80 or above.
constexpr std::uint64_t any_high(std::uint64_t w) noexcept { return w & kHighs; }

}  // namespace moneta::core::swar
