#include "store/guarded_redis.hpp"

#include <array>
#include <chrono>
#include <string_view>
#include <utility>

namespace moneta::store {

using core::Errc;

resilience::CircuitBreakerConfig default_redis_breaker() {
    resilience::CircuitBreakerConfig c;
    c.window = resilience::WindowKind::kCount;
    c.window_calls = 50;
    c.minimum_calls = 10;
    c.failure_rate_threshold = 0.5;
    c.slow_call_rate_threshold = 0.0;
    c.consecutive_failures = 5;
    c.open_base = std::chrono::milliseconds(250);
    c.open_multiplier = 2.0;
    c.open_max = std::chrono::seconds(5);
    c.open_jitter = 0.1;
    c.half_open_probes = 2;
    c.half_open_max_wait = std::chrono::seconds(1);
    return c;
}

namespace {

/// Error replies that mean "this server cannot serve now" rather than "your command is wrong".
constexpr std::array<std::string_view, 4> kUnhealthyReplies{
    "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"};

bool unhealthy(const redis::Reply& r) noexcept {
    if (!r.is_error()) {
        return false;
    }
    for (std::string_view prefix : kUnhealthyReplies) {
        if (r.is_error_with_prefix(prefix)) {
            return true;
        }
    }
    return false;
}

bool unhealthy(const redis::Replies& replies) noexcept {
    for (const auto& r : replies) {
        if (unhealthy(r)) {
            return true;
        }
    }
    return false;
}

template <class T>
void classify(
    const core::Result<T>& r, resilience::BreakerPermit& permit, core::Duration latency
) noexcept {
    if (r) {
        if (unhealthy(*r)) {
            permit.on_failure(latency);
        } else {
            permit.on_success(latency);
        }
        return;
    }
    const auto& ec = r.error();
    const Errc e =
        ec.category() == core::error_category() ? static_cast<Errc>(ec.value()) : Errc::kInternal;
    switch (e) {
        case Errc::kTimeout:
            permit.on_timeout(latency);
            break;
        case Errc::kUnavailable:
        case Errc::kConnectionClosed:
        case Errc::kProtocolError:
        case Errc::kConnectFailed:
            permit.on_failure(latency);
            break;
        default:
            permit.on_ignored();
            break;  // deadline, cancel, local overload: not Redis' health
    }
}

/// After the inner call: the breaker's verdict and the latency histogram. A plain function, so
/// the coroutines below keep exactly the locals they had (GCC puts every local of a coroutine in
/// its frame; a frame over Asio's 1,020-byte recycling limit is a heap allocation per call).
template <class T>
void finish(const core::Result<T>& r, resilience::BreakerPermit& permit, const core::Clock& clock,
            core::SteadyTime start, RedisLatencyStats* latency, RedisLatencyStats::Operation op) noexcept {
    const core::Duration took = clock.steady_now() - start;
    classify(r, permit, took);
    if (latency != nullptr) {
        latency->latency[op].observe(std::chrono::duration<double>(took).count());
    }
}

/// The gate before a call: an error to return without calling (expired deadline, no
/// connection, breaker open), or a permit in @p permit. A plain function, so each call below is
/// ONE coroutine frame (gate, inner call, classification), not a frame per layer: frames beyond
/// Asio's small per-thread cache are heap allocations (docs/performance.md).
boost::system::error_code gate(const redis::Commands& inner, resilience::CircuitBreaker& breaker,
                               const core::Clock& clock, core::Deadline deadline,
                               resilience::BreakerPermit& permit) {
    if (deadline.expired(clock)) {
        return core::make_error(Errc::kDeadlineExceeded);
    }
    if (!inner.connected()) {
        // No connection: the client fails fast by itself and sends nothing, so the breaker has
        // nothing to protect — and counting these would keep it open (backing off up to
        // open_max) after the connection is back, delaying recovery for no gain.
        return core::make_error(Errc::kUnavailable);
    }
    permit = breaker.try_acquire();
    if (!permit) {
        return resilience::to_error(permit.rejection());
    }
    return {};
}

/// The inner calls, built outside the coroutines below: a CommandArgs temporary in a
/// `co_await inner_.async_x(redis::CommandArgs(span), ...)` expression would sit in the calling
/// frame (288 bytes each) for the whole call. A CommandArgs made from a span only views its
/// elements, which stay valid until the call returns.
boost::asio::awaitable<core::Result<redis::Reply>> inner_command(
    redis::Commands& inner, std::span<const std::string_view> args, core::Deadline deadline,
    redis::CommandControl control
) {
    return inner.async_command(redis::CommandArgs(args), deadline, control);
}

boost::asio::awaitable<core::Result<redis::Reply>> inner_eval(
    redis::Commands& inner,
    const redis::Script& script,
    std::span<const std::string_view> keys,
    std::span<const std::string_view> args,
    core::Deadline deadline,
    redis::CommandControl control
) {
    return inner.async_eval(script, redis::CommandArgs(keys), redis::CommandArgs(args), deadline, control);
}

}  // namespace

GuardedRedis::GuardedRedis(
    redis::Commands& inner, resilience::CircuitBreaker& breaker, const core::Clock& clock,
    RedisLatencyStats* latency
) noexcept
    : inner_(inner), breaker_(breaker), clock_(clock), latency_(latency) {}

// The three calls share gate() and classify(); the inner call is awaited in the same full
// expression, so the views it references stay valid.

boost::asio::awaitable<core::Result<redis::Reply>> GuardedRedis::do_async_command(
    std::span<const std::string_view> args, core::Deadline deadline, redis::CommandControl control
) {
    resilience::BreakerPermit permit;
    if (const auto ec = gate(inner_, breaker_, clock_, deadline, permit)) {
        co_return ec;
    }
    const core::SteadyTime start = clock_.steady_now();
    core::Result<redis::Reply> r = co_await inner_command(inner_, args, deadline, control);
    finish(r, permit, clock_, start, latency_, RedisLatencyStats::kCommand);
    co_return r;
}

boost::asio::awaitable<core::Result<redis::Replies>> GuardedRedis::do_async_pipeline(
    const redis::Pipeline& pipeline, core::Deadline deadline, redis::CommandControl control
) {
    resilience::BreakerPermit permit;
    if (const auto ec = gate(inner_, breaker_, clock_, deadline, permit)) {
        co_return ec;
    }
    const core::SteadyTime start = clock_.steady_now();
    core::Result<redis::Replies> r = co_await inner_.async_pipeline(pipeline, deadline, control);
    finish(r, permit, clock_, start, latency_, RedisLatencyStats::kPipeline);
    co_return r;
}

boost::asio::awaitable<core::Result<redis::Reply>> GuardedRedis::do_async_eval(
    const redis::Script& script,
    std::span<const std::string_view> keys,
    std::span<const std::string_view> args,
    core::Deadline deadline,
    redis::CommandControl control
) {
    resilience::BreakerPermit permit;
    if (const auto ec = gate(inner_, breaker_, clock_, deadline, permit)) {
        co_return ec;
    }
    const core::SteadyTime start = clock_.steady_now();
    core::Result<redis::Reply> r = co_await inner_eval(inner_, script, keys, args, deadline, control);
    finish(r, permit, clock_, start, latency_, RedisLatencyStats::kScript);
    co_return r;
}

}  // namespace moneta::store
