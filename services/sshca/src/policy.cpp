#include "policy.hpp"

#include <algorithm>
#include <iterator>

#include "moneta/config/config.hpp"
#include "moneta/sshcert/certificate.hpp"
#include "name_list.hpp"

namespace moneta::sshca {
namespace {

constexpr std::int64_t kMinTtlS = 60;
constexpr std::int64_t kMaxTtlS = 7 * 86400;  // a week: a certificate is not a long-lived key
constexpr std::size_t kMaxNameBytes = 128;
constexpr std::size_t kMaxPrincipalsPerGroup = 64;
constexpr std::size_t kMaxGroups = 1024;

bool is_known_extension(std::string_view e) {
    return std::find(sshcert::kKnownExtensions.begin(), sshcert::kKnownExtensions.end(), e) !=
           sshcert::kKnownExtensions.end();
}

GroupPolicy read_group(std::string name, config::Reader& g) {
    GroupPolicy out;
    if (!is_valid_name(name)) {
        throw config::ConfigError(g.path() + ": a group name is 1-128 characters of [A-Za-z0-9._@+=-]");
    }
    out.name = std::move(name);
    out.principals = g.strings("principals", {});
    if (out.principals.size() > kMaxPrincipalsPerGroup) {
        throw config::ConfigError(g.path() + ".principals: at most 64");
    }
    for (const auto& p : out.principals) {
        if (!is_valid_name(p)) {
            throw config::ConfigError(g.path() + ".principals: \"" + p.substr(0, 64) +
                                      "\" is not 1-128 characters of [A-Za-z0-9._@+=-]");
        }
    }
    std::sort(out.principals.begin(), out.principals.end());
    out.principals.erase(std::unique(out.principals.begin(), out.principals.end()), out.principals.end());
    out.max_ttl_s = g.integer("max_ttl_s", out.max_ttl_s, kMinTtlS, kMaxTtlS);
    const auto extensions = g.strings("extensions", {"permit-pty"});
    out.extensions.clear();
    for (const auto& e : extensions) {
        if (!is_known_extension(e)) {
            throw config::ConfigError(g.path() + ".extensions: unknown extension \"" + e.substr(0, 64) + "\"");
        }
        out.extensions.insert(e);
    }
    out.source_address = g.optional_string("source_address");
    if (out.source_address) {
        if (auto ok = sshcert::validate_cidr_list(*out.source_address); !ok) {
            throw config::ConfigError(g.path() + ".source_address: " + ok.error().message);
        }
    }
    out.force_command = g.optional_string("force_command");
    if (out.force_command &&
        (out.force_command->empty() || out.force_command->find('\0') != std::string::npos ||
         out.force_command->size() > sshcert::kMaxFieldBytes)) {
        throw config::ConfigError(g.path() + ".force_command: a non-empty command line of at most 1024 bytes");
    }
    out.admin = g.boolean("admin", false);
    g.finish();
    return out;
}

/// The groups of @p identity the policy knows, in the policy's (sorted) order.
std::vector<const GroupPolicy*> known_groups(const Policy& policy, const Identity& identity) {
    std::vector<const GroupPolicy*> out;
    for (const auto& g : policy.groups) {
        if (std::find(identity.groups.begin(), identity.groups.end(), g.name) != identity.groups.end()) {
            out.push_back(&g);
        }
    }
    return out;
}

bool grants(const GroupPolicy& g, std::string_view principal) {
    return std::binary_search(g.principals.begin(), g.principals.end(), principal);
}

/// The binding one option (source-address or force-command) puts on a principal: nullopt
/// when a granting group leaves it free, else the set of values its groups set.
using Binding = std::optional<std::set<std::string>>;

Binding binding_of(const std::vector<const GroupPolicy*>& granting,
                   const std::optional<std::string> GroupPolicy::*option) {
    std::set<std::string> values;
    for (const GroupPolicy* g : granting) {
        if (!(g->*option)) {
            return std::nullopt;  // one group grants it unrestricted
        }
        values.insert(*(g->*option));
    }
    return values;
}

}  // namespace

bool is_valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxNameBytes) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-' || c == '@' || c == '+' || c == '=';
    });
}

