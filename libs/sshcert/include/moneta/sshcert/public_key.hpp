/// @file moneta/sshcert/public_key.hpp
/// @brief OpenSSH public keys: the strict parser of `ssh-ed25519 AAAA… comment` lines (what an
/// engineer uploads and a host presents), the wire blob, and OpenSSH's fingerprints.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "moneta/sshcert/error.hpp"

struct evp_pkey_st;  // OpenSSL EVP_PKEY, kept out of the public header

namespace moneta::sshcert {

/// The key types this library accepts, as subjects and (Ed25519, P-256, RSA) as CAs.
enum class KeyType : std::uint8_t {
    kEd25519,
    kEcdsaP256,
    kEcdsaP384,
    kEcdsaP521,
    kRsa,  ///< at least 3072 bits
};

/// OpenSSH's name: "ssh-ed25519", "ecdsa-sha2-nistp256|384|521", "ssh-rsa".
std::string_view key_type_name(KeyType type) noexcept;

/// A validated public key. Immutable; copies share the OpenSSL key.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (all members are const).
class PublicKey {
public:
    /// Longest line parse_line reads (an RSA-16384 line is ~2.8 KiB).
    static constexpr std::size_t kMaxLineBytes = 16 * 1024;

    /// Parses `type base64 [comment]` (one trailing newline allowed). Refuses, each with its
    /// Errc: lines over kMaxLineBytes (kTooLarge); authorized_keys options, bad base64, a
    /// truncated blob or bytes after it (kMalformed); DSA, sk-*, unknown types
    /// (kUnsupportedKeyType); certificates (kCertificateAsKey); a blob of another type than the
    /// line's (kTypeMismatch); RSA below 3072 bits (kKeyTooSmall); an EC point off its curve or
    /// an RSA key with an even modulus or exponent (kInvalidKey).
    static Result<PublicKey> parse_line(std::string_view line);

    /// The same checks on a wire blob (string type, then the type's fields, nothing after).
    static Result<PublicKey> from_blob(std::string_view blob);

    KeyType type() const noexcept { return type_; }
    std::string_view type_name() const noexcept { return key_type_name(type_); }
    /// The wire encoding: what certificates, KRLs and fingerprints are made of.
    const std::string& blob() const noexcept { return blob_; }
    /// The line's comment (empty when it had none).
    const std::string& comment() const noexcept { return comment_; }
    /// A copy with another comment (the comment is not part of the key).
    PublicKey with_comment(std::string comment) const;
    /// Size as ssh-keygen reports it: 256 for Ed25519, the curve for ECDSA, the modulus for RSA.
    unsigned bits() const noexcept { return bits_; }

    /// `SHA256:` + unpadded base64 of SHA-256(blob): OpenSSH's default fingerprint.
    std::string fingerprint() const;
    /// `ssh-keygen -l`'s line: `256 SHA256:… comment (ED25519)` ("no comment" when empty).
    std::string fingerprint_line() const;
    /// `type base64 comment` (no newline; no trailing space when the comment is empty).
    std::string to_line() const;

    /// Same key (the comment does not count).
    friend bool operator==(const PublicKey& a, const PublicKey& b) noexcept { return a.blob_ == b.blob_; }

    struct Parts;  // how the library builds one (src/key_codec)
    explicit PublicKey(Parts&& parts);
    /// The OpenSSL key, for the library's own verification (src/).
    evp_pkey_st* evp_for_library() const noexcept { return pkey_.get(); }

private:
    KeyType type_;
    unsigned bits_;
    std::string blob_;
    std::string comment_;
    std::shared_ptr<evp_pkey_st> pkey_;
};

}  // namespace moneta::sshcert
