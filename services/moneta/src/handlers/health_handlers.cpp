#include "handlers/health_handlers.hpp"

#include <string>

namespace moneta::handlers {
namespace {

http::Response status_body(bool ok, std::int64_t now_ms) {
    if (!ok) {
        http::Response r = http::error_response(503, "NOT_READY", "Not ready: Redis is unreachable.",
                                                true, now_ms);
        r.headers.emplace_back("Retry-After", "1");
        return r;
    }
    http::Response r;
    r.body = R"({"status":"ok","server_time_ms":)" + std::to_string(now_ms) + "}";
    return r;
}

}  // namespace

void register_health_routes(http::Router& router, const redis::Commands& redis, const core::Clock& clock,
                            ReadinessGate& gate) {
    router.add(http::Method::kGet, "/healthz", [&clock](http::Request&) -> boost::asio::awaitable<http::Response> {
        co_return status_body(true, clock.wall_ms());
    });
    router.add(http::Method::kGet, "/readyz", [&clock, &redis, &gate](http::Request&) -> boost::asio::awaitable<http::Response> {
        co_return status_body(gate.ready(redis.connected()), clock.wall_ms());
    });
}

void register_admin_routes(http::Router& router, metrics::Registry& registry, const core::Clock& clock,
                           std::function<bool()> ready) {
    router.add(http::Method::kGet, "/metrics", [&registry](http::Request& req) -> boost::asio::awaitable<http::Response> {
        // OpenMetrics (with exemplars) when the scraper prefers it, the text format otherwise.
        http::Response r;
        if (metrics::accepts_openmetrics(req.header("accept").value_or(""))) {
            r.body = registry.render_openmetrics();
            r.content_type = metrics::Registry::kOpenMetricsContentType;
        } else {
            r.body = registry.render_text();
            r.content_type = metrics::Registry::kContentType;
        }
        co_return r;
    });
    router.add(http::Method::kGet, "/healthz", [&clock](http::Request&) -> boost::asio::awaitable<http::Response> {
        co_return status_body(true, clock.wall_ms());
    });
    router.add(http::Method::kGet, "/readyz", [&clock, ready](http::Request&) -> boost::asio::awaitable<http::Response> {
        co_return status_body(ready(), clock.wall_ms());
    });
}

}  // namespace moneta::handlers
