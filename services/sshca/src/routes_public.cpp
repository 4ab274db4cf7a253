// The routes anyone may call: health, the CA keys hosts trust, the KRL (ETag), metrics.
#include "http_api.hpp"

namespace moneta::sshca::api {

namespace json = boost::json;
using boost::asio::awaitable;

void add_public_routes(http::Router& router, const std::shared_ptr<Api>& api) {
    router.add(http::Method::kGet, "/healthz", [api](http::Request&) -> awaitable<http::Response> {
        co_return json_response(200, json::object{{"status", "ok"}, {"server_time", api->clock.wall_ms() / 1000}});
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

}  // namespace moneta::sshca::api
