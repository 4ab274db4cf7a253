/// @file services/moneta/src/telemetry.hpp
/// @brief moneta's metrics and access log: the stats structs the hot path bumps (atomics), their
/// export to the registry (callbacks read at scrape time), and per-request HTTP metrics.
#pragma once

#include <array>
#include <span>
#include <memory>
#include <optional>
#include <vector>
#include <functional>
#include <string_view>

#include "handlers/auth.hpp"
#include "handlers/deps.hpp"
#include "handlers/load_shedding.hpp"
#include "loop_lag.hpp"
#include "store/guarded_redis.hpp"
#include "progress/flusher.hpp"
#include "store/progress_buffer.hpp"
#include "store/progress_store.hpp"
#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/log/logger.hpp"
#include "moneta/metrics/registry.hpp"
#include "store/catalog_cache.hpp"
#include "moneta/resilience/circuit_breaker.hpp"
#include "upstream/fetch_coalescer.hpp"
#include "upstream/internal_api.hpp"
#include "upstream/internal_api_guard.hpp"

namespace moneta {

/// Labels of the per-request HTTP metrics: bounded sets (never the raw path, which holds ids).
struct HttpLabels {
    static constexpr std::array<std::string_view, 12> kRoutes{
        "start", "heartbeat", "stop", "refresh", "list", "kick", "progress_get", "progress_put",
        "continue_watching", "health", "metrics", "other"};
    static constexpr std::array<int, 17> kStatuses{200, 201, 204, 400, 401, 403, 404, 405, 406,
                                                   409, 413, 415, 429, 500, 502, 503, 504};
};

/// moneta_http_requests_total{route,code} and moneta_http_request_duration_seconds{route} of
/// one worker (the last code column is "other"). The latency buckets keep the latest exemplar
/// of a sampled request each (OpenMetrics, docs/metrics.md "Exemplars").
struct HttpStats {
    std::array<std::array<metrics::LocalCounter, HttpLabels::kStatuses.size() + 1>, HttpLabels::kRoutes.size()>
        requests{};
    std::array<metrics::LocalExemplarHistogram<metrics::kLatencyBounds>, HttpLabels::kRoutes.size()> latency{};
};

/// Everything one writer thread bumps on the request path: a worker owns one, the flusher
/// thread another (its internal_api only). Each is its own allocation aligned to a cache line,
/// so no two workers ever write the same line; the scrape sums them (metrics/stats_table.hpp).
struct alignas(64) WorkerStats {
    handlers::AuthStats auth;
    handlers::PlaybackStats playback;
    store::CacheStats cache;
    upstream::InternalApiStats internal_api;
    store::ProgressStats progress;
    store::ProgressBufferStats progress_buffer;
    handlers::SheddingStats shedding;
    HttpStats http;
    store::RedisLatencyStats redis;  ///< this worker's GuardedRedis round trips
    LoopLagStats loop;               ///< this worker's event-loop lag (unused in the flusher slot)
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: worker(i) is written by worker i only; the scrape
/// (any thread) only reads. The slots are all built in the constructor.
class Telemetry {
public:
    /// @param workers worker threads; one more slot is made for the flusher thread.
    Telemetry(metrics::Registry& registry, std::size_t workers);

    WorkerStats& worker(std::size_t i) { return *slots_.at(i); }
    WorkerStats& flusher_slot() { return *slots_.back(); }
    progress::FlusherStats flusher;  ///< one flusher thread: plain atomics

    struct RedisTotals {
        double round_trips = 0;
        double commands = 0;
        double errors = 0;
        double timeouts = 0;
        double reconnects = 0;
        double connected = 0;
        double expected = 0;  ///< kept open when healthy: one per worker (per master in cluster mode)
    };

    void export_server(const http::Server& server, std::string_view name);
    /// RedisTotals::expected is moneta_redis_connections_expected, for alerts on
    /// moneta_redis_connected.
    void export_redis(std::function<RedisTotals()> totals);

    /// Resilience metrics (telemetry_resilience.cpp): one breaker's state, calls, short-circuits,
    /// transitions and trips, labelled breaker=@p name.
    /// A breaker's series; several members (one per worker) are exported as one breaker.
    void export_breaker(std::string_view name, std::vector<const resilience::CircuitBreaker*> members);
    /// The internal API's bulkhead, client-side throttle, retries, deadlines and singleflight.
    void export_internal_api_guard(upstream::InternalApiGuard& guard, const upstream::FetchCoalescer& coalescer);
    /// Inbound shedding: the limit and admitted requests summed over the @p workers, and per
    /// worker the two latencies the limit follows (minRTT, the last sample window's). @p state(i)
    /// reads worker i's published AdaptiveLimitState; nullopt before the worker runs or with
    /// shedding off.
    using LimitStateFn = std::function<std::optional<resilience::AdaptiveLimitState>(std::size_t)>;
    void export_shedding(std::size_t workers, LimitStateFn state);

    /// On worker @p w's thread: counts the request (route × status), observes its latency and,
    /// when @p access_log is non-null, copies the access record into that worker's ring (the
    /// logger's thread formats and writes it). No lock, no allocation.
    /// The route label is `route_labels[rec.request.route_id()]` (what the router matched; "other"
    /// for a request no route matched): the path is not parsed again.
    static void on_access(const http::AccessRecord& rec, std::span<const std::uint8_t> route_labels, WorkerStats& w,
                          log::AccessRing* access_log, const core::Clock& clock) noexcept;

    static constexpr const auto& kRoutes = HttpLabels::kRoutes;
    static constexpr const auto& kStatuses = HttpLabels::kStatuses;
    /// Index into kRoutes of each of @p router's routes, by route id (built once per worker;
    /// bounded label set: never the raw path, which holds ids).
    static std::vector<std::uint8_t> route_labels(const http::Router& router);

private:
    metrics::Registry& registry_;
    std::vector<std::unique_ptr<WorkerStats>> slots_;
    void export_dependency_latency();
    void export_loop_lag();
};

}  // namespace moneta
