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
    std::atomic<std::int64_t> buffered{0};               ///< gauge: entries waiting for Redis
    std::atomic<std::uint64_t> buffered_total{0};        ///< entries accepted (not coalesced ones)
    std::atomic<std::uint64_t> coalesced_total{0};       ///< heartbeats folded into a held one
    std::atomic<std::uint64_t> dropped_total{0};         ///< refused, buffer full (caller answered 503)
    std::atomic<std::uint64_t> account_full_total{0};    ///< refused, the account's share is used (503)
    std::atomic<std::uint64_t> unknown_session_total{0}; ///< refused, not a session id minted for the account (503)
    std::atomic<std::uint64_t> replayed_total{0};        ///< entries Redis answered (then removed)
    std::atomic<std::uint64_t> replay_failed_total{0};   ///< replay attempts Redis did not answer (retried)
    std::atomic<std::uint64_t> replay_rejected_total{0}; ///< error replies: removed, not retried
    std::atomic<std::uint64_t> fail_open_starts_total{0};///< lease grants accepted (starts without a lease)
    std::atomic<std::uint64_t> grants_denied_total{0};   ///< replayed grants the stream limit refused
    std::atomic<std::uint64_t> grants_superseded_total{0};///< replayed grants whose device had started a newer session
    std::atomic<std::uint64_t> abandoned_total{0};       ///< still held when the buffer was destroyed
    /// The guard's answers to replayed progress (heartbeats, stops, PUTs).
    std::atomic<std::uint64_t> replay_applied_total{0};
    std::atomic<std::uint64_t> replay_stale_total{0};
    std::atomic<std::uint64_t> replay_zero_kept_total{0};
    std::atomic<std::uint64_t> replay_unknown_session_total{0};
    std::atomic<std::uint64_t> replay_capped_total{0};

    void count(ProgressWrite w) noexcept;
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
