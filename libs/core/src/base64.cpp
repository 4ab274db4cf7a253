#include "moneta/core/base64.hpp"

#include <array>
#include <cstdint>

namespace moneta::core {
namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

using DecodeTable = std::array<std::int8_t, 256>;

constexpr DecodeTable make_table(const char* alphabet) {
    DecodeTable t{};
    for (auto& v : t) {
        v = -1;
    }
    for (int i = 0; i < 64; ++i) {
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}
constexpr auto kUrlTable = make_table(kUrl);
constexpr auto kStandardTable = make_table(kStandard);

/// Appends the encoding of @p bytes to @p out in @p alphabet, three bytes to four characters at a
/// time into a pre-sized buffer (the hot path signs DRM tokens with it); unpadded.
void encode_into(std::string& out, std::string_view bytes, const char* alphabet) {
    const std::size_t full = bytes.size() / 3;
    const std::size_t rest = bytes.size() % 3;
    const std::size_t at = out.size();
    out.resize(at + full * 4 + (rest == 0 ? 0 : rest + 1));
    char* dst = out.data() + at;
    const auto* src = reinterpret_cast<const unsigned char*>(bytes.data());
    for (std::size_t g = 0; g < full; ++g, src += 3, dst += 4) {
        const std::uint32_t v = (std::uint32_t{src[0]} << 16U) | (std::uint32_t{src[1]} << 8U) | src[2];
        dst[0] = alphabet[(v >> 18U) & 0x3FU];
        dst[1] = alphabet[(v >> 12U) & 0x3FU];
        dst[2] = alphabet[(v >> 6U) & 0x3FU];
        dst[3] = alphabet[v & 0x3FU];
    }
    if (rest > 0) {
        const std::uint32_t v = (std::uint32_t{src[0]} << 16U) | (rest == 2 ? std::uint32_t{src[1]} << 8U : 0U);
        dst[0] = alphabet[(v >> 18U) & 0x3FU];
        dst[1] = alphabet[(v >> 12U) & 0x3FU];
        if (rest == 2) {
            dst[2] = alphabet[(v >> 6U) & 0x3FU];
        }
    }
}

/// Decodes unpadded @p text in @p table's alphabet into @p out (sized by the caller); refuses a
/// character outside the alphabet, a length no encoder produces and non-zero unused final bits
/// (so every byte string has exactly one accepted text).
std::optional<std::size_t> decode_into(std::string_view text, std::span<char> out, const DecodeTable& table) noexcept {
    if (text.size() % 4 == 1 || base64url_decoded_size(text.size()) > out.size()) {
        return std::nullopt;
    }
    std::size_t n = 0;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char ch : text) {
        const int v = table[static_cast<unsigned char>(ch)];
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6U) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU);
        }
    }
    if (bits > 0 && (acc & ((1U << static_cast<unsigned>(bits)) - 1U)) != 0) {
        return std::nullopt;
    }
    return n;
}

}  // namespace

void append_base64(std::string& out, std::string_view bytes) {
    const std::size_t at = out.size();
    encode_into(out, bytes, kStandard);
    out.resize(at + 4 * ((bytes.size() + 2) / 3), '=');
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve(4 * ((bytes.size() + 2) / 3));
    append_base64(out, bytes);
    return out;
}

void append_base64url(std::string& out, std::string_view bytes) { encode_into(out, bytes, kUrl); }

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    append_base64url(out, bytes);
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    std::string out(base64url_decoded_size(text.size()), '\0');
    const auto n = base64url_decode_to(text, out);
    if (!n) {
        return std::nullopt;
    }
    out.resize(*n);
    return out;
}

std::optional<std::size_t> base64url_decode_to(std::string_view text, std::span<char> out) noexcept {
    return decode_into(text, out, kUrlTable);
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    // Exactly the padding the encoder writes: none, "=" or "==" at the end, and only there.
    std::size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') {
        ++pad;
    }
    text.remove_suffix(pad);
    std::string out(base64url_decoded_size(text.size()), '\0');
    const auto n = decode_into(text, out, kStandardTable);
    if (!n) {
        return std::nullopt;
    }
    out.resize(*n);
    return out;
}

}  // namespace moneta::core
