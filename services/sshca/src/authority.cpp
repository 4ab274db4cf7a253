#include "authority.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "moneta/sshcert/certificate.hpp"
#include "moneta/sshcert/krl.hpp"

namespace moneta::sshca {
namespace {

namespace json = boost::json;

Failure failure(int status, std::string code, std::string message) {
    return Failure{status, std::move(code), std::move(message)};
}

json::array to_array(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.emplace_back(s);
    }
    return a;
}

/// A key the CA will certify: parsed strictly; its errors are the client's (400).
Outcome<sshcert::PublicKey> subject_key(std::string_view line) {
    auto key = sshcert::PublicKey::parse_line(line);
    if (!key) {
        return failure(400, "INVALID_KEY", "public_key: " + key.error().message);
    }
    return key->with_comment("");
}

bool is_valid_hostname(std::string_view h) {
    if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.' || h.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(h.begin(), h.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    });
}

}  // namespace

Authority::Authority(Policy policy, HostSettings host, CaKeys keys, Store store, const core::Clock& clock)
    : policy_(std::move(policy)), host_(std::move(host)), keys_(std::move(keys)), store_(std::move(store)), clock_(clock) {}

void Authority::record(std::string event, std::string actor, const CallContext& ctx, std::string detail_json) {
    (void)store_.audit(AuditEvent{0, clock_.wall_ms(), std::move(event), std::move(actor), ctx.ip, ctx.request_id,
                                  std::move(detail_json)});
}

void Authority::audit_denial(std::string_view actor, const CallContext& ctx, const Failure& f) {
    record("denied", std::string(actor), ctx,
           json::serialize(json::object{{"status", f.status}, {"code", f.code}, {"message", f.message}}));
}

Outcome<Issued> Authority::sign(CertKind kind, const std::string& subject, const std::string& public_key_line,
                                std::string key_id, std::vector<std::string> principals, std::int64_t ttl_s,
                                std::int64_t backdate_s, std::set<std::string> extensions,
                                std::map<std::string, std::string> options) {
    auto key = subject_key(public_key_line);
    if (!key) {
        return key.error();
    }
    const sshcert::CaKey& ca = kind == CertKind::kUser ? keys_.user() : keys_.host();
    const std::int64_t now_s = clock_.wall_ms() / 1000;
    NewCert row;
    row.kind = kind;
    row.subject = subject;
    row.key_id = key_id;
    row.principals = principals;
    row.valid_after = now_s - backdate_s;
    row.valid_before = now_s + ttl_s;
    row.key_fingerprint = key->fingerprint();
    row.public_key = key->to_line();
    row.ca_fingerprint = ca.public_key().fingerprint();
    row.issued_at_ms = clock_.wall_ms();

    sshcert::CertificateRequest req;
    req.type = kind == CertKind::kUser ? sshcert::CertType::kUser : sshcert::CertType::kHost;
    req.key_id = std::move(key_id);
    req.principals = std::move(principals);
    req.valid_after = static_cast<std::uint64_t>(row.valid_after);
    req.valid_before = static_cast<std::uint64_t>(row.valid_before);
    req.critical_options = std::move(options);
    req.extensions = std::move(extensions);

    std::optional<sshcert::Certificate> cert;
    std::optional<sshcert::Error> refused;
    auto serial = store_.issue(row, [&](std::uint64_t s) -> boost::system::result<void, std::string> {
        req.serial = s;
        auto signed_cert = sshcert::sign_certificate(ca, *key, req);
        if (!signed_cert) {
            refused = signed_cert.error();
            return {boost::system::in_place_error, signed_cert.error().message};
        }
        cert = std::move(*signed_cert);
        return {};
    });
    if (refused) {
        // The library refuses only what the policy and request checks let through by mistake.
        return failure(refused->code == sshcert::Errc::kEmptyPrincipals ? 422 : 400, "INVALID_REQUEST",
                       refused->message);
    }
    if (!serial) {
        return failure(503, "UNAVAILABLE", "the certificate store is unavailable");
    }
    Issued out;
    out.certificate = cert->to_line(subject);
    out.serial = *serial;
    out.key_id = req.key_id;
    out.principals = req.principals;
    out.valid_after = row.valid_after;
    out.valid_before = row.valid_before;
    out.ca_fingerprint = row.ca_fingerprint;
    return out;
}

