/// @file moneta/sshcert/ca_key.hpp
/// @brief The CA's private key: generated here, kept at rest only as a passphrase-encrypted
/// PKCS#8 PEM, and used only to sign certificates (certificate.hpp). The API has no way to read
/// the private key's bytes back out, so it cannot end up in a log or a response.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "moneta/sshcert/error.hpp"
#include "moneta/sshcert/public_key.hpp"

namespace moneta::sshcert {

struct CaKeyAccess;

/// The hash of an RSA CA's signatures. Never SHA-1: sshd 9.2 refuses `ssh-rsa` CA signatures.
enum class RsaHash : std::uint8_t {
    kSha256,  ///< rsa-sha2-256
    kSha512,  ///< rsa-sha2-512
};

struct CaKeySpec {
    /// kEd25519 (the default), kEcdsaP256 or kRsa.
    KeyType type = KeyType::kEd25519;
    /// RSA only: 3072 or 4096.
    unsigned rsa_bits = 3072;
    RsaHash rsa_hash = RsaHash::kSha512;
};

/// A CA key. Move-only (one owner of the secret).
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe for the const members (signing is const and
/// OpenSSL's one-shot signing on a shared key is thread-safe).
class CaKey {
public:
    /// A fresh key from OpenSSL's CSPRNG. kInvalidArgument for another type or RSA size.
    static Result<CaKey> generate(const CaKeySpec& spec = {});

    /// Reads an encrypted PKCS#8 PEM (`-----BEGIN ENCRYPTED PRIVATE KEY-----`). Refuses an
    /// unencrypted one (kInvalidArgument), a wrong passphrase (kBadPassphrase), a PEM that is not
    /// such a key (kMalformed) and key types a CA may not have (kUnsupportedKeyType /
    /// kKeyTooSmall). @p rsa_hash: the hash an RSA key signs with (the PEM does not say).
    static Result<CaKey> from_encrypted_pem(std::string_view pem,
                                            std::string_view passphrase,
                                            RsaHash rsa_hash = RsaHash::kSha512);
    /// from_encrypted_pem on the content of @p path (kIo when unreadable; at most 64 KiB).
    static Result<CaKey> load(const std::filesystem::path& path,
                              std::string_view passphrase,
                              RsaHash rsa_hash = RsaHash::kSha512);

    /// The key as encrypted PKCS#8 PEM: AES-256-CBC, key derived with scrypt (N=2^14, r=8, p=1,
    /// OpenSSL's defaults: any OpenSSL 3 and OpenSSH read it). An empty passphrase is refused
    /// (kInvalidArgument): the file is never a plaintext key.
    Result<std::string> to_encrypted_pem(std::string_view passphrase) const;
    /// to_encrypted_pem written to @p path with mode 0600 (a temporary file in the same directory,
    /// then rename(2), so a reader never sees half a key).
    Result<void> save(const std::filesystem::path& path, std::string_view passphrase) const;

    /// The public half (what hosts put in TrustedUserCAKeys), comment empty.
    const PublicKey& public_key() const noexcept { return public_key_; }
    /// The signature algorithm of its certificates: "ssh-ed25519", "ecdsa-sha2-nistp256",
    /// "rsa-sha2-256" or "rsa-sha2-512".
    std::string_view signature_algorithm() const noexcept;
    RsaHash rsa_hash() const noexcept { return rsa_hash_; }

    CaKey(CaKey&& other) noexcept;
    CaKey& operator=(CaKey&& other) noexcept;
    CaKey(const CaKey&) = delete;
    CaKey& operator=(const CaKey&) = delete;
    ~CaKey();

private:
    friend struct CaKeyAccess;  // the library's signer (src/signer.cpp), nothing else

    CaKey(evp_pkey_st* pkey, PublicKey public_key, RsaHash rsa_hash) noexcept;
    static Result<CaKey> adopt(evp_pkey_st* pkey, RsaHash rsa_hash);

    evp_pkey_st* pkey_ = nullptr;
    PublicKey public_key_;
    RsaHash rsa_hash_ = RsaHash::kSha512;
};

}  // namespace moneta::sshcert
