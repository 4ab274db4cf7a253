/// @file services/moneta/src/usecases/playback_stats.hpp
/// @brief The playback use cases' settings and outcome counters (exported on /metrics).
#pragma once

#include <array>
#include <cstddef>

#include "domain/api_error.hpp"
#include "domain/playability.hpp"
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/stats_table.hpp"
#include "store/session_store.hpp"

namespace moneta::usecases {

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
    metrics::LocalCounter starts_granted_total;
    metrics::LocalCounter starts_denied_total;    ///< STREAM_LIMIT_REACHED
    metrics::LocalCounter starts_replaced_total;  ///< took over a device's/explicit lease
    metrics::LocalCounter starts_replayed_total;  ///< Idempotency-Key replays
    metrics::LocalCounter starts_rate_limited_total;
    metrics::LocalCounter starts_no_stream_total; ///< NO_COMPATIBLE_STREAM
    metrics::LocalCounter progress_rate_limited_total;  ///< /v1/me/progress* over the account's limit
    metrics::LocalCounter heartbeats_renewed_total;
    metrics::LocalCounter heartbeats_not_found_total;
    metrics::LocalCounter heartbeats_evicted_total;
    metrics::LocalCounter heartbeats_stop_total;  ///< action "stop" (entitlement/window)
    metrics::LocalCounter stops_total;
    metrics::LocalCounter kicks_total;
    metrics::LocalCounter refreshes_total;
    metrics::LocalCounter entitlement_refreshes_total;  ///< heartbeat found no cached account
    metrics::LocalCounter progress_applied_total;
    metrics::LocalCounter progress_stale_total;
    metrics::LocalCounter progress_zero_kept_total;
    metrics::LocalCounter progress_unknown_session_total;
    metrics::LocalCounter progress_capped_total;  ///< refused by a per-account bound
    metrics::LocalCounter store_errors_total;     ///< Redis failed on a session/progress op
    // Redis did not answer and the write went to the worker's ProgressBuffer (answered as success);
    // refusals of a full buffer are the buffer's dropped_total, fail-open starts its fail_open_starts_total.
    metrics::LocalCounter heartbeats_buffered_total;
    metrics::LocalCounter stops_buffered_total;
    metrics::LocalCounter progress_puts_buffered_total;
    /// Starts the use case refused, by api.md error (indexed by domain::ApiError; the codes a
    /// start can be refused with are exported: moneta_playback_start_refusals_total{code}).
    std::array<metrics::LocalCounter, 64> start_refusals{};
    void count_start_refusal(domain::ApiError e) noexcept {
        const auto i = static_cast<std::size_t>(e);
        if (i < start_refusals.size()) {
            ++start_refusals[i];
        }
    }

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

#define MONETA_START_REFUSAL(e) \
    [](const PlaybackStats& s) { return static_cast<double>(s.start_refusals[static_cast<std::size_t>(domain::ApiError::e)].load()); }
inline constexpr std::string_view kStartRefusalsHelp = "Playback starts refused, by api.md error code.";

/// What PlaybackStats exports (docs/metrics.md "Playback"): the one list of these names.
inline constexpr metrics::Stat<PlaybackStats> kPlaybackStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "SUBSCRIPTION_REQUIRED"}, MONETA_START_REFUSAL(kSubscriptionRequired)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "PLAN_NOT_ELIGIBLE"}, MONETA_START_REFUSAL(kPlanNotEligible)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "GEO_BLOCKED"}, MONETA_START_REFUSAL(kGeoBlocked)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "NOT_AVAILABLE_YET"}, MONETA_START_REFUSAL(kNotAvailableYet)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "NO_LONGER_AVAILABLE"}, MONETA_START_REFUSAL(kNoLongerAvailable)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "PARENTAL_CONTROL"}, MONETA_START_REFUSAL(kParentalControl)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "PROFILE_NOT_IN_ACCOUNT"}, MONETA_START_REFUSAL(kProfileNotInAccount)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "CONTENT_NOT_FOUND"}, MONETA_START_REFUSAL(kContentNotFound)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "STREAM_LIMIT_REACHED"}, MONETA_START_REFUSAL(kStreamLimitReached)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "NO_COMPATIBLE_STREAM"}, MONETA_START_REFUSAL(kNoCompatibleStream)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "IDEMPOTENCY_CONFLICT"}, MONETA_START_REFUSAL(kIdempotencyConflict)},
    {metrics::StatKind::kCounter, "moneta_playback_start_refusals_total", kStartRefusalsHelp, {"code", "RATE_LIMITED"}, MONETA_START_REFUSAL(kRateLimited)},
    {metrics::StatKind::kCounter, "moneta_playback_starts_total", "Playback starts by lease outcome.", {"result", "granted"}, MONETA_STAT(starts_granted_total)},
    {metrics::StatKind::kCounter, "moneta_playback_starts_total", "Playback starts by lease outcome.", {"result", "denied"}, MONETA_STAT(starts_denied_total)},
    {metrics::StatKind::kCounter, "moneta_playback_starts_total", "Playback starts by lease outcome.", {"result", "replayed"}, MONETA_STAT(starts_replayed_total)},
    {metrics::StatKind::kCounter, "moneta_playback_starts_total", "Playback starts by lease outcome.", {"result", "rate_limited"}, MONETA_STAT(starts_rate_limited_total)},
    {metrics::StatKind::kCounter, "moneta_playback_starts_total", "Playback starts by lease outcome.", {"result", "no_compatible_stream"}, MONETA_STAT(starts_no_stream_total)},
    {metrics::StatKind::kCounter, "moneta_progress_rate_limited_total", "Progress-route requests refused by the per-account rate limit.", {}, MONETA_STAT(progress_rate_limited_total)},
    {metrics::StatKind::kCounter, "moneta_playback_lease_replacements_total", "Starts that took over a lease (same device or replace_session_id).", {}, MONETA_STAT(starts_replaced_total)},
    {metrics::StatKind::kCounter, "moneta_playback_heartbeats_total", "Heartbeats by outcome.", {"result", "renewed"}, MONETA_STAT(heartbeats_renewed_total)},
    {metrics::StatKind::kCounter, "moneta_playback_heartbeats_total", "Heartbeats by outcome.", {"result", "not_found"}, MONETA_STAT(heartbeats_not_found_total)},
    {metrics::StatKind::kCounter, "moneta_playback_heartbeats_total", "Heartbeats by outcome.", {"result", "evicted"}, MONETA_STAT(heartbeats_evicted_total)},
    {metrics::StatKind::kCounter, "moneta_playback_heartbeats_total", "Heartbeats by outcome.", {"result", "stop"}, MONETA_STAT(heartbeats_stop_total)},
    {metrics::StatKind::kCounter, "moneta_playback_stops_total", "Stops answered.", {}, MONETA_STAT(stops_total)},
    {metrics::StatKind::kCounter, "moneta_playback_kicks_total", "Sessions ended by another device of the account.", {}, MONETA_STAT(kicks_total)},
    {metrics::StatKind::kCounter, "moneta_playback_refreshes_total", "Stream/DRM refreshes.", {}, MONETA_STAT(refreshes_total)},
    {metrics::StatKind::kCounter, "moneta_entitlement_refreshes_total", "Background account reloads started by heartbeats that found no cached entitlement.", {}, MONETA_STAT(entitlement_refreshes_total)},
    {metrics::StatKind::kCounter, "moneta_progress_writes_total", "Progress writes by guard outcome.", {"result", "applied"}, MONETA_STAT(progress_applied_total)},
    {metrics::StatKind::kCounter, "moneta_progress_writes_total", "Progress writes by guard outcome.", {"result", "stale"}, MONETA_STAT(progress_stale_total)},
    {metrics::StatKind::kCounter, "moneta_progress_writes_total", "Progress writes by guard outcome.", {"result", "zero_kept"}, MONETA_STAT(progress_zero_kept_total)},
    {metrics::StatKind::kCounter, "moneta_progress_writes_total", "Progress writes by guard outcome.", {"result", "unknown_session"}, MONETA_STAT(progress_unknown_session_total)},
    {metrics::StatKind::kCounter, "moneta_progress_writes_total", "Progress writes by guard outcome.", {"result", "capped"}, MONETA_STAT(progress_capped_total)},
    {metrics::StatKind::kCounter, "moneta_playback_store_errors_total", "Session/progress operations that failed in Redis.", {}, MONETA_STAT(store_errors_total)},
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "heartbeat_buffered"}, MONETA_STAT(heartbeats_buffered_total)},
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "stop_buffered"}, MONETA_STAT(stops_buffered_total)},
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "progress_put_buffered"}, MONETA_STAT(progress_puts_buffered_total)},
};

}  // namespace moneta::usecases
