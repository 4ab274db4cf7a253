#include "moneta/core/json_escape.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "moneta/core/swar.hpp"

namespace moneta::core {
namespace {

// 1: the byte is copied unchanged in the fast loop (printable ASCII other than `"` and `\`).
constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x7F; ++c) {
        t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    }
    return t;
}();

/// How many leading bytes of @p s are plain (kPlain): sixteen at a time with SSE2, then eight
/// (SWAR), then one. Every string of every access line and response body passes here; the SWAR
/// loop alone cost ~100 instructions per string of an access line (docs/performance.md,
/// eleventh round).
std::size_t plain_prefix(std::string_view s) noexcept {
    namespace sw = swar;
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i del = _mm_set1_epi8(0x7F);
    for (; i + 16 <= s.size(); i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        // Plain: v >= 0x20 (unsigned: max(v, 0x20) == v), not a quote, backslash or DEL, and below 0x80
        // (the sign bit, which movemask reads straight from v).
        const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                             _mm_cmpeq_epi8(v, del));
        const int not_low = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, space), v));
        const int bad = (~not_low & 0xFFFF) | _mm_movemask_epi8(special) | _mm_movemask_epi8(v);
        if (bad != 0) {
            return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(bad)));
        }
    }
#endif
    for (; i + 8 <= s.size(); i += 8) {
        const std::uint64_t w = sw::load8(s.data() + i);
        if ((sw::any_below(w, 0x20) | sw::any_equal(w, '"') | sw::any_equal(w, '\\') | sw::any_equal(w, 0x7F) |
             sw::any_high(w)) != 0) {
            break;
        }
    }
    while (i < s.size() && kPlain[static_cast<unsigned char>(s[i])]) {
        ++i;
    }
    return i;
}

constexpr bool is_continuation(unsigned char c) noexcept { return (c & 0xC0U) == 0x80U; }

}  // namespace

std::size_t utf8_sequence_length(std::string_view s) noexcept {
    if (s.empty()) {
        return 0;
    }
    const auto b = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(0);
    if (c < 0x80U) {
        return 1;
    }
    // Table 3-7 of the Unicode standard: the second byte's range depends on the first byte,
    // which is what rules out overlong forms, surrogates and code points above U+10FFFF.
    std::size_t len = 0;
    unsigned char lo = 0x80U;
    unsigned char hi = 0xBFU;
    if (c >= 0xC2U && c <= 0xDFU) {
        len = 2;
    } else if (c >= 0xE0U && c <= 0xEFU) {
        len = 3;
        lo = c == 0xE0U ? 0xA0U : 0x80U;
        hi = c == 0xEDU ? 0x9FU : 0xBFU;
    } else if (c >= 0xF0U && c <= 0xF4U) {
        len = 4;
        lo = c == 0xF0U ? 0x90U : 0x80U;
        hi = c == 0xF4U ? 0x8FU : 0xBFU;
    } else {
        return 0;  // 0x80-0xC1 (continuation or overlong lead) and 0xF5-0xFF
    }
    if (s.size() < len || b(1) < lo || b(1) > hi) {
        return 0;
    }
    for (std::size_t k = 2; k < len; ++k) {
        if (!is_continuation(b(k))) {
            return 0;
        }
    }
    return len;
}

bool is_json_plain(std::string_view s) noexcept { return plain_prefix(s) == s.size(); }

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    // Most strings (ids, paths, routes, addresses) need no escape: one copy with both quotes.
    std::size_t i = plain_prefix(s);
    if (i == s.size()) {
        if (s.size() <= 62) {  // keys, ids, routes: quoted on the stack, one append
            char quoted[64];
            quoted[0] = '"';
            if (!s.empty()) {  // an empty view may have a null data()
                std::memcpy(quoted + 1, s.data(), s.size());
            }
            quoted[s.size() + 1] = '"';
            out.append(quoted, s.size() + 2);
            return;
        }
        const std::size_t at = out.size();
        out.resize(at + s.size() + 2);
        char* p = out.data() + at;
        *p = '"';
        std::memcpy(p + 1, s.data(), s.size());
        p[s.size() + 1] = '"';
        return;
    }
    out.push_back('"');
    out.append(s.data(), i);
    while (i < s.size()) {
        // Copy the longest run of plain bytes at once: the common case is all of them.
        std::size_t j = i;
        while (j < s.size() && kPlain[static_cast<unsigned char>(s[j])]) {
            ++j;
        }
        out.append(s.data() + i, j - i);
        if (j == s.size()) {
            break;
        }
        i = j;
        const auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20U || c == 0x7FU) {
                    const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4U], kHex[c & 0xFU]};
                    out.append(esc, sizeof esc);
                } else {
                    const std::size_t len = utf8_sequence_length(s.substr(i));
                    if (len == 0) {
                        out += "\xEF\xBF\xBD";
                        ++i;
                    } else {
                        out.append(s.data() + i, len);
                        i += len;
                    }
                    continue;
                }
        }
        ++i;
    }
    out.push_back('"');
}

}  // namespace moneta::core
