/// @file services/moneta/src/upstream/resilient_internal_api.hpp
/// @brief InternalApi decorator (one per worker) that puts the process-wide InternalApiGuard in
/// front of the real client: deadline check, per-endpoint breaker, client throttle, bulkhead,
/// outcome classification and budgeted retries of idempotent reads.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "moneta/core/clock.hpp"
#include "upstream/internal_api.hpp"
#include "upstream/internal_api_guard.hpp"

namespace moneta::upstream {

/// Each attempt runs, in order:
/// 1. deadline already expired: kDeadlineExceeded, nothing sent;
/// 2. the endpoint's breaker: kUnavailable (lock- and allocation-free when open);
/// 3. client throttle admit(): kOverloaded (the breaker permit reports on_ignored); after the
///    breaker, so refused calls are not throttle requests that can never be accepted;
/// 4. bulkhead try_acquire(): kOverloaded (the breaker permit reports on_ignored);
/// 5. the inner call, with the bulkhead Permit held until it returns;
/// 6. classification: kTimeout → timeout; kDeadlineExceeded, kCancelled and the HTTP client's
///    own kOverloaded (its local connection queue is full: says nothing about the API) →
///    ignored; any other transport error → failure; HTTP >= 500 or 429 → failure; any other
///    status (404 included) → success. The throttle counts an accept for every HTTP answer
///    except 429 and 503.
///
/// Reads (account, content, progress read) are retried with resilience::plan_retry and the
/// shared retry budget, after a full-jitter backoff on an asio timer; every retry repeats steps
/// 1-6. A retry that is shed locally (steps 1-4) is not an answer: the previous attempt's
/// result is returned. The POST upsert is never retried. 5xx answers are retried, 429 is not.
///
/// Why the bulkhead Permit is simply held and never abandon()ed: the HTTP client applies
/// min(per-call timeout, deadline left) itself and closes the socket when it fires, so when
/// the inner call returns its I/O has ended. Nothing here stops waiting earlier than the inner
/// call, so no call is ever "given up on but still running", which is what abandon() is for.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (per worker, used on @p ex's thread), except
/// available(), which may be called from any thread.
class ResilientInternalApi final : public InternalApi {
public:
    /// @param inner this worker's client; @param guard the process-wide guard; @param clock the
    /// clock deadlines refer to; @param ex this worker's executor (backoff timers).
    ResilientInternalApi(
        InternalApi& inner,
        InternalApiGuard& guard,
        const core::Clock& clock,
        boost::asio::any_io_executor ex
    );

    // moneta::upstream::InternalApi
    boost::asio::awaitable<core::Result<Fetched>> async_get(
        Resource resource, std::string_view id, const core::RequestContext& ctx
    ) override;
    boost::asio::awaitable<core::Result<Fetched>> async_get_progress(
        std::string_view profile_id,
        std::string_view content_ids_csv,
        const core::RequestContext& ctx
    ) override;
    boost::asio::awaitable<core::Result<Fetched>> async_upsert_progress(
        std::string_view body, const core::RequestContext& ctx
    ) override;
    /// False while the resource's breaker is open (its wait not over) or forced open. Breaker
    /// transitions are lazy, so when the breaker reads "open" this asks it for a permit (one
    /// atomic load and a clock read): once the open wait is over that moves it to half-open and
    /// the unused permit is dropped (ignored, freeing its probe slot), so a cache that only
    /// refreshes in the background still gets to probe a recovered API. No allocation.
    bool available(Resource resource) const noexcept override;

private:
    struct Attempt;
    template <class Call>
    boost::asio::awaitable<core::Result<Fetched>> async_guarded(
        Endpoint endpoint, const core::RequestContext& ctx, Call call
    );
    template <class Call>
    boost::asio::awaitable<Attempt> async_attempt(
        Endpoint endpoint, const core::RequestContext& ctx, Call& call
    );

    InternalApi& inner_;
    InternalApiGuard& guard_;
    const core::Clock& clock_;
    boost::asio::any_io_executor ex_;
};

}  // namespace moneta::upstream
