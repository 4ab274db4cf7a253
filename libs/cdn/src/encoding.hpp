// Private helpers: base64 flavours, hex, URL escaping, character checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace moneta::cdn::detail {

/// CloudFront's URL-safe variant: base64, then '+'->'-', '='->'_', '/'->'~'.
std::string cloudfront_base64(std::string_view bytes);

/// nullopt for an empty, odd-length or non-hex input.
std::optional<std::string> hex_decode(std::string_view hex);

/// Python's urllib.parse.quote_plus (safe: A-Z a-z 0-9 _ . - ~, space -> '+'), with the hex
/// digits of every %XX lower-cased: the EdgeAuth "escape early" transform.
std::string quote_plus_lower(std::string_view text);

/// Printable ASCII except quote, backslash and space: safe to put into the policy JSON and a URL
/// as is.
bool is_plain_url_text(std::string_view text) noexcept;

/// "https://host[:port][/path]" without query, fragment or trailing '/'. Returns the normalised
/// URL (one trailing '/' dropped) or nullopt.
std::optional<std::string> normalise_base_url(std::string_view url);

/// The host of a URL accepted by normalise_base_url (no port).
std::string_view url_host(std::string_view url) noexcept;

}  // namespace moneta::cdn::detail
