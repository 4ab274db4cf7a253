#include "moneta/core/hex.hpp"

#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace moneta::core {
namespace {

constexpr char kHex[] = "0123456789abcdef";

#if defined(__SSE2__)
/// The 32 digits of the 16 bytes at @p in.
void hex16(const std::uint8_t* in, char* out) noexcept {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
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
}
#endif

}  // namespace

void write_hex(std::span<const std::uint8_t> data, char* out) noexcept {
    std::size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= data.size(); i += 16) {
        hex16(data.data() + i, out + 2 * i);
    }
#endif
    for (; i < data.size(); ++i) {
        out[2 * i] = kHex[data[i] >> 4U];
        out[2 * i + 1] = kHex[data[i] & 0xFU];
    }
}

void write_hex(std::uint64_t v, char* out) noexcept {
    for (int i = 15; i >= 0; --i, v >>= 4U) {
        out[i] = kHex[v & 0xFU];
    }
}

std::string to_hex(std::span<const std::uint8_t> data) {
    std::string out(data.size() * 2, '\0');
    write_hex(data, out.data());
    return out;
}

}  // namespace moneta::core
