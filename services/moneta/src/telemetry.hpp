/// @file services/moneta/src/telemetry.hpp
/// @brief moneta's metrics and access log: the stats structs the hot path bumps (atomics), their
/// export to the registry (callbacks read at scrape time), and per-request HTTP metrics.
#pragma once

#include <array>
#include <functional>
#include <string_view>

#include "handlers/auth.hpp"
#include "handlers/deps.hpp"
#include "handlers/load_shedding.hpp"
#include "progress/flusher.hpp"
#include "store/progress_buffer.hpp"
#include "store/progress_store.hpp"
#include "moneta/http/server.hpp"
#include "moneta/log/logger.hpp"
#include "moneta/metrics/registry.hpp"
#include "store/catalog_cache.hpp"
#include "moneta/resilience/circuit_breaker.hpp"
#include "upstream/fetch_coalescer.hpp"
#include "upstream/internal_api.hpp"
#include "upstream/internal_api_guard.hpp"

namespace moneta {

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (atomics; the tables are built in the constructor).
class Telemetry {
public:
    explicit Telemetry(metrics::Registry& registry);

    handlers::AuthStats auth;
    handlers::PlaybackStats playback;
    store::CacheStats cache;
    upstream::InternalApiStats internal_api;
    store::ProgressStats progress;
    progress::FlusherStats flusher;
    store::ProgressBufferStats progress_buffer;  ///< summed over the workers' buffers
    handlers::SheddingStats shedding;

    struct RedisTotals {
        double round_trips = 0;
        double commands = 0;
        double errors = 0;
        double timeouts = 0;
        double reconnects = 0;
        double connected = 0;
    };

    void export_server(const http::Server& server, std::string_view name);
    void export_redis(std::function<RedisTotals()> totals);

    /// Resilience metrics (telemetry_resilience.cpp): one breaker's state, calls, short-circuits,
    /// transitions and trips, labelled breaker=@p name.
    void export_breaker(std::string_view name, const resilience::CircuitBreaker& breaker);
    /// The internal API's bulkhead, client-side throttle, retries, deadlines and singleflight.
    void export_internal_api_guard(upstream::InternalApiGuard& guard, const upstream::FetchCoalescer& coalescer);
    struct SheddingTotals {
        double limit = 0;        ///< sum of the workers' current limits
        double outstanding = 0;  ///< admitted /v1 requests in flight
    };
    /// Inbound shedding and the stale-cache fallbacks.
    void export_shedding(std::function<SheddingTotals()> totals);

    /// Counts the request (route × status), observes its latency, writes the access log line.
    void on_access(const http::AccessRecord& rec, log::Logger& logger, bool access_log);

    static constexpr std::array<std::string_view, 12> kRoutes{
        "start", "heartbeat", "stop", "refresh", "list", "kick", "progress_get", "progress_put",
        "continue_watching", "health", "metrics", "other"};
    static constexpr std::array<int, 17> kStatuses{200, 201, 204, 400, 401, 403, 404, 405, 406,
                                                   409, 413, 415, 429, 500, 502, 503, 504};
    /// Route label of a request (bounded set: never the raw path, which holds ids).
    static std::size_t route_index(http::Method method, std::string_view path) noexcept;

private:
    metrics::Registry& registry_;
    std::array<std::array<metrics::Counter*, kStatuses.size() + 1>, kRoutes.size()> requests_{};
    std::array<metrics::Histogram*, kRoutes.size()> latency_{};
};

}  // namespace moneta
