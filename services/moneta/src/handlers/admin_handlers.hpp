/// @file services/moneta/src/handlers/admin_handlers.hpp
/// @brief Admin-port resilience controls: list the circuit breakers and switch their mode at
/// runtime (forced_open = kill switch, forced_closed, disabled, metrics_only, normal).
/// The admin port is never exposed through nginx (deploy/nginx allow-lists /v1 only).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/http/router.hpp"
#include "moneta/resilience/circuit_breaker.hpp"

namespace moneta::handlers {

struct NamedBreaker {
    std::string name;  ///< "internal_api.account", ..., "redis"
    resilience::CircuitBreaker* breaker;
};

/// "normal", "forced_open", ... → Mode; nullopt for anything else.
std::optional<resilience::Mode> parse_mode(std::string_view name) noexcept;

/// GET /admin/breakers → {"breakers":[{name,state,mode,open,...counters}]};
/// PUT /admin/breakers/{name} with {"mode":"forced_open"} → 200 and the breaker's new view;
/// 404 NOT_FOUND for an unknown name, 400 INVALID_REQUEST for any other body.
void register_breaker_routes(http::Router& router, std::vector<NamedBreaker> breakers, const core::Clock& clock);

}  // namespace moneta::handlers
