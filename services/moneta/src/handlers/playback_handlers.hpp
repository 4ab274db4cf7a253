/// @file services/moneta/src/handlers/playback_handlers.hpp
/// @brief The playback session calls (api.md §5.1–5.6): start, heartbeat, stop, refresh, list
/// and kick. Thin: authenticate, parse, call the stores and the pure domain, answer. One
/// instance per worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <unordered_set>

#include "handlers/deps.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"
#include "moneta/http/router.hpp"

namespace moneta::handlers {

class PlaybackHandlers {
public:
    explicit PlaybackHandlers(HandlerDeps deps) : deps_(deps) {}

    /// Adds the playback routes to @p router (handlers capture `this`: keep it alive).
    void register_routes(http::Router& router);

    boost::asio::awaitable<http::Response> async_start(http::Request& req);
    boost::asio::awaitable<http::Response> async_heartbeat(http::Request& req);
    boost::asio::awaitable<http::Response> async_stop(http::Request& req);
    boost::asio::awaitable<http::Response> async_refresh(http::Request& req);
    boost::asio::awaitable<http::Response> async_list(http::Request& req);
    boost::asio::awaitable<http::Response> async_kick(http::Request& req);

private:
    /// Refreshes the cached entitlement in the background (at most one refresh per account at a
    /// time on this worker), off the heartbeat's latency path.
    void refresh_account_in_background(const std::string& account_id);

    HandlerDeps deps_;
    std::unordered_set<std::string> refreshing_;  ///< accounts being refreshed (this thread only)
};

}  // namespace moneta::handlers
