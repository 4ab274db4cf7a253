/// @file moneta/testing/base64.hpp
/// @brief Test-side base64 codecs straight on OpenSSL (EVP_EncodeBlock/EVP_DecodeBlock), so tests
/// check the service's encodings with code the service does not share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace moneta::testing {

/// Standard base64 (RFC 4648, padded) of @p bytes.
std::string base64_encode(std::string_view bytes);
/// Standard padded base64 decoded; nullopt when empty, not a multiple of 4 or invalid.
std::optional<std::string> base64_decode(std::string_view text);
/// CloudFront's URL-safe variant ('-', '_', '~' stand for '+', '=', '/') decoded; nullopt when
/// the text holds one of the unsafe characters itself or is invalid.
std::optional<std::string> cloudfront_base64_decode(std::string_view text);

}  // namespace moneta::testing
