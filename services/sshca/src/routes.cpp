#include "routes.hpp"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include <charconv>
#include <set>

#include "moneta/http/response.hpp"

namespace moneta::sshca {
namespace {

namespace json = boost::json;
using boost::asio::awaitable;

constexpr std::size_t kMaxListed = 1000;

http::Response error(const Failure& f, const core::Clock& clock) {
    return http::error_response(f.status, f.code, f.message, f.status == 503, clock.wall_ms());
}

http::Response json_response(int status, const json::object& body) {
    http::Response r;
    r.status = status;
    r.body = json::serialize(body);
    return r;
}

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.emplace_back(s);
    }
    return a;
}

/// The body as a JSON object whose members are all in @p allowed; an error message otherwise.
boost::system::result<json::object, std::string> body_object(std::string_view body,
                                                             std::initializer_list<std::string_view> allowed) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return {boost::system::in_place_error, "the body must be a JSON object"};
    }
    for (const auto& kv : v.get_object()) {
        if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
            return {boost::system::in_place_error, "unknown member \"" + std::string(kv.key().substr(0, 64)) + "\""};
        }
    }
    return std::move(v.get_object());
}

/// Reads an optional member of one type; @p bad is set when it has another.
std::optional<std::string> opt_string(const json::object& o, std::string_view key, bool& bad) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        bad = true;
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<std::int64_t> opt_int(const json::object& o, std::string_view key, bool& bad) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_int64() && !v->is_uint64()) {
        bad = true;
        return std::nullopt;
    }
    return v->is_int64() ? v->get_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), INT64_MAX));
}

std::optional<std::vector<std::string>> opt_strings(const json::object& o, std::string_view key, bool& bad) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_array() || v->get_array().size() > 256) {
        bad = true;
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& e : v->get_array()) {
        if (!e.is_string()) {
            bad = true;
            return std::nullopt;
        }
        out.emplace_back(e.get_string());
    }
    return out;
}

http::Response invalid(std::string message, const core::Clock& clock) {
    return error(Failure{400, "INVALID_REQUEST", std::move(message)}, clock);
}

CallContext call_context(const http::Request& r) {
    return CallContext{std::string(r.remote_ip()), r.context().request_id};
}

json::object issued_json(const Issued& i, const core::Clock& clock) {
    return json::object{{"certificate", i.certificate},     {"serial", i.serial},
                        {"key_id", i.key_id},               {"principals", strings(i.principals)},
                        {"valid_after", i.valid_after},     {"valid_before", i.valid_before},
                        {"ca_fingerprint", i.ca_fingerprint}, {"server_time", clock.wall_ms() / 1000}};
}

json::object cert_json(const CertRow& c) {
    json::object o{{"serial", c.serial},
                   {"kind", c.cert.kind == CertKind::kHost ? "host" : "user"},
                   {"subject", c.cert.subject},
                   {"key_id", c.cert.key_id},
                   {"principals", strings(c.cert.principals)},
                   {"valid_after", c.cert.valid_after},
                   {"valid_before", c.cert.valid_before},
                   {"key_fingerprint", c.cert.key_fingerprint},
                   {"ca_fingerprint", c.cert.ca_fingerprint},
                   {"issued_at_ms", c.cert.issued_at_ms},
                   {"revoked", c.revoked_at_ms.has_value()}};
    if (c.revoked_at_ms) {
        o["revoked_at_ms"] = *c.revoked_at_ms;
    }
    return o;
}

/// The query's parameters (names unique, each in @p allowed), or an error message.
boost::system::result<std::map<std::string, std::string>, std::string> query_params(
    std::string_view query, std::initializer_list<std::string_view> allowed) {
    std::map<std::string, std::string> out;
    if (query.empty()) {
        return out;
    }
    // Boost.URL 1.81's parse_query reads the last value up to a NUL, past the view's end (here
    // into " HTTP/1.1\r\n…" of the request line): parse a NUL-terminated copy.
    const std::string terminated(query);
    auto params = boost::urls::parse_query(terminated);
    if (!params) {
        return {boost::system::in_place_error, "the query string is malformed"};
    }
    for (const auto& p : *params) {
        if (std::find(allowed.begin(), allowed.end(), p.key) == allowed.end()) {
            return {boost::system::in_place_error, "unknown query parameter"};
        }
        // The value percent-decoded (alice%40corp is alice@corp).
        std::string key(p.key.data(), p.key.size());
        std::string value = p.has_value ? p.value.decode() : std::string();
        if (!out.emplace(std::move(key), std::move(value)).second) {
            return {boost::system::in_place_error, "a query parameter is repeated"};
        }
    }
    return out;
}

std::optional<std::int64_t> to_int(std::string_view s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? std::optional<std::int64_t>(v) : std::nullopt;
}

