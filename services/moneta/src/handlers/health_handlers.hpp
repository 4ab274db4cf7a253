/// @file services/moneta/src/handlers/health_handlers.hpp
/// @brief /healthz (process alive), /readyz (Redis reachable) and /metrics.
#pragma once

#include <functional>

#include "moneta/core/clock.hpp"
#include "moneta/http/router.hpp"
#include "moneta/metrics/registry.hpp"
#include "moneta/redis/commands.hpp"

namespace moneta::handlers {

/// On the API port: /healthz and /readyz (ready when this worker's Redis connection is up).
void register_health_routes(http::Router& router, const redis::Commands& redis, const core::Clock& clock);

/// On the admin port: /metrics (Prometheus text), /healthz, /readyz (every worker's Redis up).
void register_admin_routes(http::Router& router, metrics::Registry& registry, const core::Clock& clock,
                           std::function<bool()> ready);

}  // namespace moneta::handlers
