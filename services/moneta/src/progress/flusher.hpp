/// @file services/moneta/src/progress/flusher.hpp
/// @brief Write-behind of watch progress to the internal API (api.md §6, docs/data.md).
///
/// Every accepted progress write marks (profile, content) dirty at its version in the account's
/// `dirty:` hash and appends a marker naming the account to a `progq:{p<n>}` stream. The flusher
/// reads markers with a consumer group, coalesces them by account, snapshots the dirty entries'
/// CURRENT guarded values (so what reaches the system of record is always what Redis serves),
/// sends one batch upsert, and only after the internal API confirmed it clears the dirty entries
/// that still hold the flushed version and XACKs (and XDELs) the markers. A crash anywhere
/// leaves the markers pending: XAUTOCLAIM hands them to a live consumer after `claim_idle`.
/// Every dirty entry also puts its account in its partition's due index (`progdue:{p<n>}`, scored by
/// when the flusher must look without a marker: a held title's due time, an announced one's
/// announcement + `marker_lost`). Every flush interval the flusher takes the due accounts (claiming
/// them for `claim_idle`), and every flush re-scores its accounts from what is left. So a title
/// held when its session died, and a marker lost (trimmed by MAXLEN, or claimed after it was
/// deleted), are delivered without scanning the keyspace (docs/data.md "Due index").
/// Streams and due indexes are per partition (store/keys.hpp: 256, each in its own Redis Cluster
/// slot with its accounts' keys): every poll reads all of them in one pipeline, which a cluster
/// client splits into one round trip per master.
///
/// Held entries (docs/data.md "Write-behind hold": a title still playing) have a due time and no
/// marker until it passes; a snapshot takes due entries only, except in the final flush of a
/// stop, which takes every indexed account and everything dirty.
///
/// A call the internal API refuses for its items (400/413/422) is split until the refused items
/// stand alone (progress/batch_split.hpp); the rest is confirmed, the refused ones are
/// quarantined: recorded in `progq:quarantine` for an operator, counted, logged, and cleared from
/// the dirty hash, so one bad title cannot stall the accounts flushed with it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <memory_resource>
#include <string>
#include <unordered_set>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/log/logger.hpp"
#include "moneta/metrics/stats_table.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/pipeline.hpp"
#include "progress/chunked_pipeline.hpp"
#include "progress/share_out.hpp"
#include "store/progress_stream.hpp"
#include "store/scripts/due_take_script.hpp"
#include "store/scripts/flush_clear_script.hpp"
#include "store/scripts/flush_snapshot_script.hpp"
#include "upstream/internal_api.hpp"

