#include "handlers/load_shedding.hpp"

#include "handlers/http_util.hpp"
#include "handlers/outcome_response.hpp"

namespace moneta::handlers {
namespace {

/// The permit's EndHook: an answer below 500 is a latency sample; a 5xx, or no answer at all,
/// only frees the slot (the permit's destructor cancels it).
void end_permit(void* owner, std::int64_t start_ns, int status) noexcept {
    resilience::LimitPermit permit = resilience::LimitPermit::adopt(
        {static_cast<resilience::AdaptiveLimit*>(owner), core::SteadyTime(core::SteadyTime::duration(start_ns))});
    if (status > 0 && status < 500) {
        permit.complete();
    }
}

http::EndHook end_hook(resilience::LimitPermit permit) noexcept {
    const resilience::LimitPermit::Raw raw = permit.release();
    return {&end_permit, raw.owner, raw.start.time_since_epoch().count()};
}

}  // namespace

http::Handler shed_overload(http::Handler inner, resilience::AdaptiveLimit* limit, const core::Clock& clock,
                            SheddingStats& stats, const http::Router* routes) {
    if (limit == nullptr) {
        return inner;
    }
    // Not a coroutine: the admitted request's permit goes to the Request's end hook, which the
    // server runs with the response's status, and the inner handler's awaitable is handed on as
    // it is (a coroutine here cost a frame, and a resume and a return through it, per request).
    return [inner = std::move(inner), limit, &clock, &stats, routes](http::Request& req) -> boost::asio::awaitable<http::Response> {
        if (!req.path().starts_with("/v1/")) {
            return inner(req);
        }
        auto permit = limit->try_acquire();
        if (!permit) {
            ++stats.shed_total;
            if (routes != nullptr) {
                (void)routes->match(req);  // labels the 503 by its route
            }
            return async_ready(error(domain::ApiError::kOverloaded, clock.wall_ms(), "{}", 1));
        }
        req.set_end_hook(end_hook(std::move(*permit)));
        return inner(req);
    };
}

}  // namespace moneta::handlers
