/// @file services/moneta/src/handlers/deps.hpp
/// @brief What the /v1 handlers share: settings, counters and the per-worker stores.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>

#include "delivery/playback_delivery.hpp"
#include "domain/playability.hpp"
#include "domain/session_id.hpp"
#include "handlers/auth.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/jwt/token_cache.hpp"
#include "store/catalog_cache.hpp"
#include "store/progress_buffer.hpp"
#include "store/progress_store.hpp"
#include "store/session_store.hpp"

namespace moneta::handlers {

struct PlaybackSettings {
    int heartbeat_interval_sec = 30;  ///< MONETA_HEARTBEAT_SEC
    int start_rate_per_min = 60;      ///< MONETA_START_RATE_PER_MIN per account; 0 = off
    int progress_rate_per_min = 300;  ///< /v1/me/progress* requests per account; 0 = off
    int progress_retry_after_sec = 5; ///< Retry-After of a write refused by a per-account bound
    domain::PlanRanks plan_ranks{{"basic", 1}, {"standard", 2}, {"premium", 3}};
    /// resilience.redis_down_start: "open" (true) grants a start whose lease script got no answer
    /// from Redis without a lease, and buffers the grant; "closed" answers 503 as before.
    bool redis_down_fail_open = true;
};

/// Outcomes the tests and dashboards need beyond HTTP status counts (exported on /metrics).
struct PlaybackStats {
    std::atomic<std::uint64_t> starts_granted_total{0};
    std::atomic<std::uint64_t> starts_denied_total{0};    ///< STREAM_LIMIT_REACHED
    std::atomic<std::uint64_t> starts_replaced_total{0};  ///< took over a device's/explicit lease
    std::atomic<std::uint64_t> starts_replayed_total{0};  ///< Idempotency-Key replays
    std::atomic<std::uint64_t> starts_rate_limited_total{0};
    std::atomic<std::uint64_t> starts_no_stream_total{0}; ///< NO_COMPATIBLE_STREAM
    std::atomic<std::uint64_t> progress_rate_limited_total{0};  ///< /v1/me/progress* over the account's limit
    std::atomic<std::uint64_t> heartbeats_renewed_total{0};
    std::atomic<std::uint64_t> heartbeats_not_found_total{0};
    std::atomic<std::uint64_t> heartbeats_evicted_total{0};
    std::atomic<std::uint64_t> heartbeats_stop_total{0};  ///< action "stop" (entitlement/window)
    std::atomic<std::uint64_t> stops_total{0};
    std::atomic<std::uint64_t> kicks_total{0};
    std::atomic<std::uint64_t> refreshes_total{0};
    std::atomic<std::uint64_t> entitlement_refreshes_total{0};  ///< heartbeat found no cached account
    std::atomic<std::uint64_t> progress_applied_total{0};
    std::atomic<std::uint64_t> progress_stale_total{0};
    std::atomic<std::uint64_t> progress_zero_kept_total{0};
    std::atomic<std::uint64_t> progress_unknown_session_total{0};
    std::atomic<std::uint64_t> progress_capped_total{0};  ///< refused by a per-account bound
    std::atomic<std::uint64_t> store_errors_total{0};     ///< Redis failed on a session/progress op
    // Redis did not answer and the write went to the worker's ProgressBuffer (answered as success);
    // refusals of a full buffer are the buffer's dropped_total, fail-open starts its fail_open_starts_total.
    std::atomic<std::uint64_t> heartbeats_buffered_total{0};
    std::atomic<std::uint64_t> stops_buffered_total{0};
    std::atomic<std::uint64_t> progress_puts_buffered_total{0};

    void count(store::ProgressWrite w) noexcept {
        switch (w) {
            case store::ProgressWrite::kApplied: ++progress_applied_total; break;
            case store::ProgressWrite::kStale: ++progress_stale_total; break;
            case store::ProgressWrite::kZeroKept: ++progress_zero_kept_total; break;
            case store::ProgressWrite::kCapped: ++progress_capped_total; break;
            case store::ProgressWrite::kUnknownSession: ++progress_unknown_session_total; break;
        }
    }
};

/// One per worker thread (the stores and the delivery worker are per-thread).
struct HandlerDeps {
    boost::asio::any_io_executor executor;  ///< the worker's event loop (background refreshes)
    /// The worker's token cache in front of the process's jwt::Verifier: each distinct token is
    /// verified once per worker (docs/jwt.md "Token cache").
    jwt::TokenCache& verifier;
    const core::Clock& clock;
    store::CatalogCache& catalog;
    store::SessionStore& sessions;
    store::ProgressStore& progress;
    store::ProgressBuffer& buffer;  ///< writes Redis did not answer, replayed when it is back
    delivery::DeliveryFactory::Worker& delivery;
    const domain::SessionIdSigner& session_ids;  ///< mints ids; the buffer checks them (Redis down)
    const std::string& cdn_base_url;
    const PlaybackSettings& settings;
    AuthStats& auth_stats;
    PlaybackStats& stats;
};

}  // namespace moneta::handlers
