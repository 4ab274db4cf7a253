// Retry budget (resilience.md §6 scenario 14: a retry storm is capped) and the retry decision:
// idempotent reads only, retryable errors only, full-jitter backoff that fits the deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <type_traits>
#include <vector>

#include "moneta/resilience/retry_budget.hpp"

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;
using core::Errc;

TEST(RetryBudgetTest, FloorAllowsRetriesWhenQuiet) {
    RetryBudget budget({.budget_percent = 20.0, .min_retry_concurrency = 3});
    auto guard = budget.start_request();
    std::vector<RetryPermit> retries;
    for (int i = 0; i < 5; ++i) {
        if (auto r = budget.try_retry()) {
            retries.push_back(std::move(*r));
        }
    }
    EXPECT_EQ(retries.size(), 3U);
    EXPECT_EQ(budget.retry_limit(), 3U);
    EXPECT_EQ(budget.rejected_total(), 2U);
    auto refused = budget.try_retry();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), core::make_error(Errc::kOverloaded));
}

TEST(RetryBudgetTest, RetryStormIsCappedByPercentOfActiveRequests) {
    // 100 concurrent reads all fail and each wants max_retries = 3. Unbudgeted, the dependency
    // would see 100 + 300 attempts; with a 20 % budget at most 20 retries run at once.
    RetryBudget budget({.budget_percent = 20.0, .min_retry_concurrency = 3});
    std::vector<RequestGuard> requests;
    for (int i = 0; i < 100; ++i) {
        requests.push_back(budget.start_request());
    }
    EXPECT_EQ(budget.active_requests(), 100U);
    EXPECT_EQ(budget.retry_limit(), 20U);
    std::vector<RetryPermit> running;
    int attempts = 100;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 100; ++i) {
            if (auto r = budget.try_retry()) {
                running.push_back(std::move(*r));
                ++attempts;
            }
        }
    }
    EXPECT_EQ(running.size(), 20U);
    EXPECT_EQ(attempts, 120);
    EXPECT_EQ(budget.active_retries(), 20U);
    EXPECT_EQ(budget.rejected_total(), 280U);

    // Finished retries give their budget back; finished requests shrink it.
    running.resize(10);
    EXPECT_EQ(budget.active_retries(), 10U);
    requests.resize(50);  // limit becomes max(3, 10) = 10: still no room
    EXPECT_EQ(budget.retry_limit(), 10U);
    EXPECT_FALSE(budget.try_retry());
    running.resize(9);
    EXPECT_TRUE(budget.try_retry());
}

TEST(RetryBudgetTest, GuardsAndPermitsAreMoveOnlyAndCountOnce) {
    static_assert(!std::is_copy_constructible_v<RequestGuard>);
    static_assert(!std::is_copy_constructible_v<RetryPermit>);
    RetryBudget budget({});
    auto g = budget.start_request();
    RequestGuard g2 = std::move(g);
    EXPECT_FALSE(g.held());
    g.finish();
    EXPECT_EQ(budget.active_requests(), 1U);
    g2.finish();
    g2.finish();
    EXPECT_EQ(budget.active_requests(), 0U);

    auto r = budget.try_retry();
    ASSERT_TRUE(r);
    RetryPermit r2;
    r2 = std::move(*r);
    r->finish();
    EXPECT_EQ(budget.active_retries(), 1U);
    r2 = RetryPermit{};  // assigning over a held permit finishes it
    EXPECT_EQ(budget.active_retries(), 0U);
}

