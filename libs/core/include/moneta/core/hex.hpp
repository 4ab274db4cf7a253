/// @file moneta/core/hex.hpp
/// @brief Hexadecimal both ways, the one place for it. Reading one digit: every parser
/// (percent-encoding, chunk sizes, JSON \u escapes, key files). Writing lower-case digits:
/// request, trace and span ids (server, access log), script SHA1s, signatures (AWS SigV4,
/// Akamai), exemplar trace ids, body hashes.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace moneta::core {

/// 0-15 for [0-9a-fA-F], -1 for anything else.
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static_assert(hex_value('0') == 0 && hex_value('f') == 15 && hex_value('F') == 15 && hex_value('g') == -1);

/// Writes the 2 × @p data.size() lower-case hex digits of @p data, high nibble first, to @p out
/// (not terminated). Sixteen bytes per SSE2 step where the CPU has it (a generated request id is
/// one step; a table lookup per nibble was ~130 instructions per request), a table for the rest.
void write_hex(std::span<const std::uint8_t> data, char* out) noexcept;

/// Writes the 16 lower-case hex digits of @p v, most significant first, to @p out (not
/// terminated).
void write_hex(std::uint64_t v, char* out) noexcept;

/// @return the lower-case hex of @p data.
std::string to_hex(std::span<const std::uint8_t> data);

}  // namespace moneta::core