/// The routes' shared state and the authentication step every /v1 call but the public ones takes.
struct Api {
    Authority& authority;
    Authenticator& auth;
    const AwsIdentity* aws;
    CaStats& stats;
    const core::Clock& clock;

    http::Response rate_limited() {
        ++stats.rate_limited;
        http::Response resp =
            http::error_response(429, "RATE_LIMITED", "Too many failed identity attempts.", true, clock.wall_ms());
        resp.headers.emplace_back("Retry-After", "60");
        return resp;
    }

    /// user(), or for `Authorization: AWS4-STS …` the AWS IAM identity (asked of STS and IAM).
    /// Refusals count as failures of the address and are audited, like a bad token; AWS being
    /// unreachable (503) is neither: it is not the caller's doing.
    awaitable<std::variant<Identity, http::Response>> async_user(const http::Request& r) {
        const auto credential = aws_sts_credential(r.header("authorization"));
        if (!credential) {
            co_return user(r);
        }
        const std::string ip(r.remote_ip());
        if (auth.limited(ip)) {
            co_return rate_limited();
        }
        AwsOutcome o;
        if (aws == nullptr) {
            o.status = 401;
            o.code = "UNAUTHENTICATED";
            o.message = "AWS IAM identity is not enabled on this CA.";
            o.reason = "aws: not enabled";
        } else {
            o = co_await aws->async_identify(*credential, clock.wall_ms() / 1000);
            if (o.identity) {
                co_return std::move(*o.identity);
            }
        }
        if (o.status != 503) {
            ++stats.auth_failures;
            auth.limiter().record_failure(ip);
            authority.record("auth_failed", "", call_context(r), json::serialize(json::object{{"reason", o.reason}}));
        }
        http::Response resp = http::error_response(o.status, o.code, o.message, o.status == 503, clock.wall_ms());
        if (o.status == 401) {
            resp.headers.emplace_back("WWW-Authenticate", "Bearer, AWS4-STS");
        }
        co_return resp;
    }

    /// The caller, or the response refusing it (401, or 429 after too many failures). An invalid
    /// token is audited; once an address is limited nothing more is, so the audit log grows by
    /// at most max_failures_per_window rows per address and window.
    std::variant<Identity, http::Response> user(const http::Request& r) {
        AuthResult a = auth.user(r.header("authorization"), r.remote_ip());
        if (a.identity) {
            return std::move(*a.identity);
        }
        if (a.failure == AuthFailure::kLimited) {
            return rate_limited();
        }
        ++stats.auth_failures;
        if (auth.limiter().limited(r.remote_ip()) || a.failure != AuthFailure::kMissing) {
            authority.record("auth_failed", "", call_context(r),
                             json::serialize(json::object{{"reason", a.reason}}));
        }
        http::Response resp =
            http::error_response(401, "UNAUTHENTICATED", "A valid identity token is required.", false, clock.wall_ms());
        resp.headers.emplace_back("WWW-Authenticate", "Bearer");
        return resp;
    }
};

}  // namespace

