/// @file services/moneta/src/handlers/admin_handlers.hpp
/// @brief Admin-port resilience controls: list the circuit breakers and switch their mode at
/// runtime (forced_open = kill switch, forced_closed, disabled, metrics_only, normal).
/// The admin port is never exposed through nginx (deploy/nginx allow-lists /v1 only), binds to
/// loopback by default (server.admin_address), and every state-changing route needs the admin
/// token (docs/moneta.md "Admin port").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/http/router.hpp"
#include "moneta/resilience/circuit_breaker.hpp"

namespace moneta::handlers {

/// A breaker as the admin port and metrics see it: one name, one or more members (the Redis
/// breaker is kept per worker: resilience::merged_stats). A mode is set on every member.
struct NamedBreaker {
    std::string name;  ///< "internal_api.account", ..., "redis"
    std::vector<resilience::CircuitBreaker*> members;

    resilience::CircuitBreakerStats stats() const noexcept;
    void set_mode(resilience::Mode m) const noexcept;
};

/// "normal", "forced_open", ... → Mode; nullopt for anything else.
std::optional<resilience::Mode> parse_mode(std::string_view name) noexcept;

/// Whether a request may change state on the admin port: it must carry
/// `Authorization: Bearer <admin token>` (compared in constant time, http::secret_equals).
/// @param admin_token server.admin_token; empty = state-changing routes are disabled.
/// @return nullopt when allowed; otherwise the answer (api.md error body, token never echoed):
/// 403 ADMIN_DISABLED when no token is configured; 401 TOKEN_MISSING without a Bearer
/// credential, 401 TOKEN_INVALID with a wrong one (both with `WWW-Authenticate: Bearer`).
std::optional<http::Response> check_admin_token(const http::Request& req, std::string_view admin_token,
                                                std::int64_t now_ms);

/// GET /admin/breakers → {"breakers":[{name,state,mode,open,...counters}]} (open: read-only);
/// PUT /admin/breakers/{name} with {"mode":"forced_open"} → 200 and the breaker's new view, only
/// with the admin token (check_admin_token, checked before anything else);
/// 404 NOT_FOUND for an unknown name, 400 INVALID_REQUEST for any other body.
void register_breaker_routes(http::Router& router, std::vector<NamedBreaker> breakers, const core::Clock& clock,
                             std::string admin_token);

}  // namespace moneta::handlers
