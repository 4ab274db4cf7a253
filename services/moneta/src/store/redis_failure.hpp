/// @file services/moneta/src/store/redis_failure.hpp
/// @brief What a failed Redis call tells us about Redis, so that only real unavailability
/// switches on a fallback (docs/security.md "Client-triggered fail-open"). A caller's own
/// deadline, a cancellation or this process's overload says nothing about Redis: those must never
/// buffer a write or serve a start without a lease, or any client could turn the stream limit
/// off with a short X-Request-Timeout-Ms.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>

namespace moneta::store {

enum class RedisFailure : std::uint8_t {
    /// Nothing reached Redis: not connected, connect failed, or the Redis breaker is open
    /// (kUnavailable, kConnectFailed). The only case where a start may be served without a lease.
    kNotSent,
    /// Sent and not answered within the server's own command budget, or the connection was lost
    /// while it was in flight (kTimeout, kConnectionClosed): Redis may or may not have run it.
    kNoReply,
    /// The request's own deadline passed or its coroutine was cancelled (kDeadlineExceeded,
    /// kCancelled): the client gave up; Redis may be perfectly healthy.
    kCallerGaveUp,
    /// This worker's Redis queue is full (kOverloaded): our overload, not Redis's.
    kLocalOverload,
    /// An answer we cannot use (error reply, malformed reply, anything else): retrying would get
    /// the same answer.
    kBadAnswer,
};

RedisFailure classify_redis_failure(const boost::system::error_code& ec) noexcept;

/// Redis is unavailable (kNotSent or kNoReply): a progress write (heartbeat, stop, PUT) may be
/// held and replayed through the same guard (replays are idempotent: the guard's seq/updated_at
/// order makes a second application a no-op).
inline bool redis_unavailable(RedisFailure f) noexcept {
    return f == RedisFailure::kNotSent || f == RedisFailure::kNoReply;
}

}  // namespace moneta::store
