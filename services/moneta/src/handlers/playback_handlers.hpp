/// @file services/moneta/src/handlers/playback_handlers.hpp
/// @brief The playback session calls (api.md §5.1–5.6): start, heartbeat, stop, refresh, list
/// and kick. Thin: authenticate, parse, call the stores and the pure domain, answer. One
/// instance per worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

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
    HandlerDeps deps_;
};

}  // namespace moneta::handlers
