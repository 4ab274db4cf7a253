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

bool unhealthy(const std::vector<redis::Reply>& replies) noexcept {
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

/// The shared gate. @p call returns the inner awaitable; it is awaited at once, so the views it
/// captures stay valid.
template <class T, class Call>
boost::asio::awaitable<core::Result<T>> async_guarded(
    const redis::Commands& inner,
    resilience::CircuitBreaker& breaker,
    const core::Clock& clock,
    core::Deadline deadline,
    Call call
) {
    if (deadline.expired(clock)) {
        co_return core::make_error(Errc::kDeadlineExceeded);
    }
    if (!inner.connected()) {
        // No connection: the client fails fast by itself and sends nothing, so the breaker has
        // nothing to protect — and counting these would keep it open (backing off up to
        // open_max) after the connection is back, delaying recovery for no gain.
        co_return core::make_error(Errc::kUnavailable);
    }
    resilience::BreakerPermit permit = breaker.try_acquire();
    if (!permit) {
        co_return resilience::to_error(permit.rejection());
    }
    const core::SteadyTime start = clock.steady_now();
    core::Result<T> r = co_await call();
    classify(r, permit, clock.steady_now() - start);
    co_return r;
}

}  // namespace

GuardedRedis::GuardedRedis(
    redis::Commands& inner, resilience::CircuitBreaker& breaker, const core::Clock& clock
) noexcept
    : inner_(inner), breaker_(breaker), clock_(clock) {}

boost::asio::awaitable<core::Result<redis::Reply>> GuardedRedis::do_async_command(
    std::span<const std::string_view> args, core::Deadline deadline, redis::CommandControl control
) {
    co_return co_await async_guarded<redis::Reply>(inner_, breaker_, clock_, deadline, [&] {
        return inner_.async_command(redis::CommandArgs(args), deadline, control);
    });
}

boost::asio::awaitable<core::Result<std::vector<redis::Reply>>> GuardedRedis::do_async_pipeline(
    const redis::Pipeline& pipeline, core::Deadline deadline, redis::CommandControl control
) {
    co_return co_await async_guarded<std::vector<redis::Reply>>(inner_, breaker_, clock_, deadline, [&] {
        return inner_.async_pipeline(pipeline, deadline, control);
    });
}

boost::asio::awaitable<core::Result<redis::Reply>> GuardedRedis::do_async_eval(
    const redis::Script& script,
    std::span<const std::string_view> keys,
    std::span<const std::string_view> args,
    core::Deadline deadline,
    redis::CommandControl control
) {
    co_return co_await async_guarded<redis::Reply>(inner_, breaker_, clock_, deadline, [&] {
        return inner_.async_eval(
            script, redis::CommandArgs(keys), redis::CommandArgs(args), deadline, control
        );
    });
}

}  // namespace moneta::store
