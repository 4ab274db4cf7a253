/// @file moneta/jwt/verifier.hpp
/// @brief JWT (JWS compact) verification on OpenSSL 3: HS256 (several keys, chosen by kid),
/// RS256 and ES256 (PEM public keys). The algorithm allow-list is configuration; the token's
/// `alg` only selects among configured keys, and every key is bound to one algorithm.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/system/result.hpp>

#include "moneta/core/base64.hpp"
#include "moneta/jwt/claims.hpp"

struct evp_pkey_st;  // OpenSSL EVP_PKEY, kept out of the public header

namespace moneta::jwt {

enum class Failure : std::uint8_t {
    kMalformed,
    kUnsupportedAlg,
    kUnknownKey,
    kBadSignature,
    kExpired,
    kNotYetValid,
    kIssuedInFuture,
    kBadIssuer,
    kBadAudience,
    kTooLong,
    kMissingClaim,
};

/// Bounded label values for moneta_auth_failures_total{reason}.
std::string_view failure_name(Failure f) noexcept;

struct HmacKey {
    std::string kid;
    std::string secret;  ///< raw bytes
};

struct PublicKeyFile {
    std::string kid;
    std::string alg;   ///< "RS256" or "ES256"
    std::string path;  ///< PEM (SubjectPublicKeyInfo)
};

struct VerifierConfig {
    std::vector<std::string> allowed_algs{"HS256"};
    std::vector<HmacKey> hmac_keys;
    std::vector<PublicKeyFile> public_keys;
    /// JWKS files (RFC 7517: {"keys":[...]}), RSA (n, e → RS256) and EC P-256 (x, y → ES256)
    /// public keys, each with a unique `kid`; `use` must be "sig" and `alg` must match when given.
    /// Private members ("d", ...) are refused: a verification set never holds private keys.
    std::vector<std::string> jwks_files;
    std::optional<std::string> issuer;
    std::optional<std::string> audience;
    std::chrono::seconds leeway{60};
    std::size_t max_token_bytes = 8192;
};

/// Immutable after create().
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (verify is const and lock-free).
class Verifier {
public:
    /// @return the verifier or a message naming the bad key/file.
    static boost::system::result<Verifier, std::string> create(const VerifierConfig& config);

    /// Verifies signature and claims at @p now_ms. A token with several HS256 keys configured
    /// must carry a `kid`; with exactly one key of its alg the kid may be absent.
    std::variant<Claims, Failure> verify(std::string_view token, std::int64_t now_ms) const;

    /// verify() into caller-owned claims (their storage is reused): nullopt when the token is
    /// good, else why not. @p out is unspecified after a failure.
    std::optional<Failure> verify_into(std::string_view token, std::int64_t now_ms, Claims& out) const;

    /// The time rules alone (exp, nbf, iat, each with the leeway) on claims this verifier
    /// accepted before: what a cache hit re-checks (TokenCache).
    std::optional<Failure> check_time(const Claims& claims, std::int64_t now_ms) const noexcept;

    /// Tokens longer than this are refused unread (kTooLong).
    std::size_t max_token_bytes() const noexcept { return config_.max_token_bytes; }

    Verifier(Verifier&&) noexcept;
    Verifier& operator=(Verifier&&) noexcept;
    ~Verifier();

    struct Key;

private:
    Verifier() = default;
    /// Takes ownership of @p pkey (freed on error); checks type/size against @p alg and that the
    /// kid is unique. @return an error naming @p where.
    std::optional<std::string> add_public_key(const std::string& kid, const std::string& alg, evp_pkey_st* pkey,
                                              const std::string& where);
    std::optional<std::string> add_jwks(const std::string& path);

    std::vector<std::shared_ptr<const Key>> keys_;
    VerifierConfig config_;
};

/// Signs tokens (dev tokens, tests, benchmarks).
class Signer {
public:
    static boost::system::result<Signer, std::string> hs256(std::string kid, std::string secret);
    /// @param alg "RS256" or "ES256"; @param pem a private key in PEM.
    static boost::system::result<Signer, std::string> from_private_pem(std::string alg,
                                                                       std::string kid,
                                                                       std::string_view pem);
    /// @param payload_json a JSON object text.
    std::string sign(std::string_view payload_json) const;

    Signer(Signer&&) noexcept;
    Signer& operator=(Signer&&) noexcept;
    ~Signer();

private:
    Signer() = default;
    std::string alg_;
    std::string kid_;
    std::string secret_;
    void* pkey_ = nullptr;  // EVP_PKEY*
};

/// base64url without padding (RFC 7515 §2); strict decoding (moneta/core/base64.hpp).
using core::base64url_decode;
using core::base64url_encode;

}  // namespace moneta::jwt
