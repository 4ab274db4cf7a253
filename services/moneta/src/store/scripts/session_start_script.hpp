/// @file services/moneta/src/store/scripts/session_start_script.hpp
/// @brief The start script, typed (heartbeat_script.hpp has the pattern). One round trip: the
/// idempotency check, the atomic check-and-add of the lease (prune, same-device and explicit
/// replacement, the stream limit) and the session meta.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/scripts/script_call.hpp"
#include "store/scripts/session_list_script.hpp"

namespace moneta::store {

/// The texts are the caller's (encoded once per start); the Call only views them.
struct SessionStartArgs {
    std::string_view account_id;
    std::string_view session_id;
    std::string_view device_id;
    std::string_view info_json;           ///< domain::encode_session_info
    std::string_view replace_session_id;  ///< empty: none
    std::string_view idempotency_key;     ///< empty: none
    std::string_view idempotency_value;   ///< stored under the key ("hash\n"); empty: none
    std::string_view meta;  ///< encode_session_meta: what heartbeats store progress by
    std::int64_t now_ms = 0;
    std::int64_t lease_ms = 0;
    std::int64_t max_streams = 1;
    std::int64_t tombstone_ms = 0;
    std::int64_t idempotency_ttl_ms = 0;
    std::int64_t meta_ttl_ms = 0;
    /// A fail-open grant replayed after a Redis outage: its start time goes to the script,
    /// which then lets a later session of the same device win. Live starts: false.
    bool replayed_grant = false;
    std::int64_t started_at_ms = 0;
};

/// The decoded reply. Views point into the reply the caller keeps alive.
struct SessionStartReply {
    enum class Outcome : std::uint8_t { kGranted, kDenied, kIdempotentReplay, kSuperseded };
    Outcome outcome = Outcome::kGranted;
    std::int64_t expires_at_ms = 0;        ///< kGranted
    std::int64_t active_streams = 0;       ///< kGranted
    std::string_view replaced_session_id;  ///< kGranted: the lease taken over ("" none)
    LeaseList leases;                      ///< kDenied: the live leases
    std::string_view idempotency_value;    ///< kIdempotentReplay: what the key holds
    /// kSuperseded (a replayed grant only): the device's later session, or "" when the session
    /// itself was stopped or kicked (tombstoned) before its grant was replayed.
    std::string_view superseded_by;
};

/// @par Thread safety
/// Immutable after construction: share freely.
class SessionStartScript : public TypedScript {
public:
    /// KEYS lease, sess, dev, evict, meta (new sid), idem.
    static constexpr std::size_t kKeys = 6;
    /// ARGV now, lease_ms, max_streams, sid, device_id, info_json, replace_sid, tombstone_ms,
    /// idem_value ("" = none), idem_ttl_ms, meta_ttl_ms, replayed grant's started_at ("" = live
    /// start), meta value (one string).
    static constexpr std::size_t kArgs = 13;

    SessionStartScript();

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const SessionStartArgs& a) noexcept;

    private:
        IntArg now_, lease_, max_, tomb_, idem_ttl_, meta_ttl_, started_;
    };

    /// → {1, expires, active, replaced_sid} | {0, sid, info, expiry, ...} | {3, idem_value} |
    /// {4, sid}. A script error is kUpstreamError; any other shape is kProtocolError.
    static core::Result<SessionStartReply> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
