/// @file services/moneta/src/store/session_store.hpp
/// @brief Playback sessions in Redis: leases (api.md §6 stream limit), session meta, and the
/// progress each heartbeat/stop carries. One round trip per operation (Lua + pipelining).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/lease.hpp"
#include "moneta/core/deadline.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/commands.hpp"
#include "store/progress_stream.hpp"
#include "store/progress_write.hpp"
#include "store/scripts/heartbeat_script.hpp"
#include "store/scripts/session_kick_script.hpp"
#include "store/scripts/session_list_script.hpp"
#include "store/scripts/session_start_script.hpp"
#include "store/scripts/stop_script.hpp"
#include "store/session_meta.hpp"

namespace moneta::store {

struct LeaseSettings {
    std::chrono::milliseconds lease{90'000};        ///< MONETA_LEASE_SEC
    std::chrono::milliseconds tombstone{600'000};   ///< how long an evicted session answers 409
    std::chrono::milliseconds meta{86'400'000};     ///< session meta: late heartbeats still count
    std::chrono::milliseconds idempotency{60'000};  ///< api.md §5.1: same key within 60 s
};

struct StartCommand {
    std::string_view account_id;
    int max_streams = 1;
    const domain::SessionInfo& info;
    std::string_view replace_session_id;
    std::int64_t now_ms = 0;
    std::string_view idempotency_key;   ///< empty: none
    std::string_view idempotency_hash;  ///< hash of the request (with the key)
    const SessionMeta& meta;
    /// A fail-open grant replayed after a Redis outage: it must not take over a lease its device
    /// started LATER (directly, once Redis was back): the device has moved on. Live starts: false.
    bool replayed_grant = false;
};

/// A replayed grant found its device already playing a session started after it: no lease is
/// taken (the session meta is still written, so the grant's buffered progress applies).
struct LeaseSuperseded {
    std::string by_session_id;
};

/// A stored response (or an in-flight marker) for the Idempotency-Key of this start.
struct IdempotentReplay {
    std::string request_hash;
    std::string response_body;  ///< empty while the first request is still in flight
};

using StartOutcome = std::variant<domain::LeaseGranted, domain::LeaseDenied, IdempotentReplay, LeaseSuperseded>;

/// What the cached account says about a renewed session (api.md §5.2), judged from the
/// entitlement digest (domain/entitlement_digest.hpp): no account JSON per heartbeat.
enum class Entitlement : std::uint8_t {
    kUnknown,             ///< nothing cached, or the session's profile unknown: "no news"
    kEntitled,
    kSubscriptionEnded,   ///< check_entitlement: kSubscriptionRequired
    kProfileRemoved,      ///< check_entitlement: kProfileNotInAccount
};

struct HeartbeatResult {
    domain::HeartbeatOutcome lease;
    ProgressWrite progress = ProgressWrite::kUnknownSession;
    Entitlement entitlement = Entitlement::kUnknown;
    std::int64_t entitlement_fetched_at_ms = 0;  ///< when the cached account was fetched (kUnknown: 0)
    std::optional<std::int64_t> window_end_ms;
};

struct StopResult {
    bool released = false;
    ProgressWrite progress = ProgressWrite::kUnknownSession;
};

/// kNotFound: no live lease of this account has that id (whose id it is, is the caller's
/// question: session ids carry a MAC of their account, domain/session_id.hpp).
enum class KickResult : std::uint8_t { kKicked, kNotFound };

struct LiveSession {
    std::string profile_id;
    std::string content_id;
    std::string selection;
    std::int64_t lease_expires_at_ms = 0;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread, like its redis client).
class SessionStore {
public:
    SessionStore(redis::Commands& redis, LeaseSettings lease, ProgressSettings progress);

    /// Idempotency check, atomic check-and-add of the lease (prune, same-device/explicit
    /// replacement, limit) and the session meta: one script, one round trip.
    boost::asio::awaitable<core::Result<StartOutcome>> async_start(const StartCommand& cmd,
                                                                   core::Deadline deadline);

    /// Stores the response of a granted idempotent start (keeps the key's TTL).
    boost::asio::awaitable<core::Result<void>> async_save_idempotent(std::string_view account_id,
                                                                     std::string_view key,
                                                                     std::string_view value,
                                                                     core::Deadline deadline);

    /// Renews the lease and records the position (also for a lost lease). One round trip.
    boost::asio::awaitable<core::Result<HeartbeatResult>> async_heartbeat(
        std::string_view account_id, std::string_view session_id, double position_sec,
        std::int64_t seq, std::int64_t now_ms, core::Deadline deadline);

    /// The progress of a heartbeat that could not reach Redis when it was sent (ProgressBuffer
    /// replay): the same guard with the heartbeat's own @p now_ms as `updated_at`, but the lease
    /// is left alone (a late heartbeat must not extend it). One round trip.
    boost::asio::awaitable<core::Result<ProgressWrite>> async_heartbeat_progress(
        std::string_view account_id, std::string_view session_id, double position_sec,
        std::int64_t seq, std::int64_t now_ms, core::Deadline deadline);

    /// Releases the lease (idempotent) and records the final position. One round trip.
    boost::asio::awaitable<core::Result<StopResult>> async_stop(
        std::string_view account_id, std::string_view session_id, double position_sec,
        std::int64_t seq, bool ended, std::int64_t now_ms, core::Deadline deadline);

    /// Live sessions of the account (prunes expired ones).
    boost::asio::awaitable<core::Result<std::vector<domain::ActiveSession>>> async_list(
        std::string_view account_id, std::int64_t now_ms, core::Deadline deadline);

    /// Ends another device's session; its next heartbeat gets SESSION_EVICTED.
    boost::asio::awaitable<core::Result<KickResult>> async_kick(std::string_view account_id,
                                                                std::string_view session_id,
                                                                std::int64_t now_ms,
                                                                core::Deadline deadline);

    /// The session's meta when its lease is live; nullopt otherwise.
    boost::asio::awaitable<core::Result<std::optional<LiveSession>>> async_live_session(
        std::string_view account_id, std::string_view session_id, std::int64_t now_ms,
        core::Deadline deadline);

    const LeaseSettings& settings() const noexcept { return lease_; }

    /// This store's scripts (heartbeat and stop carry its settings in their source,
    /// ScriptSettings): tests load them up front to see the warm path.
    const HeartbeatScript& heartbeat_script() const noexcept { return heartbeat_; }
    const redis::Script& stop_script() const noexcept { return stop_.script(); }
    const redis::Script& start_script() const noexcept { return start_.script(); }
    const redis::Script& list_script() const noexcept { return list_.script(); }
    const redis::Script& kick_script() const noexcept { return kick_.script(); }

private:
    /// The heartbeat script; @p renew false = progress only.
    boost::asio::awaitable<core::Result<HeartbeatResult>> async_run_heartbeat(
        std::string_view account_id, std::string_view session_id, double position_sec,
        std::int64_t seq, std::int64_t now_ms, bool renew, core::Deadline deadline);

    redis::Commands& redis_;
    /// How often a session's heartbeats renew its keys' TTLs (docs/data.md "TTLs by time").
    std::chrono::milliseconds meta_refresh() const noexcept;

    LeaseSettings lease_;
    ProgressSettings progress_;
    HeartbeatScript heartbeat_;
    StopScript stop_;
    SessionStartScript start_;
    SessionListScript list_;
    SessionKickScript kick_;
};

}  // namespace moneta::store
