// NOTE: deliberate simplifications
//  * "Active requests" are logical requests (one RequestGuard spans the first attempt and all
//    its retries); Envoy counts upstream requests. The cap is the same order of magnitude and
//    does not depend on how many retries are already running.
//  * The budget check is a CAS loop on the retry count against a relaxed read of the request
//    count: a request starting concurrently may be missed for one decision, never the cap on
//    retries itself, which is exact.
#include "moneta/resilience/retry_budget.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "moneta/core/assert.hpp"
#include "moneta/core/random.hpp"

namespace moneta::resilience {

using core::Errc;
using core::make_error;

core::Result<void> RetryBudgetConfig::validate() const noexcept {
    if (!(budget_percent >= 0.0 && budget_percent <= 100.0)) {
        return make_error(Errc::kInvalidArgument);
    }
    return {};
}

RequestGuard::RequestGuard(RequestGuard&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)) {}

RequestGuard& RequestGuard::operator=(RequestGuard&& other) noexcept {
    if (this != &other) {
        finish();
        owner_ = std::exchange(other.owner_, nullptr);
    }
    return *this;
}

void RequestGuard::finish() noexcept {
    if (RetryBudget* owner = std::exchange(owner_, nullptr)) {
        [[maybe_unused]] const auto before = owner->active_requests_.fetch_sub(1, std::memory_order_relaxed);
        MONETA_ASSERT(before > 0, "active request count underflow");
    }
}

RetryPermit::RetryPermit(RetryPermit&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)) {}

RetryPermit& RetryPermit::operator=(RetryPermit&& other) noexcept {
    if (this != &other) {
        finish();
        owner_ = std::exchange(other.owner_, nullptr);
    }
    return *this;
}

void RetryPermit::finish() noexcept {
    if (RetryBudget* owner = std::exchange(owner_, nullptr)) {
        [[maybe_unused]] const auto before = owner->active_retries_.fetch_sub(1, std::memory_order_relaxed);
        MONETA_ASSERT(before > 0, "active retry count underflow");
    }
}

RequestGuard RetryBudget::start_request() noexcept {
    active_requests_.fetch_add(1, std::memory_order_relaxed);
    return RequestGuard(this);
}

std::uint32_t RetryBudget::retry_limit() const noexcept {
    const double active = active_requests_.load(std::memory_order_relaxed);
    const auto pct = static_cast<std::uint32_t>(std::floor(active * config_.budget_percent / 100.0));
    return std::max(config_.min_retry_concurrency, pct);
}

core::Result<RetryPermit> RetryBudget::try_retry() noexcept {
    const std::uint32_t limit = retry_limit();
    std::uint32_t current = active_retries_.load(std::memory_order_relaxed);
    do {
        if (current >= limit) {
            rejected_total_.fetch_add(1, std::memory_order_relaxed);
            return make_error(Errc::kOverloaded);
        }
    } while (!active_retries_.compare_exchange_weak(
        current, current + 1, std::memory_order_relaxed, std::memory_order_relaxed));
    return RetryPermit(this);
}

double default_uniform() noexcept {
    thread_local std::mt19937_64 gen(core::secure_random_u64());
    return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

core::Duration full_jitter_backoff(const RetryPolicy& policy, std::uint32_t retry, double u) noexcept {
    // Double the base without overflowing: stop as soon as the cap is reached.
    core::Duration ceiling = policy.base_delay;
    for (std::uint32_t i = 0; i < retry && ceiling < policy.max_delay; ++i) {
        ceiling *= 2;
    }
    ceiling = std::min(ceiling, policy.max_delay);
    const double clamped = std::clamp(u, 0.0, 1.0);
    return core::Duration(static_cast<core::Duration::rep>(static_cast<double>(ceiling.count()) * clamped));
}

bool is_retryable(Errc failure) noexcept {
    switch (failure) {
        case Errc::kTimeout:
        case Errc::kConnectFailed:
        case Errc::kConnectionClosed:
        case Errc::kUpstreamError:
            return true;
        default:
            return false;
    }
}

std::optional<core::Duration> plan_retry(const RetryPolicy& policy,
                                         std::uint32_t retries_done,
                                         bool idempotent,
                                         Errc failure,
                                         core::Duration time_left,
                                         double u) noexcept {
    if (!idempotent || !is_retryable(failure) || retries_done >= policy.max_retries) {
        return std::nullopt;
    }
    const core::Duration delay = full_jitter_backoff(policy, retries_done, u);
    if (delay >= time_left) {
        return std::nullopt;
    }
    return delay;
}

}  // namespace moneta::resilience
