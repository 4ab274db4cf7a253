/// @file services/sshca/src/policy.hpp
/// @brief Who may have which certificate: the policy file (groups → principals, lifetimes,
/// extensions, restrictions, admin) and the pure decisions made from it. No I/O past loading:
/// every rule here is unit-tested with plain values (tests/services/sshca/policy_test.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace moneta::sshca {

/// One group of the policy file (docs/sshca.md "Policy").
struct GroupPolicy {
    std::string name;
    std::vector<std::string> principals;  ///< zones/roles this group may log in as
    std::int64_t max_ttl_s = 86400;
    std::set<std::string> extensions{"permit-pty"};  ///< what its certificates may carry
    std::optional<std::string> source_address;       ///< CIDR list every certificate gets
    std::optional<std::string> force_command;         ///< command every certificate gets
    bool admin = false;                               ///< may revoke and read everything
};

struct Policy {
    std::int64_t default_ttl_s = 3600;
    std::int64_t backdate_s = 60;
    std::vector<GroupPolicy> groups;  ///< sorted by name, names unique

    const GroupPolicy* group(std::string_view name) const noexcept;

    /// Parses and checks a policy text (@p name goes into the messages). Unknown keys, bad
    /// principals, extensions, CIDR lists and out-of-range lifetimes are refused, naming the key.
    static boost::system::result<Policy, std::string> parse(std::string_view text, std::string_view name);
    static boost::system::result<Policy, std::string> load(const std::filesystem::path& file);
};

/// Who is asking, as the identity provider vouched for them.
struct Identity {
    std::string user;
    std::vector<std::string> groups;  ///< as the provider sent them (unknown ones are ignored)
    std::string method;               ///< "jwt" or "aws": recorded in the audit log
};

/// What an identity may have (GET /v1/me): the union over its groups the policy knows.
struct Grant {
    std::vector<std::string> groups;      ///< the identity's groups the policy knows, sorted
    std::vector<std::string> principals;  ///< sorted, unique
    std::int64_t max_ttl_s = 0;           ///< the longest any of its groups allows
    std::set<std::string> extensions;
    bool admin = false;
};
Grant grant_for(const Policy& policy, const Identity& identity);

/// What the client asked for in POST /v1/certs/user (all optional: the policy fills the rest).
struct UserCertOptions {
    std::optional<std::int64_t> ttl_s;
    std::optional<std::vector<std::string>> principals;
    std::optional<std::vector<std::string>> extensions;
    std::optional<std::string> source_address;
};

/// Why a certificate is refused. kEmptyPrincipals is 422, kNotAllowed 403 (api: docs/sshca.md).
enum class Refusal : std::uint8_t { kNotAllowed, kEmptyPrincipals, kInvalid };

struct Denied {
    Refusal why;
    std::string message;  ///< safe to show the caller and to audit
};

/// The certificate the policy allows for this request.
struct UserCertDecision {
    std::vector<std::string> principals;  ///< sorted, never empty
    std::vector<std::string> groups;      ///< the groups that granted them, sorted (the key id names them)
    std::int64_t ttl_s = 0;
    std::set<std::string> extensions;
    std::map<std::string, std::string> critical_options;  ///< force-command / source-address
};

/// The rules (docs/sshca.md "Decisions"):
/// - principals = the requested ones, each of which a group of the identity must grant (else
///   kNotAllowed naming them), or all its groups grant when none are requested; none → 422;
/// - the lifetime may not exceed, for every chosen principal, the longest max_ttl_s of the
///   groups granting it; the default is min(default_ttl_s, that);
/// - extensions: the requested ones (default permit-pty when allowed), each allowed for every
///   chosen principal by one of its granting groups;
/// - source-address / force-command: a principal whose every granting group sets one is bound
///   by it; principals bound differently cannot share one certificate (kNotAllowed: ask for
///   them separately); a client may add a source-address only where the policy sets none.
boost::system::result<UserCertDecision, Denied> decide_user_certificate(const Policy& policy,
                                                                        const Identity& identity,
                                                                        const UserCertOptions& options);

/// `user=<u> groups=<g,…> req=<id> ip=<addr>`: what sshd logs for every login with it.
std::string user_key_id(std::string_view user, const std::vector<std::string>& groups, std::string_view request_id,
                        std::string_view ip);

/// A principal, group or user name as the CA accepts it: 1–128 bytes of [A-Za-z0-9._@+=-]
/// (no space, comma or control byte: sshd's principal lists and our key ids are separated by
/// them).
bool is_valid_name(std::string_view name) noexcept;

}  // namespace moneta::sshca