void add_routes(http::Router& router, Authority& authority, Authenticator& auth, const AwsIdentity* aws,
                CaStats& stats, const core::Clock& clock) {
    auto api = std::make_shared<Api>(Api{authority, auth, aws, stats, clock});

    router.add(http::Method::kGet, "/healthz", [&clock](http::Request&) -> awaitable<http::Response> {
        co_return json_response(200, json::object{{"status", "ok"}, {"server_time", clock.wall_ms() / 1000}});
    });
    router.add(http::Method::kGet, "/v1/ca/user.pub", [api](http::Request&) -> awaitable<http::Response> {
        http::Response r;
        r.content_type = "text/plain; charset=utf-8";
        r.body = api->authority.user_ca_lines();
        co_return r;
    });
    router.add(http::Method::kGet, "/v1/ca/host.pub", [api](http::Request&) -> awaitable<http::Response> {
        http::Response r;
        r.content_type = "text/plain; charset=utf-8";
        r.body = api->authority.host_ca_lines();
        co_return r;
    });
    router.add(http::Method::kGet, "/v1/krl", [api](http::Request& req) -> awaitable<http::Response> {
        auto krl = api->authority.krl();
        if (!krl) {
            co_return error(krl.error(), api->clock);
        }
        const std::string etag = "\"" + std::to_string(krl->first) + "\"";
        http::Response r;
        r.headers.emplace_back("ETag", etag);
        if (req.header("if-none-match") == std::optional<std::string_view>(etag)) {
            r.status = 304;
            co_return r;
        }
        r.content_type = "application/octet-stream";
        r.body = *krl->second;
        co_return r;
    });
    router.add(http::Method::kGet, "/v1/me", [api](http::Request& req) -> awaitable<http::Response> {
        auto who = co_await api->async_user(req);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_return std::move(*refused);
        }
        const Identity& id = std::get<Identity>(who);
        const Grant g = api->authority.me(id);
        co_return json_response(200, json::object{{"user", id.user},
                                                  {"groups", strings(g.groups)},
                                                  {"principals", strings(g.principals)},
                                                  {"max_ttl_s", g.max_ttl_s},
                                                  {"allowed_extensions", strings({g.extensions.begin(), g.extensions.end()})},
                                                  {"admin", g.admin},
                                                  {"server_time", api->clock.wall_ms() / 1000}});
    });
    router.add(http::Method::kPost, "/v1/certs/user", [api](http::Request& req) -> awaitable<http::Response> {
        auto who = co_await api->async_user(req);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_return std::move(*refused);
        }
        auto body = body_object(req.body(), {"public_key", "ttl_s", "principals", "extensions", "source_address"});
        if (!body) {
            co_return invalid(body.error(), api->clock);
        }
        bool bad = false;
        UserCertCall call;
        auto key = opt_string(*body, "public_key", bad);
        call.options.ttl_s = opt_int(*body, "ttl_s", bad);
        call.options.principals = opt_strings(*body, "principals", bad);
        call.options.extensions = opt_strings(*body, "extensions", bad);
        call.options.source_address = opt_string(*body, "source_address", bad);
        if (bad || !key) {
            co_return invalid("public_key (string) is required; ttl_s is an integer; principals and extensions are "
                              "arrays of strings; source_address is a string",
                              api->clock);
        }
        call.public_key = std::move(*key);
        auto issued = api->authority.issue_user(std::get<Identity>(who), call, call_context(req));
        if (!issued) {
            ++api->stats.denied;
            co_return error(issued.error(), api->clock);
        }
        ++api->stats.issued_user;
        co_return json_response(201, issued_json(*issued, api->clock));
    });
    router.add(http::Method::kPost, "/v1/certs/host", [api](http::Request& req) -> awaitable<http::Response> {
        std::string actor = "host-token";
        if (api->auth.limited(req.remote_ip())) {
            ++api->stats.rate_limited;
            co_return http::error_response(429, "RATE_LIMITED", "Too many failed identity attempts.", true,
                                           api->clock.wall_ms());
        }
        if (!api->auth.is_host_token(req.header("authorization"))) {
            auto who = co_await api->async_user(req);
            if (auto* refused = std::get_if<http::Response>(&who)) {
                co_return std::move(*refused);
            }
            if (!api->authority.is_admin(std::get<Identity>(who))) {
                co_return error(Failure{403, "FORBIDDEN", "host certificates need the host token or an admin"},
                                api->clock);
            }
            actor = std::get<Identity>(who).user;
        }
        auto body = body_object(req.body(), {"public_key", "hostnames", "ttl_s"});
        if (!body) {
            co_return invalid(body.error(), api->clock);
        }
        bool bad = false;
        HostCertCall call;
        auto key = opt_string(*body, "public_key", bad);
        auto names = opt_strings(*body, "hostnames", bad);
        call.ttl_s = opt_int(*body, "ttl_s", bad);
        if (bad || !key || !names) {
            co_return invalid("public_key (string) and hostnames (array of strings) are required", api->clock);
        }
        call.public_key = std::move(*key);
        call.hostnames = std::move(*names);
        auto issued = api->authority.issue_host(actor, call, call_context(req));
        if (!issued) {
            ++api->stats.denied;
            co_return error(issued.error(), api->clock);
        }
        ++api->stats.issued_host;
        co_return json_response(201, issued_json(*issued, api->clock));
    });
    router.add(http::Method::kGet, "/v1/certs", [api](http::Request& req) -> awaitable<http::Response> {
        auto who = co_await api->async_user(req);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_return std::move(*refused);
        }
        const Identity& id = std::get<Identity>(who);
        auto q = query_params(req.query(), {"user", "active"});
        if (!q) {
            co_return invalid(q.error(), api->clock);
        }
        std::optional<std::string> user;
        if (auto it = q->find("user"); it != q->end()) {
            user = it->second;
        }
        if (!api->authority.is_admin(id)) {
            if (user && *user != id.user) {
                co_return error(Failure{403, "FORBIDDEN", "only admins may list another user's certificates"},
                                api->clock);
            }
            user = id.user;
        }
        const auto active = q->find("active");
        if (active != q->end() && active->second != "0" && active->second != "1") {
            co_return invalid("active: 0 or 1", api->clock);
        }
        json::array items;
        const bool active_only = active != q->end() && active->second == "1";
        for (const CertRow& c : api->authority.certs(user ? std::optional<std::string_view>(*user) : std::nullopt,
                                                     active_only, kMaxListed)) {
            items.push_back(cert_json(c));
        }
        co_return json_response(200, json::object{{"items", std::move(items)}});
    });
    router.add(http::Method::kPost, "/v1/revocations", [api](http::Request& req) -> awaitable<http::Response> {
        auto who = co_await api->async_user(req);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_return std::move(*refused);
        }
        const Identity& id = std::get<Identity>(who);
        if (!api->authority.is_admin(id)) {
            co_return error(Failure{403, "FORBIDDEN", "only admins may revoke"}, api->clock);
        }
        auto body = body_object(req.body(), {"serial", "key_id", "public_key", "user", "reason"});
        if (!body) {
            co_return invalid(body.error(), api->clock);
        }
        bool bad = false;
        RevokeCall call;
        if (auto s = opt_int(*body, "serial", bad)) {
            if (*s <= 0) {
                bad = true;
            } else {
                call.serial = static_cast<std::uint64_t>(*s);
            }
        }
        call.key_id = opt_string(*body, "key_id", bad);
        call.public_key = opt_string(*body, "public_key", bad);
        call.user = opt_string(*body, "user", bad);
        call.reason = opt_string(*body, "reason", bad).value_or("");
        if (bad || call.reason.size() > 1024 || (call.key_id && (call.key_id->empty() || call.key_id->size() > 1024))) {
            co_return invalid("serial is a positive integer; key_id, public_key, user and reason are strings",
                              api->clock);
        }
        auto revoked = api->authority.revoke(id, call, call_context(req));
        if (!revoked) {
            co_return error(revoked.error(), api->clock);
        }
        ++api->stats.revocations;
        json::array serials;
        for (const auto s : revoked->serials) {
            serials.emplace_back(s);
        }
        co_return json_response(201, json::object{{"krl_version", revoked->krl_version}, {"serials", std::move(serials)}});
    });
    router.add(http::Method::kGet, "/v1/audit", [api](http::Request& req) -> awaitable<http::Response> {
        auto who = co_await api->async_user(req);
        if (auto* refused = std::get_if<http::Response>(&who)) {
            co_return std::move(*refused);
        }
        if (!api->authority.is_admin(std::get<Identity>(who))) {
            co_return error(Failure{403, "FORBIDDEN", "only admins may read the audit log"}, api->clock);
        }
        auto q = query_params(req.query(), {"since"});
        if (!q) {
            co_return invalid(q.error(), api->clock);
        }
        std::int64_t since_ms = 0;
        if (auto it = q->find("since"); it != q->end()) {
            const auto s = to_int(it->second);
            if (!s || *s < 0) {
                co_return invalid("since: seconds since the epoch", api->clock);
            }
            since_ms = *s * 1000;
        }
        json::array items;
        for (const AuditEvent& e : api->authority.audit(since_ms, kMaxListed)) {
            boost::system::error_code ec;
            json::value detail = json::parse(e.detail, ec);
            items.push_back(json::object{{"id", e.id},
                                         {"at_ms", e.at_ms},
                                         {"event", e.event},
                                         {"actor", e.actor},
                                         {"ip", e.ip},
                                         {"request_id", e.request_id},
                                         {"detail", ec ? json::value(json::object{}) : std::move(detail)}});
        }
        co_return json_response(200, json::object{{"items", std::move(items)}});
    });
    router.add(http::Method::kGet, "/metrics", [api](http::Request&) -> awaitable<http::Response> {
        const CaStats& s = api->stats;
        http::Response r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = "# HELP sshca_certificates_issued_total Certificates signed, by kind.\n"
                 "# TYPE sshca_certificates_issued_total counter\n"
                 "sshca_certificates_issued_total{kind=\"user\"} " + std::to_string(s.issued_user) + "\n"
                 "sshca_certificates_issued_total{kind=\"host\"} " + std::to_string(s.issued_host) + "\n"
                 "# HELP sshca_certificates_denied_total Certificate requests refused by the policy or the checks.\n"
                 "# TYPE sshca_certificates_denied_total counter\n"
                 "sshca_certificates_denied_total " + std::to_string(s.denied) + "\n"
                 "# HELP sshca_revocations_total Revocation requests applied.\n"
                 "# TYPE sshca_revocations_total counter\n"
                 "sshca_revocations_total " + std::to_string(s.revocations) + "\n"
                 "# HELP sshca_auth_failures_total Calls refused for a missing or invalid identity.\n"
                 "# TYPE sshca_auth_failures_total counter\n"
                 "sshca_auth_failures_total " + std::to_string(s.auth_failures) + "\n"
                 "# HELP sshca_auth_rate_limited_total Calls refused because their address failed too often.\n"
                 "# TYPE sshca_auth_rate_limited_total counter\n"
                 "sshca_auth_rate_limited_total " + std::to_string(s.rate_limited) + "\n";
        co_return r;
    });
}

}  // namespace moneta::sshca
