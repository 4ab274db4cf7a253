/// @file services/sshca/src/ca_keys.hpp
/// @brief The CA's keys on disk: one user CA and one host CA (a host key never signs users),
/// each a passphrase-encrypted PKCS#8 file in the key directory. Rotation (docs/sshca.md
/// "CA rotation"): `prepare` makes `user_ca.next.key`, which /v1/ca/user.pub publishes next to
/// the current key so hosts trust it before it signs anything; `commit` makes it current and
/// keeps the old one as `user_ca.prev.key`, still published while its certificates may live.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "moneta/sshcert/ca_key.hpp"

namespace moneta::sshca {

struct CaKeySettings {
    std::filesystem::path dir;
    std::string passphrase;       ///< never logged
    bool generate_missing = false;  ///< dev stack: make the keys on first start
    sshcert::CaKeySpec spec;      ///< type of generated keys (Ed25519 by default)
};

class CaKeys {
public:
    /// Loads (or, with generate_missing, first creates) user_ca.key and host_ca.key, and the
    /// next/prev user keys when present. A wrong passphrase or a bad file is an error naming it.
    static boost::system::result<CaKeys, std::string> load(const CaKeySettings& settings);

    /// Rotation steps, run by `sshca-server --rotate prepare|commit` while the server is down.
    static boost::system::result<std::string, std::string> prepare_rotation(const CaKeySettings& settings);
    static boost::system::result<std::string, std::string> commit_rotation(const CaKeySettings& settings);

    const sshcert::CaKey& user() const noexcept { return user_; }
    const sshcert::CaKey& host() const noexcept { return host_; }
    /// What hosts put in TrustedUserCAKeys: current, next, previous (those present).
    std::vector<sshcert::PublicKey> published_user_keys() const;

private:
    CaKeys(sshcert::CaKey user, sshcert::CaKey host) : user_(std::move(user)), host_(std::move(host)) {}
    sshcert::CaKey user_;
    sshcert::CaKey host_;
    std::optional<sshcert::PublicKey> next_user_;
    std::optional<sshcert::PublicKey> prev_user_;
};

}  // namespace moneta::sshca
