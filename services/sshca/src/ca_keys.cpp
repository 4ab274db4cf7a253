#include "ca_keys.hpp"

#include <system_error>

namespace moneta::sshca {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUser = "user_ca.key";
constexpr const char* kHost = "host_ca.key";
constexpr const char* kNext = "user_ca.next.key";
constexpr const char* kPrev = "user_ca.prev.key";

boost::system::result<sshcert::CaKey, std::string> load_or_make(const CaKeySettings& s, const char* name) {
    const fs::path path = s.dir / name;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        if (!s.generate_missing) {
            return {boost::system::in_place_error,
                    path.string() + ": no CA key (create it with `sshca-server --init`, or set ca.generate_missing)"};
        }
        auto made = sshcert::CaKey::generate(s.spec);
        if (!made) {
            return {boost::system::in_place_error, made.error().message};
        }
        fs::create_directories(s.dir, ec);
        fs::permissions(s.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
        if (auto saved = made->save(path, s.passphrase); !saved) {
            return {boost::system::in_place_error, path.string() + ": " + saved.error().message};
        }
        return std::move(*made);
    }
    auto key = sshcert::CaKey::load(path, s.passphrase);
    if (!key) {
        return {boost::system::in_place_error, path.string() + ": " + key.error().message};
    }
    return std::move(*key);
}

boost::system::result<std::optional<sshcert::PublicKey>, std::string> optional_public(const CaKeySettings& s,
                                                                                      const char* name) {
    const fs::path path = s.dir / name;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return std::optional<sshcert::PublicKey>();
    }
    auto key = sshcert::CaKey::load(path, s.passphrase);
    if (!key) {
        return {boost::system::in_place_error, path.string() + ": " + key.error().message};
    }
    return std::optional<sshcert::PublicKey>(key->public_key());
}

}  // namespace

boost::system::result<CaKeys, std::string> CaKeys::load(const CaKeySettings& s) {
    if (s.passphrase.empty()) {
        return {boost::system::in_place_error, "ca.passphrase: required (the keys are stored encrypted)"};
    }
    auto user = load_or_make(s, kUser);
    if (!user) {
        return {boost::system::in_place_error, user.error()};
    }
    auto host = load_or_make(s, kHost);
    if (!host) {
        return {boost::system::in_place_error, host.error()};
    }
    if (user->public_key() == host->public_key()) {
        return {boost::system::in_place_error, "the user and host CA keys are the same key"};
    }
    CaKeys keys(std::move(*user), std::move(*host));
    auto next = optional_public(s, kNext);
    auto prev = optional_public(s, kPrev);
    if (!next || !prev) {
        return {boost::system::in_place_error, !next ? next.error() : prev.error()};
    }
    keys.next_user_ = *next;
    keys.prev_user_ = *prev;
    return keys;
}

std::vector<sshcert::PublicKey> CaKeys::published_user_keys() const {
    std::vector<sshcert::PublicKey> out{user_.public_key()};
    for (const auto* k : {&next_user_, &prev_user_}) {
        if (*k) {
            out.push_back(**k);
        }
    }
    return out;
}

boost::system::result<std::string, std::string> CaKeys::prepare_rotation(const CaKeySettings& s) {
    std::error_code ec;
    if (fs::exists(s.dir / kNext, ec)) {
        return {boost::system::in_place_error, (s.dir / kNext).string() + ": a rotation is already prepared"};
    }
    auto made = sshcert::CaKey::generate(s.spec);
    if (!made) {
        return {boost::system::in_place_error, made.error().message};
    }
    if (auto saved = made->save(s.dir / kNext, s.passphrase); !saved) {
        return {boost::system::in_place_error, saved.error().message};
    }
    return {boost::system::in_place_value, "next user CA key " + made->public_key().fingerprint() +
                                               " is published in /v1/ca/user.pub from the next start; commit "
                                               "once every host trusts it"};
}

boost::system::result<std::string, std::string> CaKeys::commit_rotation(const CaKeySettings& s) {
    auto next = optional_public(s, kNext);
    if (!next) {
        return {boost::system::in_place_error, next.error()};
    }
    if (!*next) {
        return {boost::system::in_place_error, "no prepared rotation (run --rotate prepare first)"};
    }
    std::error_code ec;
    fs::rename(s.dir / kUser, s.dir / kPrev, ec);
    if (!ec) {
        fs::rename(s.dir / kNext, s.dir / kUser, ec);
    }
    if (ec) {
        return {boost::system::in_place_error, "rotation: " + ec.message()};
    }
    return {boost::system::in_place_value,
            "user CA key " + (*next)->fingerprint() + " signs from the next start; the previous key stays published"};
}

}  // namespace moneta::sshca
