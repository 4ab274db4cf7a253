/// @file moneta/core/hex.hpp
/// @brief The value of one hexadecimal digit: the one copy every parser uses (percent-encoding,
/// chunk sizes, JSON \u escapes, key files).
#pragma once

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

}  // namespace moneta::core