Outcome<Issued> Authority::issue_user(const Identity& who, const UserCertCall& call, const CallContext& ctx) {
    auto decision = decide_user_certificate(policy_, who, call.options);
    if (!decision) {
        const Denied& d = decision.error();
        const Failure f = d.why == Refusal::kEmptyPrincipals ? failure(422, "EMPTY_PRINCIPALS", d.message)
                          : d.why == Refusal::kNotAllowed    ? failure(403, "FORBIDDEN", d.message)
                                                             : failure(400, "INVALID_REQUEST", d.message);
        audit_denial(who.user, ctx, f);
        return f;
    }
    if (store_.user_certs_since(who.user, clock_.wall_ms() - 3'600'000) >= kMaxUserCertsPerHour) {
        const Failure f = failure(429, "RATE_LIMITED",
                                  "at most " + std::to_string(kMaxUserCertsPerHour) + " certificates per user per hour");
        audit_denial(who.user, ctx, f);
        return f;
    }
    auto issued = sign(CertKind::kUser, who.user, call.public_key,
                       user_key_id(who.user, decision->groups, ctx.request_id, ctx.ip), decision->principals,
                       decision->ttl_s, policy_.backdate_s, decision->extensions, decision->critical_options);
    if (!issued) {
        audit_denial(who.user, ctx, issued.error());
        return issued;
    }
    record("issued", who.user, ctx,
           json::serialize(json::object{{"kind", "user"},
                                        {"serial", issued->serial},
                                        {"key_id", issued->key_id},
                                        {"principals", to_array(issued->principals)},
                                        {"valid_before", issued->valid_before},
                                        {"method", who.method}}));
    return issued;
}

Outcome<Issued> Authority::issue_host(std::string_view actor, const HostCertCall& call, const CallContext& ctx) {
    auto deny = [&](Failure f) {
        audit_denial(actor, ctx, f);
        return Outcome<Issued>(std::move(f));
    };
    if (call.hostnames.empty() || call.hostnames.size() > 32) {
        return deny(failure(422, "EMPTY_PRINCIPALS", "hostnames: 1 to 32 host names"));
    }
    for (const auto& h : call.hostnames) {
        if (!is_valid_hostname(h)) {
            return deny(failure(400, "INVALID_REQUEST", "hostnames: letters, digits, '-' and '.' only"));
        }
    }
    const std::int64_t ttl = call.ttl_s.value_or(host_.default_ttl_s);
    if (ttl < 60 || ttl > host_.max_ttl_s) {
        return deny(failure(403, "FORBIDDEN", "ttl_s: 60 to " + std::to_string(host_.max_ttl_s)));
    }
    const std::string key_id = "host=" + call.hostnames.front() + " req=" + ctx.request_id + " by=" + std::string(actor);
    auto issued = sign(CertKind::kHost, call.hostnames.front(), call.public_key, key_id, call.hostnames, ttl,
                       policy_.backdate_s, {}, {});
    if (!issued) {
        return deny(issued.error());
    }
    record("issued", std::string(actor), ctx,
           json::serialize(json::object{{"kind", "host"},
                                        {"serial", issued->serial},
                                        {"key_id", issued->key_id},
                                        {"principals", to_array(issued->principals)},
                                        {"valid_before", issued->valid_before}}));
    return issued;
}

