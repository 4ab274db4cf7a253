/// @file moneta/core/base64.hpp
/// @brief RFC 4648 base64: the standard alphabet with padding (CDN and DRM tokens) and the
/// url-safe alphabet without padding (JWT, ids). One codec for every library; a few lines of
/// table lookups, so no OpenSSL dependency in core.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace moneta::core {

/// Standard alphabet (`+/`), padded with `=`, no line breaks (RFC 4648 §4).
std::string base64_encode(std::string_view bytes);
/// The same, appended to @p out (no temporary; no allocation when @p out has the capacity).
void append_base64(std::string& out, std::string_view bytes);
/// Strict inverse of base64_encode: standard alphabet, the encoder's exact padding, canonical
/// final character, no whitespace (OpenSSH key lines). nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

/// Url-safe alphabet (`-_`), no padding (RFC 4648 §5, RFC 7515 §2).
std::string base64url_encode(std::string_view bytes);
/// The same, appended to @p out (no temporary).
void append_base64url(std::string& out, std::string_view bytes);
/// Strict: url alphabet only, no padding, canonical final character. nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);
/// The same rules, decoded into @p out (no allocation): the decoded size, or nullopt when
/// @p text is not canonical base64url or its bytes do not fit @p out.
std::optional<std::size_t> base64url_decode_to(std::string_view text, std::span<char> out) noexcept;
/// Bytes base64url_decode_to needs for @p text_size characters.
constexpr std::size_t base64url_decoded_size(std::size_t text_size) noexcept { return text_size * 3 / 4; }

}  // namespace moneta::core
