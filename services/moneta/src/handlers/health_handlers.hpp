/// @file services/moneta/src/handlers/health_handlers.hpp
/// @brief /healthz (process alive), /readyz (Redis reachable) and /metrics.
#pragma once

#include <atomic>
#include <functional>

#include "moneta/core/clock.hpp"
#include "moneta/http/router.hpp"
#include "moneta/metrics/registry.hpp"
#include "moneta/redis/commands.hpp"

namespace moneta::handlers {

/// Readiness: not ready until Redis has answered once (a fresh instance must not take traffic it
/// could only fail open); after that, with @p fail_open, a Redis outage does not make the instance
/// unready — every instance shares that Redis, and pulling them all out of the load balancer
/// would turn a degraded service into an outage. Without it, ready == connected.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (one atomic latch).
class ReadinessGate {
public:
    explicit ReadinessGate(bool fail_open) noexcept : fail_open_(fail_open) {}
    bool ready(bool redis_connected) noexcept {
        if (redis_connected) {
            seen_connected_.store(true, std::memory_order_relaxed);
            return true;
        }
        return fail_open_ && seen_connected_.load(std::memory_order_relaxed);
    }

private:
    const bool fail_open_;
    std::atomic<bool> seen_connected_{false};
};

/// On the API port: /healthz and /readyz (this worker's Redis connection through @p gate).
void register_health_routes(http::Router& router, const redis::Commands& redis, const core::Clock& clock,
                            ReadinessGate& gate);

/// On the admin port: /metrics (Prometheus text), /healthz, /readyz (every worker's Redis up).
void register_admin_routes(http::Router& router, metrics::Registry& registry, const core::Clock& clock,
                           std::function<bool()> ready);

}  // namespace moneta::handlers
