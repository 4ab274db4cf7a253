/// @file services/sshca/cli/commands.hpp
/// @brief The `sshca` CLI's commands (docs/sshca.md "CLI"), each a function of parsed options
/// returning the process's exit status: 0 done, 1 refused or failed (a message on stderr says
/// why and what to do), 2 bad usage.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "http.hpp"

namespace moneta::sshca::cli {

/// What every command shares: where the CA is, who we are, where our key lives.
struct Context {
    Endpoint ca;
    std::optional<std::string> token;       ///< SSHCA_TOKEN or --token-file (user identity)
    std::string token_scheme = "Bearer";    ///< "AWS4-STS" when token is a signed GetCallerIdentity
    std::optional<std::string> host_token;  ///< SSHCA_HOST_TOKEN or --token-file (host renew)
    std::filesystem::path home;             ///< SSHCA_HOME (default ~/.sshca)
    bool agent = true;                      ///< SSH_AUTH_SOCK set and not --no-agent
};

struct LoginArgs {
    std::optional<std::int64_t> ttl_s;
    std::vector<std::string> principals;
};

int login(const Context& c, const LoginArgs& a);
int status(const Context& c);
int logout(const Context& c);
/// Re-logins when the certificate is missing, expired or within 2 minutes of expiry.
int ensure(const Context& c, bool quiet);
/// ensure, then exec ssh with our key and certificate.
int ssh(const Context& c, const std::vector<std::string>& args);
int config(const Context& c);

int host_setup(const Context& c, const std::filesystem::path& dir);
int host_renew(const Context& c, const std::filesystem::path& key, const std::vector<std::string>& hostnames,
               std::optional<std::int64_t> ttl_s);
int host_krl_sync(const Context& c, const std::filesystem::path& out);

struct RevokeArgs {
    std::optional<std::uint64_t> serial;
    std::optional<std::string> key_id;
    std::optional<std::string> user;
    std::optional<std::filesystem::path> pubkey;
    std::string reason;
};
int admin_revoke(const Context& c, const RevokeArgs& a);
int admin_certs(const Context& c, const std::optional<std::string>& user, bool active);
int admin_audit(const Context& c, const std::optional<std::string>& since);

/// "90", "90s", "30m", "1h", "1d" → seconds; nullopt otherwise.
std::optional<std::int64_t> parse_duration(std::string_view text);

}  // namespace moneta::sshca::cli