namespace moneta::progress {


struct FlusherSettings {
    std::chrono::milliseconds interval{5000};     ///< MONETA_PROGRESS_FLUSH_MS
    /// Accounts per flush at most; reaching it flushes before the interval. Markers of one account
    /// coalesce (a busy account writes many, they cost one snapshot), so the trigger counts accounts.
    std::size_t batch = 500;
    std::size_t max_markers = 20'000;             ///< markers held in memory at most (also flushes early)
    std::chrono::milliseconds claim_idle{30000};  ///< a marker pending this long belongs to a dead consumer
    std::chrono::milliseconds poll{100};          ///< idle wait between stream reads …
    /// … doubling while reads find nothing, up to this (and never beyond `interval`): an idle
    /// flusher reads kPartitions streams ~once a second, not ten times (docs/data.md "Cluster").
    std::chrono::milliseconds poll_max{1000};
    std::chrono::milliseconds retry_min{200};     ///< backoff after a failed flush …
    std::chrono::milliseconds retry_max{5000};    ///< … doubling up to this
    std::chrono::milliseconds call_timeout{2000}; ///< per Redis/internal-API call
    /// Every forget_interval the flusher forgets consumers of the group (every restart of moneta
    /// is a new one) that hold no pending marker and have been idle for consumer_forget, so the
    /// group does not grow forever.
    std::chrono::milliseconds forget_interval{60000};
    std::chrono::milliseconds consumer_forget{std::chrono::hours(1)};
    /// Calls per flush spent isolating refused items (beyond one call per 1000 items); at least
    /// kMinSplitCalls (batch_split.hpp). What is still unresolved waits for the next flush.
    std::size_t split_calls_max = 64;
    /// Quarantine records kept (`XADD progq:quarantine MAXLEN ~ n`).
    std::int64_t quarantine_max_len = 100'000;
    /// Commands per round trip of a flush's snapshots, clears and acks. A flush of 500 accounts
    /// is ~1,000 script runs; sent as one pipeline, Redis runs them back to back (~10 ms) while
    /// every playback call waits behind them (the flusher set the heartbeat's p99). In trips of
    /// 32 that stall stays well under a millisecond, for a few more round trips per flush.
    std::size_t commands_per_trip = 32;
};

/// Exported on /metrics (atomics: read from the admin thread).
struct FlusherStats {
    std::atomic<std::uint64_t> flushes_total{0};
    std::atomic<std::uint64_t> items_sent_total{0};      ///< positions sent to the internal API
    std::atomic<std::uint64_t> markers_acked_total{0};
    std::atomic<std::uint64_t> markers_claimed_total{0};  ///< taken over from dead consumers
    std::atomic<std::uint64_t> failures_total{0};         ///< flushes that will be retried
    std::atomic<std::uint64_t> due_taken_total{0};        ///< accounts taken from the due index
    /// Pending markers XAUTOCLAIM found deleted (trimmed by MAXLEN while a dead consumer held
    /// them); Redis 7 drops them from the PEL itself, the due index delivers their accounts.
    std::atomic<std::uint64_t> markers_trimmed_total{0};
    std::atomic<std::uint64_t> consumers_forgotten_total{0};  ///< idle consumers without pending markers removed
    std::atomic<std::uint64_t> quarantined_total{0};      ///< positions refused alone by the internal API
    std::atomic<std::uint64_t> split_calls_total{0};      ///< upsert calls made to isolate refused items
    std::atomic<std::uint64_t> split_budget_exhausted_total{0};  ///< flushes that left refused items unresolved
    std::atomic<std::int64_t> markers_in_flight{0};       ///< read, not yet acknowledged
    std::atomic<std::int64_t> last_success_ms{0};
    /// Wall ms of the oldest stream marker read but not acknowledged (its stream id's time part,
    /// set by XADD when the write was acknowledged to the player); 0 when none is held.
    std::atomic<std::int64_t> oldest_marker_ms{0};
};

/// What FlusherStats exports. The flusher is one thread, so these stay plain atomics (tests
/// compare them directly); they are off the request path.
inline constexpr metrics::Stat<FlusherStats> kFlusherStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_progress_flushes_total", "Write-behind batches confirmed by the internal API.", {}, MONETA_STAT(flushes_total)},
    {metrics::StatKind::kCounter, "moneta_progress_flushed_items_total", "Positions sent to the internal API.", {}, MONETA_STAT(items_sent_total)},
    {metrics::StatKind::kCounter, "moneta_progress_markers_acked_total", "Write-behind stream entries acknowledged.", {}, MONETA_STAT(markers_acked_total)},
    {metrics::StatKind::kCounter, "moneta_progress_markers_claimed_total", "Write-behind entries taken over from dead consumers.", {}, MONETA_STAT(markers_claimed_total)},
    {metrics::StatKind::kCounter, "moneta_progress_flush_failures_total", "Write-behind flushes that failed and will be retried.", {}, MONETA_STAT(failures_total)},
    {metrics::StatKind::kCounter, "moneta_progress_due_taken_total", "Accounts the flusher took from the due index: held titles now due, or markers presumed lost.", {}, MONETA_STAT(due_taken_total)},
    {metrics::StatKind::kCounter, "moneta_progress_markers_trimmed_total", "Pending write-behind markers found trimmed by the stream bound (their accounts are delivered through the due index).", {}, MONETA_STAT(markers_trimmed_total)},
    {metrics::StatKind::kCounter, "moneta_progress_consumers_forgotten_total", "Idle write-behind consumers without pending markers removed from the group.", {}, MONETA_STAT(consumers_forgotten_total)},
    {metrics::StatKind::kCounter, "moneta_progress_quarantined_total", "Positions the internal API refused alone (4xx), recorded in progq:quarantine and cleared.", {}, MONETA_STAT(quarantined_total)},
    {metrics::StatKind::kCounter, "moneta_progress_split_calls_total", "Batch-upsert calls made to isolate positions the internal API refused.", {}, MONETA_STAT(split_calls_total)},
    {metrics::StatKind::kCounter, "moneta_progress_split_budget_exhausted_total", "Flushes that reached progress.split_calls_max with refused positions still unresolved.", {}, MONETA_STAT(split_budget_exhausted_total)},
    {metrics::StatKind::kGauge, "moneta_progress_markers_in_flight", "Write-behind entries read but not yet acknowledged.", {}, MONETA_STAT(markers_in_flight)},
    {metrics::StatKind::kGauge, "moneta_progress_last_flush_timestamp_seconds", "Wall time of the last confirmed flush.", {},
     [](const FlusherStats& s) { return static_cast<double>(s.last_success_ms.load()) / 1000.0; }},
    {metrics::StatKind::kGauge, "moneta_progress_oldest_marker_timestamp_seconds",
     "Wall time of the oldest write-behind marker read but not yet acknowledged (0: none).", {},
     [](const FlusherStats& s) { return static_cast<double>(s.oldest_marker_ms.load()) / 1000.0; }},
};

