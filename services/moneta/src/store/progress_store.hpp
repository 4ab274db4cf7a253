/// @file services/moneta/src/store/progress_store.hpp
/// @brief Watch progress reads and offline writes (api.md §5.7): Redis first; on a miss the
/// internal API, whose answer is loaded through the same guard (then cached, including "no
/// position" markers, so the next read is warm).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/progress.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/script.hpp"
#include "moneta/resilience/fallback.hpp"
#include "store/progress_stream.hpp"
#include "store/scripts/continue_watching_script.hpp"
#include "store/scripts/progress_load_script.hpp"
#include "store/scripts/progress_put_script.hpp"
#include "store/session_store.hpp"
#include "upstream/internal_api.hpp"
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/stats_table.hpp"

namespace moneta::store {

struct ProgressStats {
    metrics::LocalCounter upstream_loads_total;  ///< cache misses sent to the internal API
    metrics::LocalCounter redis_errors_total;
    /// Reads Redis could not answer, answered from the internal API instead (fallback)...
    metrics::LocalCounter fallbacks_served_total;
    metrics::LocalCounter fallbacks_rejected_total;  ///< ... refused: too many at once
    metrics::LocalCounter fallbacks_failed_total;    ///< ... failed too (composite error)
};

/// What ProgressStats exports.
inline constexpr metrics::Stat<ProgressStats> kProgressStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_progress_upstream_loads_total", "Progress cache misses loaded from the internal API.", {}, MONETA_STAT(upstream_loads_total)},
    {metrics::StatKind::kCounter, "moneta_progress_redis_errors_total", "Progress reads that failed in Redis.", {}, MONETA_STAT(redis_errors_total)},
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "progress_read"}, MONETA_STAT(fallbacks_served_total)},
    {metrics::StatKind::kCounter, "moneta_fallback_failures_total", "Fallbacks that could not answer: refused (too many at once) or failed too (composite error).", {"kind", "progress_read", "result", "rejected"}, MONETA_STAT(fallbacks_rejected_total)},
    {metrics::StatKind::kCounter, "moneta_fallback_failures_total", "Fallbacks that could not answer: refused (too many at once) or failed too (composite error).", {"kind", "progress_read", "result", "failed"}, MONETA_STAT(fallbacks_failed_total)},
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread). Stats: any thread.
class ProgressStore {
public:
    /// @param fallback_gate caps concurrent reads from the internal API made because Redis
    /// failed (shared by the workers; null = no cap).
    ProgressStore(redis::Commands& redis, upstream::InternalApi& api, ProgressSettings settings,
                  ProgressStats& stats, resilience::FallbackGate* fallback_gate = nullptr);

    /// PUT /v1/me/progress: guarded write (+ write-behind marker when the title was not already
    /// announced), one script. @p now_ms: server time (the dirty entry's announce time).
    boost::asio::awaitable<core::Result<ProgressWrite>> async_put(std::string_view account_id,
                                                                  std::string_view profile_id,
                                                                  const domain::ProgressRecord& record,
                                                                  std::int64_t now_ms, core::Deadline deadline);

    /// Positions of @p content_ids (those that have one), in request order. When Redis fails and
    /// the internal API fails too, the error is a composite (resilience::as_composite).
    boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> async_get(
        std::string_view account_id, std::string_view profile_id, std::span<const std::string> content_ids,
        const core::RequestContext& ctx);

    /// Resume lookup after a start found nothing cached for the title (the warm path reads the
    /// position in the start's first pipeline and never calls this).
    boost::asio::awaitable<core::Result<std::optional<domain::ProgressRecord>>> async_load_one(
        std::string_view account_id, std::string_view profile_id, std::string_view content_id,
        const core::RequestContext& ctx);

    /// Newest first, completed titles excluded, at most @p limit.
    boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> async_continue_watching(
        std::string_view account_id, std::string_view profile_id, int limit, const core::RequestContext& ctx);

    /// This store's scripts (progress_put carries its settings in its source; tests load them
    /// up front).
    const redis::Script& put_script() const noexcept { return put_.script(); }
    const redis::Script& load_script() const noexcept { return load_.script(); }
    const redis::Script& continue_watching_script() const noexcept { return continue_watching_.script(); }

private:
    /// Asks the internal API (the newest positions when @p content_ids is empty) and loads the
    /// answer into Redis; ids it does not know are cached as "no position".
    boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> async_fetch_and_load(
        std::string_view account_id, std::string_view profile_id, std::span<const std::string> content_ids,
        const core::RequestContext& ctx);

    /// Redis failed with @p redis_error: read from the internal API instead, under the gate.
    /// Errors are composites of both causes.
    boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> async_fallback(
        std::string_view account_id, std::string_view profile_id, std::span<const std::string> content_ids,
        const core::RequestContext& ctx, boost::system::error_code redis_error);

    redis::Commands& redis_;
    upstream::InternalApi& api_;
    ProgressSettings settings_;
    ProgressStats& stats_;
    resilience::FallbackGate* fallback_gate_;
    ProgressPutScript put_;
    ProgressLoadScript load_;
    ContinueWatchingScript continue_watching_;
};

}  // namespace moneta::store
