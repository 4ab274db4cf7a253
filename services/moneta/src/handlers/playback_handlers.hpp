/// @file services/moneta/src/handlers/playback_handlers.hpp
/// @brief POST /v1/playback/sessions, /{id}/heartbeat, /{id}/stop: authenticate, parse, call the
/// stores, apply the pure domain checks, answer. One instance per worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>

#include "domain/playability.hpp"
#include "handlers/auth.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"
#include "moneta/http/router.hpp"
#include "moneta/jwt/verifier.hpp"
#include "store/catalog_cache.hpp"
#include "store/lease_store.hpp"

namespace moneta::handlers {

struct PlaybackSettings {
    int heartbeat_interval_sec = 30;
    domain::PlanRanks plan_ranks{{"basic", 1}, {"standard", 2}, {"premium", 3}};
};

/// Outcomes the tests and dashboards need beyond HTTP status counts.
struct PlaybackStats {
    std::atomic<std::uint64_t> starts_granted_total{0};
    std::atomic<std::uint64_t> starts_denied_total{0};    ///< STREAM_LIMIT_REACHED
    std::atomic<std::uint64_t> starts_replaced_total{0};  ///< took over a device's/explicit lease
    std::atomic<std::uint64_t> heartbeats_renewed_total{0};
    std::atomic<std::uint64_t> heartbeats_not_found_total{0};
    std::atomic<std::uint64_t> heartbeats_evicted_total{0};
    std::atomic<std::uint64_t> stops_total{0};
    std::atomic<std::uint64_t> store_errors_total{0};     ///< Redis failed on a lease operation
};

struct PlaybackDeps {
    const jwt::Verifier& verifier;
    const core::Clock& clock;
    store::CatalogCache& catalog;
    store::LeaseStore& leases;
    const PlaybackSettings& settings;
    AuthStats& auth_stats;
    PlaybackStats& stats;
};

class PlaybackHandlers {
public:
    explicit PlaybackHandlers(PlaybackDeps deps) : deps_(deps) {}

    /// Adds the playback routes to @p router (handlers capture `this`: keep it alive).
    void register_routes(http::Router& router);

    boost::asio::awaitable<http::Response> async_start(http::Request& req);
    boost::asio::awaitable<http::Response> async_heartbeat(http::Request& req);
    boost::asio::awaitable<http::Response> async_stop(http::Request& req);

private:
    PlaybackDeps deps_;
};

}  // namespace moneta::handlers
