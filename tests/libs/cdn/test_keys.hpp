// Test-side crypto, written against OpenSSL directly (never through moneta::cdn) so the tests
// check the library's output instead of comparing it with itself.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "moneta/testing/base64.hpp"

namespace moneta::cdn::testing {

using PkeyPtr = std::shared_ptr<EVP_PKEY>;

/// A fresh RSA key pair (EVP_RSA_gen) of @p bits.
PkeyPtr generate_rsa(unsigned bits);

/// One RSA-2048 key shared by the tests of this binary (key generation is slow under ASan).
const PkeyPtr& shared_rsa_2048();

std::string private_pem(EVP_PKEY* key);
std::string encrypted_private_pem(EVP_PKEY* key, const char* passphrase);

/// The public half only, read back from a SubjectPublicKeyInfo PEM.
PkeyPtr public_only(EVP_PKEY* key);

/// CloudFront base64 decoded by the shared test codec (moneta/testing/base64.hpp).
inline std::optional<std::string> cloudfront_b64_decode(std::string_view text) {
    return moneta::testing::cloudfront_base64_decode(text);
}

/// RSA-SHA1 PKCS#1 v1.5 verification (EVP_DigestVerify).
bool verify_sha1(EVP_PKEY* public_key, std::string_view data, std::string_view signature);

/// hex of HMAC-SHA256(hex_decode(key_hex), data), computed with OpenSSL's HMAC().
std::string hmac_sha256_hex(std::string_view key_hex, std::string_view data);

/// The text between @p begin and the next @p end (or the end of @p s); nullopt if absent.
std::optional<std::string> between(
    std::string_view s, std::string_view begin, std::string_view end
);

}  // namespace moneta::cdn::testing