/// Runs on its own executor (moneta gives it a thread, its own Redis connection and HTTP pool:
/// a slow internal API never delays playback requests).
/// @par Thread safety
/// request_stop() from any thread; everything else on the executor.
class ProgressFlusher {
public:
    static constexpr std::string_view kGroup = "flush";

    ProgressFlusher(boost::asio::any_io_executor executor, redis::Commands& redis, upstream::InternalApi& api,
                    const core::Clock& clock, FlusherSettings settings, store::ProgressSettings progress,
                    FlusherStats& stats, std::string consumer, log::Logger* logger = nullptr);

    /// Runs until request_stop(), then flushes what is left (bounded by @p final_flush_budget
    /// after the stop request; what cannot be flushed stays pending in Redis, never lost).
    boost::asio::awaitable<void> async_run();

    /// Asks async_run to finish: flush everything already written, then return.
    void request_stop(std::chrono::milliseconds final_flush_budget);

private:
    struct Marker {
        int partition = 0;  ///< kNoStream: an account taken from the due index (nothing to ack)
        std::string id;
        std::string account_id;  ///< empty for a malformed marker (acked and dropped)
    };
    static constexpr int kNoStream = -1;

    boost::asio::awaitable<bool> async_create_groups();
    /// Once at startup: a due-index entry (due now) for every dirty hash that has none.
    /// Accounts of the due indexes into the batch: those due by now (claimed for claim_idle), or
    /// at a stop every one. @return how many were added
    boost::asio::awaitable<std::size_t> async_take_due(bool everything);
    boost::asio::awaitable<void> async_forget_consumers();
    boost::asio::awaitable<std::size_t> async_read(bool claim);
    enum class FlushResult : std::uint8_t {
        kDone,     ///< everything taken was confirmed or quarantined
        kPartial,  ///< acknowledged what it resolved; split_calls_max left refused items for later
        kFailed,   ///< nothing acknowledged: retry with backoff
    };
    boost::asio::awaitable<FlushResult> async_flush();
    /// Sends @p batch trip by trip (commands_per_trip each); the replies of all, in order.
    boost::asio::awaitable<core::Result<redis::Replies>> async_send(ChunkedPipeline& batch);
    void log_quarantined(std::string_view account, std::string_view profile, std::string_view content, int status,
                         std::string_view code);
    boost::asio::awaitable<void> async_wait(std::chrono::milliseconds d);
    core::Deadline call_deadline() const;
    /// markers_in_flight and oldest_marker_ms from batch_ (a scan: off the request path).
    void publish_in_flight() noexcept;

    boost::asio::any_io_executor executor_;
    redis::Commands& redis_;
    upstream::InternalApi& api_;
    const core::Clock& clock_;
    FlusherSettings settings_;
    store::ProgressSettings progress_;
    FlusherStats& stats_;
    std::string consumer_;
    log::Logger* logger_;  ///< may be null (tests)
    boost::asio::steady_timer timer_;
    std::vector<Marker> batch_;
    /// Nodes of held_ (and their strings) come from here and go back here: a flushed account's
    /// entry is reused by the next one instead of a malloc/free pair per account.
    /// Where the next take, claim and read start sharing out their room (share_of()).
    int take_first_ = 0;
    int claim_first_ = 0;
    int read_first_ = 0;
    std::pmr::unsynchronized_pool_resource held_pool_;
    std::pmr::unordered_set<std::pmr::string> held_{&held_pool_};  ///< the accounts named by markers in batch_
    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> stop_by_ms_{0};  ///< steady ms after which the final flush gives up
    // Pipelines remember their scripts for NOSCRIPT recovery: they live as long as the flusher.
    store::DueTakeScript due_take_;
    store::FlushSnapshotScript snapshot_;
    store::FlushClearScript clear_;
    // Scratch reused by every poll and flush (the flusher is one coroutine: one use at a time),
    // so that its steady state allocates per flush at most, never per partition or per account
    // (docs/performance.md "Tenth round").
    ShareOut share_;                    ///< the current take's, claim's or read's share-out
    redis::Pipeline poll_pipeline_;     ///< the current take's, claim's or read's commands
    ChunkedPipeline snapshots_{settings_.commands_per_trip};  ///< a flush's snapshot scripts
    ChunkedPipeline finishes_{settings_.commands_per_trip};   ///< its quarantine records, clears, acks
    std::vector<std::pair<int, std::string_view>> ack_ids_;   ///< (partition, marker id) acked by a flush
    std::vector<std::string_view> command_args_;              ///< one XACK's or XDEL's arguments
};

}  // namespace moneta::progress
