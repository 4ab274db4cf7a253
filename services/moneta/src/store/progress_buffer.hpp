/// @file services/moneta/src/store/progress_buffer.hpp
/// @brief Writes that could not reach Redis (it was down or too slow), held per worker and
/// replayed through the same guarded scripts once Redis answers again (docs/resilience.md,
/// "Redis down").
///
/// What is held: heartbeat progress, stops, offline progress PUTs, and fail-open lease grants (a
/// start served without a Redis lease). Replay is oldest first, one entry per round trip, and an
/// entry leaves the buffer only once Redis has answered it, so the guard's ordering rules still
/// decide: a heartbeat's or stop's `updated_at` is the time the player sent it, so a newer write
/// that reached Redis meanwhile is never overwritten. A replayed heartbeat does not touch the
/// lease (SessionStore::async_heartbeat_progress). A lease grant is replayed with the normal
/// start script, stream limit included, with a lease counted from the replay time.
///
/// Usage (one per worker, on the worker's executor):
/// @code
///   store::ProgressBuffer buffer(io.get_executor(), clock, {.max_entries = 25'000}, stats);
///   co_spawn(io, buffer.async_run(sessions, progress), detached);
///   // handler, after a transport error:
///   if (!buffer.push(store::BufferedHeartbeat{...})) { /* full: answer 503 */ }
///   // shutdown, before the worker's Redis client stops:
///   buffer.stop();
/// @endcode
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/stats_table.hpp"
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "domain/lease.hpp"
#include "domain/progress.hpp"
#include "domain/session_id.hpp"
#include "moneta/core/clock.hpp"
#include "store/session_store.hpp"

namespace moneta::store {

class ProgressStore;

struct BufferedHeartbeat {
    std::string account_id;
    std::string session_id;
    double position_sec = 0;
    std::int64_t seq = 0;
    std::int64_t now_ms = 0;  ///< when the player sent it: the progress `updated_at`
};

struct BufferedStop {
    std::string account_id;
    std::string session_id;
    double position_sec = 0;
    std::int64_t seq = 0;
    std::int64_t now_ms = 0;
    bool ended = false;
};

/// PUT /v1/me/progress/{content_id}: what ProgressStore::async_put takes.
struct BufferedPut {
    std::string account_id;
    std::string profile_id;
    domain::ProgressRecord record;
};

/// A start granted without a Redis lease (fail-open): replayed as a normal start (idempotency
/// and rate limit excepted) so the session gets its lease and meta once Redis is back.
struct BufferedLeaseGrant {
    std::string account_id;
    int max_streams = 1;
    domain::SessionInfo info;
    std::string replace_session_id;
    SessionMeta meta;
};

using BufferedWrite = std::variant<BufferedHeartbeat, BufferedStop, BufferedPut, BufferedLeaseGrant>;

struct ProgressBufferSettings {
    std::size_t max_entries = 10'000;             ///< per worker; a full buffer refuses new entries
    /// Entries one account may hold here (its share): one token cannot fill the buffer for
    /// everybody. Fail-open lease grants are further held to the account's max_streams devices.
    std::size_t max_per_account = 512;
    std::chrono::milliseconds retry_min{100};     ///< replay backoff after a failure …
    std::chrono::milliseconds retry_max{2000};    ///< … doubling up to this
    std::chrono::milliseconds call_timeout{1000}; ///< deadline of one replayed write
};

/// Exported on /metrics. Shared by every worker's buffer (atomics, relaxed): the gauge is the sum.
struct ProgressBufferStats {
    metrics::LocalGauge buffered;               ///< gauge: entries waiting for Redis
    metrics::LocalCounter buffered_total;        ///< entries accepted (not coalesced ones)
    metrics::LocalCounter coalesced_total;       ///< heartbeats folded into a held one
    metrics::LocalCounter dropped_total;         ///< refused, buffer full (caller answered 503)
    metrics::LocalCounter account_full_total;    ///< refused, the account's share is used (503)
    metrics::LocalCounter unknown_session_total; ///< refused, not a session id minted for the account (503)
    metrics::LocalCounter replayed_total;        ///< entries Redis answered (then removed)
    metrics::LocalCounter replay_failed_total;   ///< replay attempts Redis did not answer (retried)
    metrics::LocalCounter replay_rejected_total; ///< error replies: removed, not retried
    metrics::LocalCounter fail_open_starts_total;///< lease grants accepted (starts without a lease)
    metrics::LocalCounter grants_denied_total;   ///< replayed grants the stream limit refused
    metrics::LocalCounter grants_superseded_total;///< replayed grants whose device had started a newer session
    metrics::LocalCounter abandoned_total;       ///< still held when the buffer was destroyed
    /// The guard's answers to replayed progress (heartbeats, stops, PUTs).
    metrics::LocalCounter replay_applied_total;
    metrics::LocalCounter replay_stale_total;
    metrics::LocalCounter replay_zero_kept_total;
    metrics::LocalCounter replay_unknown_session_total;
    metrics::LocalCounter replay_capped_total;