Outcome<Revoked> Authority::revoke(const Identity& admin, const RevokeCall& call, const CallContext& ctx) {
    const int selectors = (call.serial ? 1 : 0) + (call.key_id ? 1 : 0) + (call.public_key ? 1 : 0) + (call.user ? 1 : 0);
    if (selectors != 1) {
        return failure(400, "INVALID_REQUEST", "exactly one of serial, key_id, public_key, user");
    }
    const std::int64_t now = clock_.wall_ms();
    StoreResult<std::optional<Revoked>> result = std::optional<Revoked>();
    std::string what;
    if (call.serial) {
        what = "serial " + std::to_string(*call.serial);
        result = store_.revoke_serial(*call.serial, call.reason, admin.user, now);
    } else if (call.key_id) {
        what = "key_id";
        result = store_.revoke_key_id(*call.key_id, call.reason, admin.user, now);
    } else if (call.public_key) {
        auto key = subject_key(*call.public_key);
        if (!key) {
            return key.error();
        }
        what = "public_key " + key->fingerprint();
        auto r = store_.revoke_public_key(key->to_line(), key->fingerprint(), call.reason, admin.user, now);
        result = r ? StoreResult<std::optional<Revoked>>(std::optional<Revoked>(std::move(*r)))
                   : StoreResult<std::optional<Revoked>>(boost::system::in_place_error, r.error());
    } else {
        if (!is_valid_name(*call.user)) {
            return failure(400, "INVALID_REQUEST", "user: not a valid user name");
        }
        what = "user " + *call.user;
        auto r = store_.revoke_user(*call.user, call.reason, admin.user, now);
        result = r ? StoreResult<std::optional<Revoked>>(std::optional<Revoked>(std::move(*r)))
                   : StoreResult<std::optional<Revoked>>(boost::system::in_place_error, r.error());
    }
    if (!result) {
        return failure(503, "UNAVAILABLE", "the certificate store is unavailable");
    }
    if (!*result) {
        return failure(404, "NOT_FOUND", "no certificate has that " + what);
    }
    json::array serials;
    for (const auto s : (*result)->serials) {
        serials.emplace_back(s);
    }
    record("revoked", admin.user, ctx,
           json::serialize(json::object{{"what", what},
                                        {"key_id", call.key_id.value_or("")},
                                        {"reason", call.reason},
                                        {"serials", std::move(serials)},
                                        {"krl_version", (*result)->krl_version}}));
    return std::move(**result);
}

std::vector<CertRow> Authority::certs(std::optional<std::string_view> user, bool active_only, std::size_t limit) {
    return store_.certs(user, active_only, clock_.wall_ms() / 1000, limit);
}

std::vector<AuditEvent> Authority::audit(std::int64_t since_ms, std::size_t limit) {
    return store_.audit_since(since_ms, limit);
}

Outcome<std::pair<std::uint64_t, const std::string*>> Authority::krl() {
    auto state = store_.revocation_state();
    if (!state) {
        return failure(503, "UNAVAILABLE", "the certificate store is unavailable");
    }
    if (state->version != krl_version_) {
        sshcert::KrlSpec spec;
        spec.version = state->version;
        spec.generated_date = static_cast<std::uint64_t>(state->generated_s);
        spec.comment = "moneta sshca";
        auto parse = [](const std::string& line) { return sshcert::PublicKey::parse_line(line); };
        for (const auto& ca : state->serials) {
            auto key = parse(ca.ca_public_key);
            if (!key) {
                return failure(500, "INTERNAL", "a stored CA key does not parse");
            }
            spec.certificates.push_back(sshcert::KrlCertificates{*key, ca.serials, {}});
        }
        if (!state->key_ids.empty()) {
            for (const auto& line : state->user_ca_public_keys) {
                auto key = parse(line);
                if (!key) {
                    return failure(500, "INTERNAL", "a stored CA key does not parse");
                }
                auto it = std::find_if(spec.certificates.begin(), spec.certificates.end(),
                                       [&](const sshcert::KrlCertificates& c) { return c.ca_key == *key; });
                if (it == spec.certificates.end()) {
                    spec.certificates.push_back(sshcert::KrlCertificates{*key, {}, {}});
                    it = spec.certificates.end() - 1;
                }
                it->key_ids = state->key_ids;
            }
        }
        for (const auto& line : state->public_keys) {
            auto key = parse(line);
            if (!key) {
                return failure(500, "INTERNAL", "a stored revoked key does not parse");
            }
            spec.revoked_keys.push_back(*key);
        }
        auto bytes = sshcert::build_krl(spec);
        if (!bytes) {
            return failure(500, "INTERNAL", "the KRL could not be built: " + bytes.error().message);
        }
        krl_ = std::move(*bytes);
        krl_version_ = state->version;
    }
    return std::pair<std::uint64_t, const std::string*>(krl_version_, &krl_);
}

std::string Authority::user_ca_lines() const {
    std::string out;
    for (const auto& k : keys_.published_user_keys()) {
        out += k.with_comment("moneta-sshca-user-ca").to_line() + "\n";
    }
    return out;
}

std::string Authority::host_ca_lines() const {
    return "@cert-authority " + host_.known_hosts_pattern + " " +
           keys_.host().public_key().with_comment("moneta-sshca-host-ca").to_line() + "\n";
}

}  // namespace moneta::sshca
