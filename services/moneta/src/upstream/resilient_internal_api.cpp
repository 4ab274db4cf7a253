#include "upstream/resilient_internal_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <utility>

namespace moneta::upstream {

using core::Errc;

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

Endpoint endpoint_of(Resource r) noexcept {
    return r == Resource::kAccount ? Endpoint::kAccount : Endpoint::kContent;
}

/// The Errc behind a transport error (kInternal for a foreign category: never expected).
Errc errc_of(const boost::system::error_code& ec) noexcept {
    return ec.category() == core::error_category() ? static_cast<Errc>(ec.value())
                                                   : Errc::kInternal;
}

/// The reason a finished attempt failed, for plan_retry (kOk: it succeeded, do not retry).
/// 429 maps to kOverloaded, which is never retried: the API asked us to back off.
Errc failure_of(const core::Result<Fetched>& r) noexcept {
    if (!r) {
        return errc_of(r.error());
    }
    if (r->status == 429) {
        return Errc::kOverloaded;
    }
    return r->status >= 500 ? Errc::kUpstreamError : Errc::kOk;
}

/// Step 6: report the outcome to the breaker and the throttle.
void classify(
    const core::Result<Fetched>& r,
    resilience::BreakerPermit& permit,
    resilience::ClientThrottle* throttle,
    core::Duration latency
) noexcept {
    if (!r) {
        switch (errc_of(r.error())) {
            case Errc::kTimeout:
                permit.on_timeout(latency);
                break;
            case Errc::kDeadlineExceeded:
            case Errc::kCancelled:
            case Errc::kOverloaded:  // the HTTP client's own connection queue: not the API's fault
                // Ours, not the API's: neither a failure for the breaker nor a request the API
                // refused (else a client's short deadline would raise everyone's throttle).
                permit.on_ignored();
                return;
            default:
                permit.on_failure(latency);
                break;
        }
        if (throttle != nullptr) {
            throttle->on_refused();  // a transport failure or timeout is never an accept
        }
        return;
    }
    const int status = r->status;
    if (status >= 500 || status == 429) {
        permit.on_failure(latency);
    } else {
        permit.on_success(latency);
    }
    if (throttle != nullptr) {
        if (status != 429 && status != 503) {
            throttle->on_accepted();
        } else {
            throttle->on_refused();
        }
    }
}

}  // namespace

/// One attempt's result, and whether it was sent at all (false: shed before sending).
struct ResilientInternalApi::Attempt {
    core::Result<Fetched> result;
    bool sent = false;
};

ResilientInternalApi::ResilientInternalApi(
    InternalApi& inner,
    InternalApiGuard& guard,
    const core::Clock& clock,
    boost::asio::any_io_executor ex
)
    : inner_(inner), guard_(guard), clock_(clock), ex_(std::move(ex)) {}

template <class Call>
boost::asio::awaitable<ResilientInternalApi::Attempt> ResilientInternalApi::async_attempt(
    Endpoint endpoint, const core::RequestContext& ctx, Call& call
) {
    GuardStats& stats = guard_.stats();
    if (ctx.deadline.expired(clock_)) {
        stats.deadline_expired_total.fetch_add(1, kRelaxed);
        co_return Attempt{core::make_error(Errc::kDeadlineExceeded), false};
    }
    // The breaker first: a call it refuses is not an attempt, so it must not count as a throttle
    // "request" with no chance of an accept — that would keep the throttle rejecting for its
    // whole window after the breaker has closed again.
    resilience::BreakerPermit permit = guard_.breaker(endpoint).try_acquire();
    if (!permit) {
        stats.short_circuited_total.fetch_add(1, kRelaxed);
        co_return Attempt{resilience::to_error(permit.rejection()), false};
    }
    resilience::ClientThrottle* throttle = guard_.throttle();
    if (throttle != nullptr && !throttle->admit()) {
        permit.on_ignored();  // we never called: says nothing about the API
        stats.throttled_total.fetch_add(1, kRelaxed);
        co_return Attempt{core::make_error(Errc::kOverloaded), false};
    }
    auto slot = guard_.bulkhead().try_acquire();
    if (!slot) {
        permit.on_ignored();  // we never called: says nothing about the API
        stats.bulkhead_rejected_total.fetch_add(1, kRelaxed);
        co_return Attempt{slot.error(), false};
    }
    // The Permit lives in this frame until the inner call has returned, i.e. until its I/O has
    // really ended (see the class comment): no abandon() needed.
    const core::SteadyTime start = clock_.steady_now();
    core::Result<Fetched> r = co_await call();
    const core::Duration latency = clock_.steady_now() - start;
    slot->release();
    classify(r, permit, throttle, latency);
    co_return Attempt{std::move(r), true};
}

