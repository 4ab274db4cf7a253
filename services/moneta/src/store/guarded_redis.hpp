/// @file services/moneta/src/store/guarded_redis.hpp
/// @brief redis::Commands decorator (one per worker) that puts a process-wide circuit breaker
/// in front of this worker's Redis client, so a down or stuck Redis is failed fast.
#pragma once

#include <array>
#include <string_view>

#include "moneta/core/clock.hpp"
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/registry.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/resilience/circuit_breaker.hpp"

namespace moneta::store {

/// Production breaker for Redis: count window of the last 50 calls, trip at 50 % failures once
/// 10 are in it or at 5 failures in a row; open 250 ms doubling up to 5 s (±10 %): Redis
/// restarts and failovers take seconds, and a short first wait keeps a blip from costing
/// much; 2 half-open probes, re-open if they hang for 1 s.
resilience::CircuitBreakerConfig default_redis_breaker();

/// Round-trip latency of one worker's Redis calls by kind (moneta_redis_request_duration_seconds
/// {operation}): a single command, a pipeline (one round trip for all its commands) or a script
/// (EVALSHA, with its one NOSCRIPT → EVAL retry inside). Single writer: the worker.
struct RedisLatencyStats {
    static constexpr std::array<std::string_view, 3> kOperations{"command", "pipeline", "script"};
    enum Operation : std::size_t { kCommand = 0, kPipeline = 1, kScript = 2 };
    std::array<metrics::LocalHistogram<metrics::kLatencyBounds>, kOperations.size()> latency{};
};

/// Each call: an expired deadline → kDeadlineExceeded without sending; breaker rejected →
/// kUnavailable at once (nothing allocated besides the coroutine frame); otherwise the inner
/// call, classified for the breaker:
/// - kTimeout → timeout;
/// - kUnavailable, kConnectionClosed, kProtocolError, kConnectFailed → failure;
/// - kDeadlineExceeded, kCancelled, kOverloaded (and any other code) → ignored;
/// - a reply → success, an error reply included (WRONGTYPE, NOSCRIPT... are our bugs or
///   normal answers, not a sick server), except LOADING, BUSY, MASTERDOWN and TRYAGAIN, which
///   say the server cannot serve now → failure. A pipeline fails when any of its replies does.
/// The inner Result is returned unchanged.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (per worker, like the inner client).
class GuardedRedis final : public redis::Commands {
public:
    /// @param inner this worker's client; @param breaker the process-wide Redis breaker;
    /// @param clock the clock deadlines and latencies refer to. All must outlive this object.
    /// @param latency where to observe each call that reached Redis (not those refused by the
    /// gate); null: not measured.
    GuardedRedis(
        redis::Commands& inner, resilience::CircuitBreaker& breaker, const core::Clock& clock,
        RedisLatencyStats* latency = nullptr
    ) noexcept;

    // moneta::redis::Commands
    bool connected() const noexcept override { return inner_.connected(); }

private:
    boost::asio::awaitable<core::Result<redis::Reply>> do_async_command(
        std::span<const std::string_view> args,
        core::Deadline deadline,
        redis::CommandControl control
    ) override;
    boost::asio::awaitable<core::Result<redis::Replies>> do_async_pipeline(
        const redis::Pipeline& pipeline, core::Deadline deadline, redis::CommandControl control
    ) override;
    boost::asio::awaitable<core::Result<redis::Reply>> do_async_eval(
        const redis::Script& script,
        std::span<const std::string_view> keys,
        std::span<const std::string_view> args,
        core::Deadline deadline,
        redis::CommandControl control
    ) override;

    redis::Commands& inner_;
    resilience::CircuitBreaker& breaker_;
    const core::Clock& clock_;
    RedisLatencyStats* latency_;
};

}  // namespace moneta::store
