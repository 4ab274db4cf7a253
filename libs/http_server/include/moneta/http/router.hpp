/// @file moneta/http/router.hpp
/// @brief Method + path-pattern routing with 404 NOT_FOUND and 405 METHOD_NOT_ALLOWED (+ Allow).
#pragma once

#include <cstdint>
#include <array>
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

    /// @return the route's id (0, 1, ... in the order added): Request::route_id() of the
    /// requests it matches.
    std::uint16_t add(Method method, std::string_view pattern, Handler handler);
    /// The body of this router's 404 and 405 answers (default: default_error_page).
    void set_error_page(ErrorPage page) noexcept { error_page_ = page; }
    /// The matched route's handler call itself (no coroutine frame of the router's own on the
    /// way), or a 404/405 answer.
    boost::asio::awaitable<Response> async_dispatch(Request& req) const;
    /// A root handler that dispatches through this router (which must outlive it).
    Handler as_handler() const&;

    /// The routes added, by id (for labels built once, e.g. metrics per route).
    std::size_t route_count() const noexcept { return routes_.size(); }
    Method route_method(std::uint16_t id) const noexcept { return routes_[id].method; }
    std::string_view route_pattern(std::uint16_t id) const noexcept { return routes_[id].pattern; }

    struct Match {
        const Handler* handler = nullptr;  ///< null: not found or method not allowed
        std::string allow;                 ///< non-empty: path exists, method not allowed
    };
    /// Finds the route for @p req and fills its path params.
    Match match(Request& req) const;

private:
    struct Segment {
        std::string text;    ///< the literal segment; empty for a parameter
        bool param = false;  ///< "{name}" in the pattern: any non-empty segment
    };
    struct Route {
        Method method;
        std::string pattern;
        /// The pattern as the literal runs between its parameters, slashes included:
        /// "/v1/playback/sessions/{id}/heartbeat" is "/v1/playback/sessions/", "/heartbeat".
        /// A path matches when it is those runs with one non-empty segment in each gap: one
        /// compare per run instead of splitting the path and comparing segment by segment.
        /// Empty: the route never matches (no segment, or more than kMaxSegments).
        std::vector<std::string> literals;
        std::size_t min_size;  ///< the runs' bytes and one per parameter: shorter paths never match
        Handler handler;
    };
    static std::vector<Segment> split_pattern(std::string_view pattern);
    /// Does @p path match @p r? Fills @p req's params (cleared first; partly filled on a miss).
    static bool path_matches(const Route& r, std::string_view path, Request& req) noexcept;
    boost::asio::awaitable<Response> async_error(Match m) const;

    /// Paths of more segments match no route.
    static constexpr std::size_t kMaxSegments = 16;

    const core::Clock* clock_;
    ErrorPage error_page_ = default_error_page;
    std::vector<Route> routes_;
    /// The routes of each method that can match, in the order they were added: a request is
    /// tried only against routes of its own method (HEAD: GET's) before a 405 is considered.
    std::array<std::vector<std::uint16_t>, static_cast<std::size_t>(Method::kOther) + 1> by_method_;
};

}  // namespace moneta::http