const GroupPolicy* Policy::group(std::string_view name) const noexcept {
    const auto it = std::lower_bound(groups.begin(), groups.end(), name,
                                     [](const GroupPolicy& g, std::string_view n) { return g.name < n; });
    return it != groups.end() && it->name == name ? &*it : nullptr;
}

namespace {

boost::system::result<Policy, std::string> from_document(
    const boost::system::result<boost::json::value, std::string>& doc, std::string_view name) {
    if (!doc) {
        return {boost::system::in_place_error, doc.error()};
    }
    try {
        Policy p;
        config::Reader root(doc->get_object(), "");
        p.default_ttl_s = root.integer("default_ttl_s", p.default_ttl_s, kMinTtlS, kMaxTtlS);
        p.backdate_s = root.integer("backdate_s", p.backdate_s, 0, 600);
        auto groups = root.named_children("groups");
        if (groups.size() > kMaxGroups) {
            throw config::ConfigError("groups: at most 1024");
        }
        for (auto& [group_name, reader] : groups) {
            p.groups.push_back(read_group(group_name, reader));
        }
        root.finish();
        std::sort(p.groups.begin(), p.groups.end(),
                  [](const GroupPolicy& a, const GroupPolicy& b) { return a.name < b.name; });
        return p;
    } catch (const config::ConfigError& e) {
        return {boost::system::in_place_error, std::string(name) + ": " + e.what()};
    }
}

}  // namespace

boost::system::result<Policy, std::string> Policy::parse(std::string_view text, std::string_view name) {
    return from_document(config::parse_text(text, name), name);
}

boost::system::result<Policy, std::string> Policy::load(const std::filesystem::path& file) {
    return from_document(config::load_file(file), file.filename().string());
}

Grant grant_for(const Policy& policy, const Identity& identity) {
    Grant out;
    std::set<std::string> principals;
    for (const GroupPolicy* g : known_groups(policy, identity)) {
        out.groups.push_back(g->name);
        principals.insert(g->principals.begin(), g->principals.end());
        out.max_ttl_s = std::max(out.max_ttl_s, g->max_ttl_s);
        out.extensions.insert(g->extensions.begin(), g->extensions.end());
        out.admin = out.admin || g->admin;
    }
    out.principals.assign(principals.begin(), principals.end());
    return out;
}

