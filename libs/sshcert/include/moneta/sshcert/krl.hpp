/// @file moneta/sshcert/krl.hpp
/// @brief OpenSSH key revocation lists (PROTOCOL.krl), as sshd's `RevokedKeys` and
/// `ssh-keygen -Q` read them: certificates revoked by serial or key id per CA, and plain public
/// keys revoked outright (which also revokes every certificate of that key).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "moneta/sshcert/error.hpp"
#include "moneta/sshcert/public_key.hpp"

namespace moneta::sshcert {

/// The certificates of one CA to revoke.
struct KrlCertificates {
    PublicKey ca_key;
    /// Serials (not 0: OpenSSH ignores serial 0 and refuses a KRL that lists it). Any order,
    /// repeats allowed: the KRL lists each once, as ranges, lists or bitmaps, whichever is smaller.
    std::vector<std::uint64_t> serials;
    /// Key ids (no NUL byte). Any order, repeats allowed.
    std::vector<std::string> key_ids;
};

struct KrlSpec {
    std::uint64_t version = 0;         ///< krl_version: grows with every change (the server's ETag)
    std::uint64_t generated_date = 0;  ///< seconds since the epoch
    std::string comment;               ///< no NUL byte
    std::vector<KrlCertificates> certificates;
    /// Keys revoked outright, listed by SHA-256 of their blob (section 5, read by OpenSSH >= 7.9).
    std::vector<PublicKey> revoked_keys;
};

/// The KRL's bytes. Deterministic: the same revocations give the same bytes whatever their
/// order (CAs, serials, key ids and hashes are written sorted). Errors: serial 0, a NUL in a key
/// id or the comment (kInvalidArgument).
Result<std::string> build_krl(const KrlSpec& spec);

}  // namespace moneta::sshcert
