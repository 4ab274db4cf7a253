/// @file signer.hpp (private)
/// @brief SSH signatures (RFC 8709 §6, RFC 5656 §3.1.2, RFC 8332 §3): `string algorithm,
/// string signature` made with a CA key and checked with a public key.
#pragma once

#include <string>
#include <string_view>

#include "moneta/sshcert/ca_key.hpp"
#include "moneta/sshcert/public_key.hpp"

namespace moneta::sshcert {

/// The one reader of CaKey's private key.
struct CaKeyAccess {
    static evp_pkey_st* pkey(const CaKey& key) noexcept { return key.pkey_; }
};

namespace detail {

/// The SSH signature blob of @p data by @p ca, in ca.signature_algorithm().
Result<std::string> sign(const CaKey& ca, std::string_view data);

/// Checks @p signature (an SSH signature blob) over @p data with @p key. Accepts the key type's
/// own algorithm, and for RSA only rsa-sha2-256/512. @return the signature's algorithm name, or
/// kBadSignature (kMalformed when the blob does not parse).
Result<std::string> verify(const PublicKey& key, std::string_view signature, std::string_view data);

}  // namespace detail
}  // namespace moneta::sshcert