    void count(ProgressWrite w) noexcept;
};

/// What ProgressBufferStats exports (docs/resilience.md "Redis down").
inline constexpr metrics::Stat<ProgressBufferStats> kProgressBufferStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "fail_open_start"}, MONETA_STAT(fail_open_starts_total)},
    {metrics::StatKind::kGauge, "moneta_progress_buffered", "Writes held locally until Redis answers again (all workers).", {}, MONETA_STAT(buffered)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_accepted_total", "Writes put in the local buffer (coalesced ones not counted).", {}, MONETA_STAT(buffered_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_coalesced_total", "Heartbeats folded into a held newer-or-equal one.", {}, MONETA_STAT(coalesced_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_dropped_total", "Writes refused because the buffer was full (answered 503).", {}, MONETA_STAT(dropped_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_account_full_total", "Writes refused because the account's share of the buffer (or its max_streams grants) was used (answered 503).", {}, MONETA_STAT(account_full_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_unknown_session_total", "Heartbeats/stops refused because the session id was not minted for the account (answered 503).", {}, MONETA_STAT(unknown_session_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replayed_total", "Buffered writes Redis answered on replay.", {}, MONETA_STAT(replayed_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replay_failures_total", "Replay attempts Redis did not answer (retried with backoff).", {}, MONETA_STAT(replay_failed_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replay_rejected_total", "Replayed writes answered with an error reply (removed).", {}, MONETA_STAT(replay_rejected_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_grants_denied_total", "Fail-open starts whose replayed lease the stream limit refused.", {}, MONETA_STAT(grants_denied_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_grants_superseded_total", "Fail-open starts whose device started a newer session before the replay (no lease taken).", {}, MONETA_STAT(grants_superseded_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_abandoned_total", "Writes still buffered at shutdown (lost).", {}, MONETA_STAT(abandoned_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replay_writes_total", "Replayed progress writes by guard outcome.", {"result", "applied"}, MONETA_STAT(replay_applied_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replay_writes_total", "Replayed progress writes by guard outcome.", {"result", "stale"}, MONETA_STAT(replay_stale_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replay_writes_total", "Replayed progress writes by guard outcome.", {"result", "zero_kept"}, MONETA_STAT(replay_zero_kept_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replay_writes_total", "Replayed progress writes by guard outcome.", {"result", "unknown_session"}, MONETA_STAT(replay_unknown_session_total)},
    {metrics::StatKind::kCounter, "moneta_progress_buffer_replay_writes_total", "Replayed progress writes by guard outcome.", {"result", "capped"}, MONETA_STAT(replay_capped_total)},
};

/// NOTE: deliberate simplifications. Memory only: a process crash loses what is held (counted
/// nowhere; `buffered` shows the exposure). One entry per round trip, in order; no pipelining.
/// Only heartbeats coalesce (stops, PUTs and grants are few, and folding them could change what
/// the guard keeps).
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe, except stop() (any thread) and the stats.
/// Everything else runs on the executor given to the constructor (the worker's).
class ProgressBuffer {
public:
    /// @p clock gives the replay time of lease grants and the replay deadlines: the one the
    /// worker's Redis client uses.
    /// @p session_ids: heartbeats and stops are held only for ids it minted for their account
    /// (null: any id, for tests of other behaviour).
    ProgressBuffer(boost::asio::any_io_executor executor, const core::Clock& clock,
                   ProgressBufferSettings settings, ProgressBufferStats& stats,
                   const domain::SessionIdSigner* session_ids = nullptr);
    /// Counts what is still held as abandoned. async_run must have returned (see running()).
    ~ProgressBuffer();
    ProgressBuffer(const ProgressBuffer&) = delete;
    ProgressBuffer& operator=(const ProgressBuffer&) = delete;

    enum class Push : std::uint8_t {
        kHeld,            ///< held (or folded into a held heartbeat): answer as if applied
        kFull,            ///< the worker's buffer is full (dropped_total)
        kAccountFull,     ///< the account's share is used, or max_streams other devices hold grants
        kUnknownSession,  ///< a heartbeat/stop whose id moneta did not mint for this account
    };

    /// Holds @p write for replay, or folds a heartbeat into a held one of the same session when
    /// the guard would keep the same result. Wakes async_run. Every refusal is counted; the
    /// caller answers 503 (retryable) for each.
    [[nodiscard]] Push push(BufferedWrite&& write);

    /// A lease grant of this session is still held: its heartbeats and stop must queue behind
    /// it (sent straight to Redis they would find no lease, or release one before it exists).
    bool has_pending_grant(std::string_view account_id, std::string_view session_id) const;

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }

    /// Replays held writes, oldest first, while Redis answers; waits with backoff (retry_min ..
    /// retry_max) while it does not; sleeps (no polling) while nothing is held. Returns soon
    /// after stop() or the cancellation of the awaiting coroutine: at once from a wait, after the
    /// Redis call in flight otherwise (which stopping the Redis client or the cancellation cuts
    /// short). Run it once, on the constructor's executor.
    boost::asio::awaitable<void> async_run(SessionStore& sessions, ProgressStore& progress);

    /// Asks async_run to return. Any thread; idempotent. It posts to the executor: keep the
    /// buffer alive until that ran (or until the executor is destroyed without running again).
    void stop();

    /// True from the start of async_run until it returned (any thread).
    bool running() const noexcept { return running_.load(); }

    /// The held writes, oldest first (tests).
    std::vector<BufferedWrite> entries_for_test() const;

private:
    struct Slot {
        std::uint64_t id = 0;
        BufferedWrite write;
    };
    enum class Replay : std::uint8_t { kDone, kRejected, kRetry };

    boost::asio::awaitable<Replay> async_replay(const BufferedWrite& write, SessionStore& sessions,
                                                ProgressStore& progress);
    boost::asio::awaitable<void> async_wait(std::chrono::steady_clock::duration d);
    bool fold_heartbeat(const BufferedHeartbeat& hb);
    void append(BufferedWrite&& write);
    void pop_front();

    boost::asio::any_io_executor executor_;
    const core::Clock& clock_;
    ProgressBufferSettings settings_;
    ProgressBufferStats& stats_;
    boost::asio::steady_timer timer_;
    std::deque<Slot> entries_;
    std::uint64_t next_id_ = 1;
    std::uint64_t in_flight_ = 0;  ///< id of the entry being replayed (0: none); never folded into
    /// Session key → id of its newest held heartbeat that later heartbeats may fold into (erased
    /// when a stop of the session is held after it, or when it leaves the buffer).
    std::unordered_map<std::string, std::uint64_t> foldable_;
    std::unordered_set<std::string> pending_grants_;  ///< session keys of held lease grants
    struct AccountShare {
        std::size_t entries = 0;
        /// Devices with held grants, and how many each: a device that starts again during the
        /// outage replaces its own lease at replay (as live), so only distinct devices count
        /// towards max_streams.
        std::vector<std::pair<std::string, std::size_t>> grant_devices;
    };
    std::map<std::string, AccountShare, std::less<>> accounts_;  ///< per account id; erased at zero
    const domain::SessionIdSigner* session_ids_;
    bool idle_ = false;     ///< async_run waits for a push (not backing off)
    std::atomic<bool> running_{false};
    std::atomic<bool> stopping_{false};
};

}  // namespace moneta::store
