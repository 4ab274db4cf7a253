/// @file key_codec.hpp (private)
/// @brief Public key fields on the wire ↔ validated OpenSSL keys, for every KeyType. The one
/// place that knows each type's encoding (RFC 8709 Ed25519, RFC 5656 ECDSA, RFC 4253 RSA).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "moneta/sshcert/public_key.hpp"
#include "openssl_ptr.hpp"
#include "wire.hpp"

namespace moneta::sshcert {

struct PublicKey::Parts {
    KeyType type;
    unsigned bits;
    std::string blob;
    std::string comment;
    std::shared_ptr<EVP_PKEY> pkey;
};

namespace detail {

/// The smallest RSA modulus accepted anywhere (subjects and CAs).
inline constexpr unsigned kMinRsaBits = 3072;
/// OpenSSH's largest (SSHBUF_MAX_BIGNUM).
inline constexpr unsigned kMaxRsaBits = 16384;

/// Maps an OpenSSH key type name to a KeyType, or says why it is refused: DSA and sk-* keys
/// (kUnsupportedKeyType), certificate types (kCertificateAsKey), anything else (kUnsupportedKeyType).
Result<KeyType> key_type_from_name(std::string_view name);

/// Reads @p type's fields (what follows the type string in a key blob, or the nonce in a
/// certificate) and validates the key. The result's blob is the plain key blob.
Result<PublicKey> read_key_fields(KeyType type, wire::Reader& in);

/// The key fields of @p key (its blob without the leading type string).
std::string_view key_fields(const PublicKey& key) noexcept;

/// The public half of a private OpenSSL key, as a PublicKey (CA keys).
Result<PublicKey> public_key_of(EVP_PKEY* pkey);

/// Shorthand for an error result.
inline Error fail(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace detail
}  // namespace moneta::sshcert
