#include "handlers/load_shedding.hpp"

#include "handlers/http_util.hpp"

namespace moneta::handlers {

http::Handler shed_overload(http::Handler inner, resilience::AdaptiveLimit* limit, const core::Clock& clock,
                            SheddingStats& stats, const http::Router* routes) {
    if (limit == nullptr) {
        return inner;
    }
    return [inner = std::move(inner), limit, &clock, &stats, routes](http::Request& req) -> boost::asio::awaitable<http::Response> {
        if (!req.path().starts_with("/v1/")) {
            co_return co_await inner(req);
        }
        auto permit = limit->try_acquire();
        if (!permit) {
            ++stats.shed_total;
            if (routes != nullptr) {
                (void)routes->match(req);  // labels the 503 by its route
            }
            co_return error(domain::ApiError::kOverloaded, clock.wall_ms(), "{}", 1);
        }
        http::Response res = co_await inner(req);
        if (res.status < 500) {
            permit->complete();
        } else {
            permit->cancel();
        }
        co_return res;
    };
}

}  // namespace moneta::handlers
