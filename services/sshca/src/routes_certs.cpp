// The certificate routes: who am I, a user certificate, a host certificate, the listing.
#include "http_api.hpp"

namespace moneta::sshca::api {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

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

}  // namespace

void add_cert_routes(http::Router& router, const std::shared_ptr<Api>& api) {
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
}

}  // namespace moneta::sshca::api
