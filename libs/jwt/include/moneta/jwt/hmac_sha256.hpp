/// @file moneta/jwt/hmac_sha256.hpp
/// @brief HMAC-SHA256 with the key's inner and outer SHA-256 states computed once (RFC 2104: the
/// first block of each hash is the key XOR ipad/opad, the same for every message). A MAC is then
/// two state copies, the message's blocks and one block for the outer hash: no allocation, no
/// key schedule, no provider lookup (docs/jwt.md "HS256" has the measured alternatives). Used for
/// HS256 tokens and for moneta's session-id MAC (services/moneta/src/domain/session_id.cpp).
#pragma once

#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_CTX: the only OpenSSL 3 API that copies by value
#endif
#include <openssl/sha.h>

#include <array>
#include <string_view>

namespace moneta::jwt {

/// @par Thread safety
/// Immutable after construction: share freely.
class HmacSha256Key {
public:
    explicit HmacSha256Key(std::string_view secret) noexcept;

    using Mac = std::array<unsigned char, SHA256_DIGEST_LENGTH>;
    Mac mac(std::string_view message) const noexcept;

    /// Constant-time comparison of the MAC of @p message with @p signature (CRYPTO_memcmp); a
    /// wrong length fails at once (a MAC's length is public).
    bool verify(std::string_view message, std::string_view signature) const noexcept;

private:
    SHA256_CTX inner_;  ///< after the key XOR ipad block
    SHA256_CTX outer_;  ///< after the key XOR opad block
};

}  // namespace moneta::jwt
