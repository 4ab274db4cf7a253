/// @file services/sshca/src/authority.hpp
/// @brief The CA's use cases: issue user and host certificates under the policy, revoke, list,
/// read the audit log, and serve the KRL. Every decision is audited (issued, denied, revoked).
/// The HTTP layer (routes.cpp) only maps requests to these calls and outcomes to responses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ca_keys.hpp"
#include "moneta/core/clock.hpp"
#include "policy.hpp"
#include "store.hpp"

namespace moneta::sshca {

/// Where a call came from (for key ids and the audit log).
struct CallContext {
    std::string ip;
    std::string request_id;
};

/// An error with its HTTP meaning; message safe to return.
struct Failure {
    int status = 400;
    std::string code;  ///< INVALID_REQUEST, FORBIDDEN, EMPTY_PRINCIPALS, NOT_FOUND, UNAVAILABLE
    std::string message;
};

template <class T>
using Outcome = boost::system::result<T, Failure>;

struct Issued {
    std::string certificate;  ///< the -cert.pub line
    std::uint64_t serial = 0;
    std::string key_id;
    std::vector<std::string> principals;
    std::int64_t valid_after = 0;
    std::int64_t valid_before = 0;
    std::string ca_fingerprint;
};

struct UserCertCall {
    std::string public_key;  ///< the subject key's line
    UserCertOptions options;
};

struct HostCertCall {
    std::string public_key;
    std::vector<std::string> hostnames;
    std::optional<std::int64_t> ttl_s;
};

/// One revocation request: exactly one of the selectors.
struct RevokeCall {
    std::optional<std::uint64_t> serial;
    std::optional<std::string> key_id;
    std::optional<std::string> public_key;
    std::optional<std::string> user;
    std::string reason;
};

struct HostSettings {
    std::int64_t default_ttl_s = 30 * 86400;
    std::int64_t max_ttl_s = 90 * 86400;
    std::string known_hosts_pattern = "*";  ///< the @cert-authority line's host pattern
};

/// Each issued certificate is a row kept for the audit trail, so one identity may not add rows
/// without bound: at most this many user certificates per user per rolling hour (429 beyond).
inline constexpr std::int64_t kMaxUserCertsPerHour = 60;

class Authority {
public:
    Authority(Policy policy, HostSettings host, CaKeys keys, Store store, const core::Clock& clock);

    Grant me(const Identity& who) const { return grant_for(policy_, who); }
    bool is_admin(const Identity& who) const { return grant_for(policy_, who).admin; }

    Outcome<Issued> issue_user(const Identity& who, const UserCertCall& call, const CallContext& ctx);
    /// @p actor: "host-token" or the admin user who asked.
    Outcome<Issued> issue_host(std::string_view actor, const HostCertCall& call, const CallContext& ctx);
    Outcome<Revoked> revoke(const Identity& admin, const RevokeCall& call, const CallContext& ctx);

    std::vector<CertRow> certs(std::optional<std::string_view> user, bool active_only, std::size_t limit);
    std::vector<AuditEvent> audit(std::int64_t since_ms, std::size_t limit);
    /// Records an event the HTTP layer saw (a refused identity).
    void record(std::string event, std::string actor, const CallContext& ctx, std::string detail_json);

    /// The KRL and its version (the ETag), rebuilt only when a revocation changed it.
    Outcome<std::pair<std::uint64_t, const std::string*>> krl();

    /// TrustedUserCAKeys content: one key per line.
    std::string user_ca_lines() const;
    /// known_hosts content: `@cert-authority <pattern> <host CA key>`.
    std::string host_ca_lines() const;
    std::string user_ca_fingerprint() const { return keys_.user().public_key().fingerprint(); }

private:
    Outcome<Issued> sign(CertKind kind, const std::string& subject, const std::string& public_key_line,
                         std::string key_id, std::vector<std::string> principals, std::int64_t ttl_s,
                         std::int64_t backdate_s, std::set<std::string> extensions,
                         std::map<std::string, std::string> options);
    void audit_denial(std::string_view actor, const CallContext& ctx, const Failure& f);

    Policy policy_;
    HostSettings host_;
    CaKeys keys_;
    Store store_;
    const core::Clock& clock_;
    std::uint64_t krl_version_ = ~std::uint64_t{0};  ///< of krl_ (none built yet)
    std::string krl_;
};

}  // namespace moneta::sshca