TEST(RetryBudgetTest, ConcurrentRetriesNeverExceedTheCap) {
    RetryBudget budget({.budget_percent = 10.0, .min_retry_concurrency = 2});
    std::vector<RequestGuard> requests;
    for (int i = 0; i < 50; ++i) {
        requests.push_back(budget.start_request());
    }
    const std::uint32_t cap = budget.retry_limit();  // max(2, 5) = 5
    ASSERT_EQ(cap, 5U);
    std::atomic<int> in_retry{0};
    std::atomic<int> max_seen{0};
    std::atomic<std::uint64_t> granted{0};
    std::atomic<std::uint64_t> refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 20000; ++i) {
                auto r = budget.try_retry();
                if (!r) {
                    refused.fetch_add(1);
                    continue;
                }
                granted.fetch_add(1);
                const int now = in_retry.fetch_add(1) + 1;
                int seen = max_seen.load();
                while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
                }
                in_retry.fetch_sub(1);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_LE(max_seen.load(), static_cast<int>(cap));
    EXPECT_EQ(granted.load() + refused.load(), 80000U);
    EXPECT_EQ(budget.rejected_total(), refused.load());
    EXPECT_EQ(budget.active_retries(), 0U);
}

TEST(RetryPolicyTest, FullJitterBackoffDoublesUpToTheCap) {
    const RetryPolicy policy{.max_retries = 5, .base_delay = 10ms, .max_delay = 100ms};
    EXPECT_EQ(full_jitter_backoff(policy, 0, 0.0), 0ms);
    EXPECT_EQ(full_jitter_backoff(policy, 0, 0.5), 5ms);
    EXPECT_EQ(full_jitter_backoff(policy, 1, 0.5), 10ms);
    EXPECT_EQ(full_jitter_backoff(policy, 2, 0.5), 20ms);
    EXPECT_EQ(full_jitter_backoff(policy, 3, 1.0), 80ms);
    EXPECT_EQ(full_jitter_backoff(policy, 4, 1.0), 100ms);   // 160 capped
    EXPECT_EQ(full_jitter_backoff(policy, 60, 0.5), 50ms);   // no overflow
    for (int i = 0; i < 1000; ++i) {
        const auto d = full_jitter_backoff(policy, 3, default_uniform());
        ASSERT_GE(d, 0ms);
        ASSERT_LE(d, 80ms);
    }
}

TEST(RetryPolicyTest, RetriesOnlyIdempotentReadsOnRetryableErrorsWithinDeadline) {
    const RetryPolicy policy{.max_retries = 2, .base_delay = 10ms, .max_delay = 100ms};
    const auto plan = [&](std::uint32_t done, bool idem, Errc e, core::Duration left) {
        return plan_retry(policy, done, idem, e, left, 0.5);
    };
    ASSERT_TRUE(plan(0, true, Errc::kTimeout, 1s));
    EXPECT_EQ(*plan(0, true, Errc::kTimeout, 1s), 5ms);
    EXPECT_EQ(*plan(1, true, Errc::kUpstreamError, 1s), 10ms);
    EXPECT_TRUE(plan(0, true, Errc::kConnectFailed, 1s));
    EXPECT_TRUE(plan(0, true, Errc::kConnectionClosed, 1s));
    EXPECT_FALSE(plan(0, false, Errc::kTimeout, 1s));            // writes are never retried
    EXPECT_FALSE(plan(2, true, Errc::kTimeout, 1s));             // max_retries reached
    EXPECT_FALSE(plan(0, true, Errc::kOverloaded, 1s));          // local shedding
    EXPECT_FALSE(plan(0, true, Errc::kDeadlineExceeded, 1s));    // 504, no retry
    EXPECT_FALSE(plan(0, true, Errc::kCancelled, 1s));
    EXPECT_FALSE(plan(0, true, Errc::kUnavailable, 1s));         // breaker open
    EXPECT_FALSE(plan(0, true, Errc::kNotFound, 1s));
    EXPECT_FALSE(plan(0, true, Errc::kTimeout, 5ms));            // backoff would not fit
    EXPECT_TRUE(plan(0, true, Errc::kTimeout, 6ms));
}

TEST(RetryPolicyTest, ConfigValidation) {
    EXPECT_TRUE(RetryBudgetConfig{}.validate());
    EXPECT_FALSE((RetryBudgetConfig{.budget_percent = 101.0}.validate()));
    EXPECT_FALSE((RetryBudgetConfig{.budget_percent = -1.0}.validate()));
}

}  // namespace
}  // namespace moneta::resilience
