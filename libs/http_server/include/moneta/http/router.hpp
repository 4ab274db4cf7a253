/// @file moneta/http/router.hpp
/// @brief Method + path-pattern routing with 404 NOT_FOUND and 405 METHOD_NOT_ALLOWED (+ Allow).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/http/handler.hpp"

namespace moneta::http {

/// Patterns are literal segments and `{name}` segments (one non-empty segment each):
/// `/v1/playback/sessions/{id}/heartbeat`. HEAD is served by a GET route (body dropped by the
/// server). Build before serving; dispatch is then read-only.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe for concurrent dispatch after setup.
class Router {
public:
    explicit Router(const core::Clock& clock) : clock_(&clock) {}

    void add(Method method, std::string_view pattern, Handler handler);
    boost::asio::awaitable<Response> async_dispatch(Request& req) const;
    /// A root handler that dispatches through this router (which must outlive it).
    Handler as_handler() const&;

    struct Match {
        const Handler* handler = nullptr;  ///< null: not found or method not allowed
        std::string allow;                 ///< non-empty: path exists, method not allowed
    };
    /// Finds the route for @p req and fills its path params.
    Match match(Request& req) const;

private:
    struct Route {
        Method method;
        std::vector<std::string> segments;  ///< "{}" for a parameter
        Handler handler;
    };
    const core::Clock* clock_;
    std::vector<Route> routes_;
};

}  // namespace moneta::http
