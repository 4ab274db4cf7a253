/// @file services/moneta/src/upstream/internal_api_guard.hpp
/// @brief The process-wide resilience state around the internal API: one circuit breaker per
/// endpoint, one bulkhead, the client-side throttle, the retry budget and the retry policy.
/// Every worker's ResilientInternalApi shares one InternalApiGuard.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"
#include "moneta/resilience/bulkhead.hpp"
#include "moneta/resilience/circuit_breaker.hpp"
#include "moneta/resilience/client_throttle.hpp"
#include "moneta/resilience/retry_budget.hpp"

namespace moneta::upstream {

/// The internal API endpoints moneta calls; each has its own breaker, so a broken progress
/// service does not stop playback authorisation (account, content).
enum class Endpoint : std::uint8_t { kAccount, kContent, kProgressRead, kProgressWrite };

/// "account", "content", "progress_read", "progress_write" (metric labels).
std::string_view endpoint_name(Endpoint e) noexcept;

/// Production defaults. Why these numbers:
/// - breaker: a 10 s time window (10 × 1 s) so a trickle of traffic still forms a rate; trip at
///   50 % failures once 10 calls are in it, or at 5 failures in a row (hard down: refused
///   connections trip fast, whatever the traffic). Slow-call trip off: the HTTP client's
///   per-call timeout already turns slow into kTimeout, which counts as a failure. Open for
///   1 s, doubling per consecutive opening up to 30 s, ±10 % jitter so workers of many pods
///   do not probe in lockstep. 3 half-open probes, re-open if they hang for 2 s. After closing,
///   ramp from 25 % of calls to all over 5 s, so a recovering API is not hit by the whole
///   backlog at once.
/// - bulkhead: 64 in-flight calls per process, no queue (a full bulkhead means the API is
///   slow: shed instead of stacking latency), 16 abandoned slots (unused by ResilientInternalApi,
///   which never abandons; kept for callers that do).
/// - throttle: SRE K = 2 over 60 s in 12 buckets of 5 s (shorter than the SRE book's 2 min so
///   recovery after an outage is quicker).
/// - retry budget: retries at most 20 % of active reads, floor 3 (Envoy).
/// - retry: one retry of an idempotent read, full-jitter backoff between 0 and 20 ms (≤ 100 ms):
///   a single retry catches a dropped keep-alive connection; more would multiply load.
struct InternalApiGuardSettings {
    resilience::CircuitBreakerConfig breaker{
        .window = resilience::WindowKind::kTime,
        .window_calls = 100,
        .bucket_width = std::chrono::seconds(1),
        .bucket_count = 10,
        .minimum_calls = 10,
        .failure_rate_threshold = 0.5,
        .slow_call_rate_threshold = 0.0,
        .slow_call_duration = std::chrono::seconds(1),
        .consecutive_failures = 5,
        .half_open_probes = 3,
        .half_open_max_wait = std::chrono::seconds(2),
        .open_base = std::chrono::seconds(1),
        .open_multiplier = 2.0,
        .open_max = std::chrono::seconds(30),
        .open_jitter = 0.1,
        .ramp_duration = std::chrono::seconds(5),
        .ramp_start_fraction = 0.25,
    };
    resilience::BulkheadConfig bulkhead{.max_active = 64, .max_waiters = 0, .max_abandoned = 16};
    bool throttle_enabled = true;
    resilience::ClientThrottleConfig throttle{
        .k = 2.0,
        .window = std::chrono::seconds(60),
        .buckets = 12,
    };
    resilience::RetryBudgetConfig retry_budget{.budget_percent = 20.0, .min_retry_concurrency = 3};
    resilience::RetryPolicy retry{
        .max_retries = 1,
        .base_delay = std::chrono::milliseconds(20),
        .max_delay = std::chrono::milliseconds(100),
    };
};

/// Counters of what the guard did instead of (or on top of) calling the API. Relaxed atomics,
/// incremented by every worker; read by /metrics.
struct GuardStats {
    std::atomic<std::uint64_t> throttled_total{0};               ///< shed by the client throttle
    std::atomic<std::uint64_t> bulkhead_rejected_total{0};       ///< shed by a full bulkhead
    std::atomic<std::uint64_t> short_circuited_total{0};         ///< refused by an open breaker
    std::atomic<std::uint64_t> retries_total{0};                 ///< retries granted by the budget
    std::atomic<std::uint64_t> retry_budget_exhausted_total{0};  ///< retries the budget refused
    std::atomic<std::uint64_t> deadline_expired_total{0};        ///< not sent: deadline passed
    std::atomic<std::uint64_t> coalesced_total{0};  ///< for the app's coalescer metric, if it wants
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (every member is itself thread-safe; the
/// accessors only return references fixed at construction).
class InternalApiGuard {
public:
    static constexpr std::array<Endpoint, 4> kEndpoints{
        Endpoint::kAccount,
        Endpoint::kContent,
        Endpoint::kProgressRead,
        Endpoint::kProgressWrite,
    };

    /// Validates every part of @p settings. @param clock must outlive the guard.
    /// @return kInvalidArgument when a config is out of range.
    static core::Result<std::unique_ptr<InternalApiGuard>> create(
        const InternalApiGuardSettings& settings, core::Clock& clock
    );
    InternalApiGuard(const InternalApiGuard&) = delete;
    InternalApiGuard& operator=(const InternalApiGuard&) = delete;
    ~InternalApiGuard();

    resilience::CircuitBreaker& breaker(Endpoint e) noexcept {
        return *breakers_[static_cast<std::size_t>(e)];
    }
    resilience::Bulkhead& bulkhead() noexcept { return bulkhead_; }
    /// Null when the throttle is disabled in the settings.
    resilience::ClientThrottle* throttle() noexcept { return throttle_.get(); }
    resilience::RetryBudget& retry_budget() noexcept { return retry_budget_; }
    const resilience::RetryPolicy& retry_policy() const noexcept { return retry_policy_; }
    GuardStats& stats() noexcept { return stats_; }

private:
    using Breakers = std::array<std::unique_ptr<resilience::CircuitBreaker>, kEndpoints.size()>;
    InternalApiGuard(
        const InternalApiGuardSettings& settings, core::Clock& clock, Breakers breakers
    );

    Breakers breakers_;
    resilience::Bulkhead bulkhead_;
    std::unique_ptr<resilience::ClientThrottle> throttle_;
    resilience::RetryBudget retry_budget_;
    const resilience::RetryPolicy retry_policy_;
    GuardStats stats_;
};

}  // namespace moneta::upstream
