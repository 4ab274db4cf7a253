// The routes anyone may call: health, the CA keys hosts trust, the KRL (ETag), metrics.
#include "http_api.hpp"
#include "moneta/metrics/registry.hpp"

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
    // The counters through libs/metrics' registry (read at scrape time), like every service's.
    auto registry = std::make_shared<metrics::Registry>();
    const auto counter = [&](std::string_view name, std::string_view help, metrics::Labels labels,
                             std::uint64_t CaStats::*field) {
        registry->callback_counter(name, help, std::move(labels),
                                   [api, field] { return static_cast<double>(api->stats.*field); });
    };
    counter("sshca_certificates_issued_total", "Certificates signed, by kind.", {{"kind", "user"}},
            &CaStats::issued_user);
    counter("sshca_certificates_issued_total", "Certificates signed, by kind.", {{"kind", "host"}},
            &CaStats::issued_host);
    counter("sshca_certificates_denied_total", "Certificate requests refused by the policy or the checks.", {},
            &CaStats::denied);
    counter("sshca_revocations_total", "Revocation requests applied.", {}, &CaStats::revocations);
    counter("sshca_auth_failures_total", "Calls refused for a missing or invalid identity.", {},
            &CaStats::auth_failures);
    counter("sshca_auth_rate_limited_total", "Calls refused because their address failed too often.", {},
            &CaStats::rate_limited);
    router.add(http::Method::kGet, "/metrics", [registry](http::Request&) -> awaitable<http::Response> {
        http::Response r;
        r.content_type = metrics::Registry::kContentType;
        r.body = registry->render_text();
        co_return r;
    });
}

}  // namespace moneta::sshca::api
