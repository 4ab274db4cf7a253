/// @file services/moneta/src/handlers/playback_handlers.hpp
/// @brief The playback session calls (api.md §5.1–5.6): start, heartbeat, stop, refresh, list
/// and kick. Thin: authenticate, check the content type, parse the body and the `{id}` into a
/// use-case command (usecases/start_playback.hpp, usecases/session_calls.hpp), and map its
/// outcome to a response. One instance per worker thread; not movable (routes capture `this`).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "handlers/deps.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"
#include "moneta/http/router.hpp"
#include "usecases/session_calls.hpp"
#include "usecases/start_playback.hpp"
#include "usecases/store_adapters.hpp"

namespace moneta::handlers {

class PlaybackHandlers {
public:
    explicit PlaybackHandlers(HandlerDeps deps);
    PlaybackHandlers(const PlaybackHandlers&) = delete;
    PlaybackHandlers& operator=(const PlaybackHandlers&) = delete;

    /// Adds the playback routes to @p router (handlers capture `this`: keep it alive).
    void register_routes(http::Router& router);

    // Each returns the use case's coroutine (the handler has no frame of its own), or a ready
    // answer when the request is refused before any I/O.
    boost::asio::awaitable<http::Response> async_start(http::Request& req);
    boost::asio::awaitable<http::Response> async_heartbeat(http::Request& req);
    boost::asio::awaitable<http::Response> async_stop(http::Request& req);
    boost::asio::awaitable<http::Response> async_refresh(http::Request& req);
    boost::asio::awaitable<http::Response> async_list(http::Request& req);
    boost::asio::awaitable<http::Response> async_kick(http::Request& req);

private:
    HandlerDeps deps_;
    usecases::StoreSessionLeases leases_;
    usecases::StoreCatalogReader catalog_;
    usecases::StoreProgressRecords progress_;
    usecases::BufferHeldWrites held_;
    usecases::WorkerDelivery delivery_;
    usecases::StartPlayback start_;
    usecases::SessionCalls sessions_;
};

}  // namespace moneta::handlers