boost::system::result<UserCertDecision, Denied> decide_user_certificate(const Policy& policy,
                                                                        const Identity& identity,
                                                                        const UserCertOptions& options) {
    auto deny = [](Refusal why, std::string message) {
        return boost::system::result<UserCertDecision, Denied>(boost::system::in_place_error,
                                                               Denied{why, std::move(message)});
    };
    const auto groups = known_groups(policy, identity);
    if (groups.empty()) {
        return deny(Refusal::kNotAllowed, "none of your groups may have a certificate");
    }
    UserCertDecision d;
    if (options.principals) {
        std::vector<std::string> denied;
        for (const auto& p : *options.principals) {
            if (!is_valid_name(p)) {
                return deny(Refusal::kInvalid, "principals: each is 1-128 characters of [A-Za-z0-9._@+=-]");
            }
            const bool granted = std::any_of(groups.begin(), groups.end(), [&](const GroupPolicy* g) { return grants(*g, p); });
            (granted ? d.principals : denied).push_back(p);
        }
        if (!denied.empty()) {
            std::sort(denied.begin(), denied.end());
            denied.erase(std::unique(denied.begin(), denied.end()), denied.end());
            return deny(Refusal::kNotAllowed, "principals not allowed for your groups: " + join_names(denied));
        }
    } else {
        d.principals = grant_for(policy, identity).principals;
    }
    std::sort(d.principals.begin(), d.principals.end());
    d.principals.erase(std::unique(d.principals.begin(), d.principals.end()), d.principals.end());
    if (d.principals.empty()) {
        return deny(Refusal::kEmptyPrincipals, "the certificate would have no principals");
    }

    // Per principal: the groups granting it; the lifetime, extensions and bindings they allow.
    std::int64_t max_ttl = kMaxTtlS;
    std::optional<std::set<std::string>> allowed_extensions;
    std::set<std::string> used_groups;
    std::optional<std::set<std::string>> source;  // the one binding every bound principal shares
    std::optional<std::set<std::string>> command;
    bool source_conflict = false;
    bool command_conflict = false;
    for (const auto& p : d.principals) {
        std::vector<const GroupPolicy*> granting;
        std::int64_t longest = 0;
        std::set<std::string> exts;
        for (const GroupPolicy* g : groups) {
            if (grants(*g, p)) {
                granting.push_back(g);
                used_groups.insert(g->name);
                longest = std::max(longest, g->max_ttl_s);
                exts.insert(g->extensions.begin(), g->extensions.end());
            }
        }
        max_ttl = std::min(max_ttl, longest);
        if (!allowed_extensions) {
            allowed_extensions = std::move(exts);
        } else {
            std::set<std::string> both;
            std::set_intersection(allowed_extensions->begin(), allowed_extensions->end(), exts.begin(), exts.end(),
                                  std::inserter(both, both.begin()));
            allowed_extensions = std::move(both);
        }
        auto merge = [](std::optional<std::set<std::string>>& into, Binding b, bool& conflict) {
            if (!b) {
                return;
            }
            if (b->size() != 1 || (into && *into != *b)) {
                conflict = true;  // two different restrictions cannot both hold in one certificate
                return;
            }
            into = std::move(b);
        };
        merge(source, binding_of(granting, &GroupPolicy::source_address), source_conflict);
        merge(command, binding_of(granting, &GroupPolicy::force_command), command_conflict);
    }
    if (source_conflict || command_conflict) {
        return deny(Refusal::kNotAllowed,
                    std::string("these principals come with different ") +
                        (source_conflict ? "source-address" : "force-command") +
                        " restrictions: ask for them in separate certificates (--principals)");
    }
    d.groups.assign(used_groups.begin(), used_groups.end());

    d.ttl_s = options.ttl_s.value_or(std::min(policy.default_ttl_s, max_ttl));
    if (d.ttl_s < kMinTtlS) {
        return deny(Refusal::kInvalid, "ttl_s: at least 60");
    }
    if (d.ttl_s > max_ttl) {
        return deny(Refusal::kNotAllowed, "ttl_s: your groups allow at most " + std::to_string(max_ttl) +
                                              " s for these principals");
    }

    if (options.extensions) {
        std::vector<std::string> denied;
        for (const auto& e : *options.extensions) {
            if (!is_known_extension(e)) {
                return deny(Refusal::kInvalid, "extensions: unknown extension");
            }
            if (allowed_extensions->contains(e)) {
                d.extensions.insert(e);
            } else {
                denied.push_back(e);
            }
        }
        if (!denied.empty()) {
            return deny(Refusal::kNotAllowed, "extensions not allowed for these principals: " + join_names(denied));
        }
    } else if (allowed_extensions->contains("permit-pty")) {
        d.extensions.insert("permit-pty");
    }

    if (source) {
        if (options.source_address && *options.source_address != *source->begin()) {
            return deny(Refusal::kNotAllowed, "source_address: your groups set it for these principals");
        }
        d.critical_options["source-address"] = *source->begin();
    } else if (options.source_address) {
        if (auto ok = sshcert::validate_cidr_list(*options.source_address); !ok) {
            return deny(Refusal::kInvalid, "source_address: " + ok.error().message);
        }
        d.critical_options["source-address"] = *options.source_address;
    }
    if (command) {
        d.critical_options["force-command"] = *command->begin();
    }
    return d;
}

std::string user_key_id(std::string_view user, const std::vector<std::string>& groups, std::string_view request_id,
                        std::string_view ip) {
    std::string out = "user=";
    out += user;
    out += " groups=";
    out += join_names(groups);
    out += " req=";
    out += request_id;
    out += " ip=";
    out += ip;
    return out;
}

}  // namespace moneta::sshca
