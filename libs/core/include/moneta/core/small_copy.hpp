/// @file moneta/core/small_copy.hpp
/// @brief Copies of a few bytes without a call into libc: the pieces of Redis keys and commands
/// (prefixes, tags, ids, lengths) are 1-64 bytes of a size known only at run time, and a
/// memcpy call per piece (with the registers saved around it) was a third of what building a
/// heartbeat's EVALSHA cost (docs/performance.md, eleventh round).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace moneta::core {

// Inlined where the source is a small array (a 4-byte digit buffer), GCC 12 analyses the 8-byte
// branch too, which that size never reaches, and reports its loads as out of bounds.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif

/// Writes @p s at @p out and returns the end. Up to 32 bytes: two overlapping loads and stores
/// of the widest size that fits (16 bytes: one SSE2 register each), no loop; longer: memcpy. Needs s.size() bytes of room only.
inline char* put_bytes(char* out, std::string_view s) noexcept {
    const std::size_t n = s.size();
    const char* in = s.data();
    if (n >= 8) {
        if (n > 16) {
            if (n > 32) {
                std::memcpy(out, in, n);
                return out + n;
            }
            // 17-32 bytes: most Redis keys ("lease:{p12}:a_00001", a session id): two
            // overlapping 16-byte copies, where memcpy was a libc call per key.
            char head[16];
            char tail[16];
            std::memcpy(head, in, 16);
            std::memcpy(tail, in + n - 16, 16);
            std::memcpy(out, head, 16);
            std::memcpy(out + n - 16, tail, 16);
            return out + n;
        }
        std::uint64_t head = 0;
        std::uint64_t tail = 0;
        std::memcpy(&head, in, 8);
        std::memcpy(&tail, in + n - 8, 8);
        std::memcpy(out, &head, 8);
        std::memcpy(out + n - 8, &tail, 8);
    } else if (n >= 4) {
        std::uint32_t head = 0;
        std::uint32_t tail = 0;
        std::memcpy(&head, in, 4);
        std::memcpy(&tail, in + n - 4, 4);
        std::memcpy(out, &head, 4);
        std::memcpy(out + n - 4, &tail, 4);
    } else if (n != 0) {  // 1-3 bytes: first, middle, last (some the same)
        const char a = in[0];
        const char b = in[n / 2];
        const char c = in[n - 1];
        out[0] = a;
        out[n / 2] = b;
        out[n - 1] = c;
    }
    return out + n;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace moneta::core
