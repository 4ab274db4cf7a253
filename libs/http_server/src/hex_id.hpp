/// @file libs/http_server/src/hex_id.hpp
/// @brief Sixteen bytes as 32 lower-case hex digits: the request id the server makes for a
/// request that brings none (build_context in server.cpp). With SSE2 all 32 digits in a few
/// vector steps (a table lookup per nibble was ~130 instructions per request); a table elsewhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace moneta::http::detail {

/// Writes the 32 hex digits of @p in, high nibble first, to @p out (32 bytes, not terminated).
inline void hex_lower(const std::array<std::uint8_t, 16>& in, char* out) noexcept {
#if defined(__SSE2__)
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data()));
    const __m128i low_nibbles = _mm_set1_epi8(0x0F);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), low_nibbles);
    const __m128i lo = _mm_and_si128(b, low_nibbles);
    // '0' + n, and 39 more ('a' - '0' - 10) for n over 9.
    const auto digits = [](__m128i n) {
        const __m128i letters = _mm_and_si128(_mm_cmpgt_epi8(n, _mm_set1_epi8(9)), _mm_set1_epi8(39));
        return _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')), letters);
    };
    // Each byte's high nibble, then its low one: bytes 0-7, then 8-15.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), digits(_mm_unpacklo_epi8(hi, lo)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), digits(_mm_unpackhi_epi8(hi, lo)));
#else
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < in.size(); ++i) {
        out[2 * i] = kHex[in[i] >> 4U];
        out[2 * i + 1] = kHex[in[i] & 0xFU];
    }
#endif
}

}  // namespace moneta::http::detail