template <class Call>
boost::asio::awaitable<core::Result<Fetched>> ResilientInternalApi::async_guarded(
    Endpoint endpoint, const core::RequestContext& ctx, Call call
) {
    const bool idempotent = endpoint != Endpoint::kProgressWrite;
    resilience::RequestGuard request;
    if (idempotent) {
        request = guard_.retry_budget().start_request();  // the budget is a share of active reads
    }
    Attempt last = co_await async_attempt(endpoint, ctx, call);
    if (!last.sent || !idempotent) {
        co_return std::move(last.result);
    }
    const resilience::RetryPolicy& policy = guard_.retry_policy();
    GuardStats& stats = guard_.stats();
    for (std::uint32_t retries = 0;; ++retries) {
        const Errc failure = failure_of(last.result);
        if (failure == Errc::kOk) {
            break;
        }
        const std::optional<core::Duration> delay = resilience::plan_retry(
            policy,
            retries,
            true,
            failure,
            ctx.deadline.time_left(clock_),
            resilience::default_uniform()
        );
        if (!delay) {
            break;
        }
        auto retry = guard_.retry_budget().try_retry();
        if (!retry) {
            stats.retry_budget_exhausted_total.fetch_add(1, kRelaxed);
            break;
        }
        stats.retries_total.fetch_add(1, kRelaxed);
        boost::asio::steady_timer timer(ex_, *delay);
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) {
            co_return core::make_error(Errc::kCancelled);  // our caller was cancelled mid-backoff
        }
        Attempt next = co_await async_attempt(endpoint, ctx, call);
        if (!next.sent) {
            break;  // shed locally: not an answer, keep the previous one
        }
        last = std::move(next);
    }
    co_return std::move(last.result);
}

boost::asio::awaitable<core::Result<Fetched>> ResilientInternalApi::async_get(
    Resource resource, std::string_view id, const core::RequestContext& ctx
) {
    co_return co_await async_guarded(endpoint_of(resource), ctx, [&] {
        return inner_.async_get(resource, id, ctx);
    });
}

boost::asio::awaitable<core::Result<Fetched>> ResilientInternalApi::async_get_progress(
    std::string_view profile_id, std::string_view content_ids_csv, const core::RequestContext& ctx
) {
    co_return co_await async_guarded(Endpoint::kProgressRead, ctx, [&] {
        return inner_.async_get_progress(profile_id, content_ids_csv, ctx);
    });
}

boost::asio::awaitable<core::Result<Fetched>> ResilientInternalApi::async_upsert_progress(
    std::string_view body, const core::RequestContext& ctx
) {
    co_return co_await async_guarded(Endpoint::kProgressWrite, ctx, [&] {
        return inner_.async_upsert_progress(body, ctx);
    });
}

bool ResilientInternalApi::available(Resource resource) const noexcept {
    resilience::CircuitBreaker& breaker = guard_.breaker(endpoint_of(resource));
    if (breaker.mode() == resilience::Mode::kForcedOpen) {
        return false;
    }
    if (breaker.state() != resilience::State::kOpen) {
        return true;
    }
    // Open as last seen: let the breaker decide whether the wait is over (lazy transition). An
    // admitted permit is dropped unreported, which counts as ignored and frees the probe slot.
    return static_cast<bool>(breaker.try_acquire());
}

}  // namespace moneta::upstream
