#include "moneta/core/base64.hpp"

#include <array>
#include <cstdint>

namespace moneta::core {
namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_url_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) {
        v = -1;
    }
    for (int i = 0; i < 64; ++i) {
        t[static_cast<unsigned char>(kUrl[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}
constexpr auto kUrlTable = make_url_table();

/// Six bits at a time from @p bytes into @p out, in @p alphabet; the last group zero-filled.
void encode_into(std::string& out, std::string_view bytes, const char* alphabet) {
    std::uint32_t acc = 0;
    int bits = 0;
    for (char ch : bytes) {
        acc = (acc << 8U) | static_cast<unsigned char>(ch);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> static_cast<unsigned>(bits)) & 0x3FU]);
        }
    }
    if (bits > 0) {
        out.push_back(alphabet[(acc << static_cast<unsigned>(6 - bits)) & 0x3FU]);
    }
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve(4 * ((bytes.size() + 2) / 3));
    encode_into(out, bytes, kStandard);
    while (out.size() % 4 != 0) {
        out.push_back('=');
    }
    return out;
}

void append_base64url(std::string& out, std::string_view bytes) {
    out.reserve(out.size() + (bytes.size() * 4 + 2) / 3);
    encode_into(out, bytes, kUrl);
}

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    append_base64url(out, bytes);
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) {
        return std::nullopt;  // impossible length
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char ch : text) {
        const int v = kUrlTable[static_cast<unsigned char>(ch)];
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6U) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
        }
    }
    // Canonical: the leftover bits of the last character must be zero.
    if (bits > 0 && (acc & ((1U << static_cast<unsigned>(bits)) - 1U)) != 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace moneta::core
