/// @file moneta/resilience/retry_budget.hpp
/// @brief Envoy-style retry budget (active retries < pct% of active requests, with a floor) and
/// the retry decision for idempotent reads: exponential backoff with full jitter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "moneta/core/clock.hpp"
#include "moneta/core/error.hpp"
#include "moneta/core/result.hpp"

namespace moneta::resilience {

/// Envoy's RetryBudget: budget_percent 20, min_retry_concurrency 3 are its defaults.
struct RetryBudgetConfig {
    double budget_percent = 20.0;            ///< active retries allowed per 100 active requests
    std::uint32_t min_retry_concurrency = 3;  ///< floor, so a quiet service can still retry

    /// kInvalidArgument unless 0 <= budget_percent <= 100.
    core::Result<void> validate() const noexcept;
};

class RetryBudget;

/// Counts one logical request as active for its whole life (first attempt and retries).
/// Move-only; empty after move or finish().
class RequestGuard {
public:
    RequestGuard() noexcept = default;
    RequestGuard(RequestGuard&& other) noexcept;
    RequestGuard& operator=(RequestGuard&& other) noexcept;
    RequestGuard(const RequestGuard&) = delete;
    RequestGuard& operator=(const RequestGuard&) = delete;
    ~RequestGuard() { finish(); }

    void finish() noexcept;
    bool held() const noexcept { return owner_ != nullptr; }

private:
    friend class RetryBudget;
    explicit RequestGuard(RetryBudget* owner) noexcept : owner_(owner) {}
    RetryBudget* owner_ = nullptr;
};

/// Counts one retry attempt as active until it completes. Move-only; empty after move/finish().
class RetryPermit {
public:
    RetryPermit() noexcept = default;
    RetryPermit(RetryPermit&& other) noexcept;
    RetryPermit& operator=(RetryPermit&& other) noexcept;
    RetryPermit(const RetryPermit&) = delete;
    RetryPermit& operator=(const RetryPermit&) = delete;
    ~RetryPermit() { finish(); }

    void finish() noexcept;
    bool held() const noexcept { return owner_ != nullptr; }

private:
    friend class RetryBudget;
    explicit RetryPermit(RetryBudget* owner) noexcept : owner_(owner) {}
    RetryBudget* owner_ = nullptr;
};

/// Caps retry amplification: when a dependency fails every call, at most
/// max(min_retry_concurrency, budget_percent% of active requests) retries run at once, instead
/// of every request multiplying by max_retries.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (lock-free atomics).
class RetryBudget {
public:
    explicit RetryBudget(RetryBudgetConfig config) noexcept : config_(config) {}
    RetryBudget(const RetryBudget&) = delete;
    RetryBudget& operator=(const RetryBudget&) = delete;

    /// Call when a logical request starts; hold the guard until it ends.
    RequestGuard start_request() noexcept;

    /// Asks to run one retry now. kOverloaded when the budget is exhausted (do not retry; fail
    /// with the original error).
    core::Result<RetryPermit> try_retry() noexcept;

    /// Current cap on concurrent retries.
    std::uint32_t retry_limit() const noexcept;
    std::uint32_t active_requests() const noexcept {
        return active_requests_.load(std::memory_order_relaxed);
    }
    std::uint32_t active_retries() const noexcept {
        return active_retries_.load(std::memory_order_relaxed);
    }
    std::uint64_t rejected_total() const noexcept {
        return rejected_total_.load(std::memory_order_relaxed);
    }

private:
    friend class RequestGuard;
    friend class RetryPermit;

    const RetryBudgetConfig config_;
    std::atomic<std::uint32_t> active_requests_{0};
    std::atomic<std::uint32_t> active_retries_{0};
    std::atomic<std::uint64_t> rejected_total_{0};
};

/// Per-call retry knobs (userver RequestControl style).
struct RetryPolicy {
    std::uint32_t max_retries = 2;
    core::Duration base_delay = std::chrono::milliseconds(25);
    core::Duration max_delay = std::chrono::milliseconds(250);
};

/// A source of uniform doubles in [0, 1); injectable so tests are deterministic.
using UniformSource = std::function<double()>;

/// Fast non-cryptographic [0, 1) from a per-thread generator seeded from the kernel.
double default_uniform() noexcept;

/// "Full jitter" (AWS architecture blog): u * min(max_delay, base_delay * 2^retry).
/// @param retry 0 for the first retry.
/// @param u a draw in [0, 1).
core::Duration full_jitter_backoff(const RetryPolicy& policy, std::uint32_t retry, double u) noexcept;

/// True for failures where another attempt can help: timeouts, connect failures, dropped
/// connections and upstream 5xx. Never local shedding, deadline, cancellation or caller errors.
bool is_retryable(core::Errc failure) noexcept;

/// The whole per-attempt decision except the budget: retry only idempotent reads, only
/// retryable failures, at most max_retries times, and only if the backoff fits in the time the
/// request has left (never retry into an expired deadline).
/// @param retries_done retries already made for this request.
/// @return the delay to wait before retrying, or nullopt: do not retry.
std::optional<core::Duration> plan_retry(const RetryPolicy& policy,
                                         std::uint32_t retries_done,
                                         bool idempotent,
                                         core::Errc failure,
                                         core::Duration time_left,
                                         double u) noexcept;

}  // namespace moneta::resilience
