// Runtime modes, runtime reconfiguration (§6 scenario 13) and the multi-threaded hammer
// (§6 scenario 12): every counter must be exact once the threads have joined.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/resilience/circuit_breaker.hpp"

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;

CircuitBreakerConfig small_config() {
    CircuitBreakerConfig c;
    c.window_calls = 10;
    c.minimum_calls = 10;
    c.failure_rate_threshold = 0.5;
    c.open_base = 5s;
    c.open_max = 60s;
    c.open_jitter = 0.0;
    return c;
}

class BreakerModesTest : public ::testing::Test {
protected:
    std::unique_ptr<CircuitBreaker> make(const CircuitBreakerConfig& cfg) {
        auto r = CircuitBreaker::create(cfg, clock_, random_);
        EXPECT_TRUE(r.has_value());
        return r.has_value() ? std::move(*r) : nullptr;
    }
    static int fail_all(CircuitBreaker& b, int n) {
        int admitted = 0;
        for (int i = 0; i < n; ++i) {
            auto p = b.try_acquire();
            if (p) {
                ++admitted;
                p.on_failure(1ms);
            }
        }
        return admitted;
    }

    core::FakeClock clock_;
    SplitMixRandom random_{1};
};

TEST_F(BreakerModesTest, ForcedOpenRejectsEverythingAndReportsOpen) {
    auto b = make(small_config());
    b->set_mode(Mode::kForcedOpen);
    for (int i = 0; i < 5; ++i) {
        const auto p = b->try_acquire();
        EXPECT_FALSE(p);
        EXPECT_EQ(p.rejection(), Rejection::kForcedOpen);
    }
    clock_.advance(1h);
    EXPECT_FALSE(b->try_acquire());
    const auto s = b->stats();
    EXPECT_TRUE(s.open);
    EXPECT_EQ(s.mode, Mode::kForcedOpen);
    EXPECT_EQ(s.rejected_forced, 6U);
    EXPECT_EQ(s.short_circuits, 6U);
    EXPECT_EQ(s.mode_changes, 1U);
}

TEST_F(BreakerModesTest, ForcedClosedAdmitsThroughFailuresAndCountsThem) {
    auto b = make(small_config());
    b->set_mode(Mode::kForcedClosed);
    EXPECT_EQ(fail_all(*b, 100), 100);
    const auto s = b->stats();
    EXPECT_EQ(s.state, State::kClosed);
    EXPECT_FALSE(s.open);
    EXPECT_EQ(s.failures, 100U);
    EXPECT_EQ(s.window.calls, 0U);  // no trip logic at all
    EXPECT_EQ(s.to_open, 0U);
}

TEST_F(BreakerModesTest, DisabledAdmitsEverythingAndRecordsNothing) {
    auto b = make(small_config());
    b->set_mode(Mode::kDisabled);
    EXPECT_EQ(fail_all(*b, 50), 50);
    const auto s = b->stats();
    EXPECT_EQ(s.permitted, 0U);
    EXPECT_EQ(s.failures, 0U);
    EXPECT_EQ(s.window.calls, 0U);
    EXPECT_EQ(s.state, State::kClosed);
}

TEST_F(BreakerModesTest, MetricsOnlyRecordsAndCountsTripsButNeverRejects) {
    auto b = make(small_config());
    b->set_mode(Mode::kMetricsOnly);
    EXPECT_EQ(fail_all(*b, 25), 25);
    const auto s = b->stats();
    EXPECT_EQ(s.state, State::kClosed);
    EXPECT_EQ(s.short_circuits, 0U);
    EXPECT_EQ(s.shadow_trips, 2U);  // at 10 and 20 failures; the window restarts after each
    EXPECT_EQ(s.trips_failure_rate, 2U);
    EXPECT_EQ(s.window.calls, 5U);
    EXPECT_EQ(s.to_open, 0U);
}

TEST_F(BreakerModesTest, ReturningToNormalStartsClosedWithAFreshWindow) {
    auto b = make(small_config());
    fail_all(*b, 10);
    ASSERT_EQ(b->state(), State::kOpen);
    b->set_mode(Mode::kForcedOpen);
    b->set_mode(Mode::kNormal);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_TRUE(b->try_acquire());
    EXPECT_EQ(b->stats().window.calls, 0U);
    EXPECT_EQ(fail_all(*b, 9), 9);
    EXPECT_EQ(b->state(), State::kClosed);
}

TEST_F(BreakerModesTest, PermitsFromBeforeAModeChangeAreStale) {
    auto b = make(small_config());
    std::vector<BreakerPermit> old;
    for (int i = 0; i < 10; ++i) {
        old.push_back(b->try_acquire());
    }
    b->set_mode(Mode::kMetricsOnly);
    b->set_mode(Mode::kNormal);
    for (auto& p : old) {
        p.on_failure(1ms);
    }
    const auto s = b->stats();
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(s.stale_outcomes, 10U);
    EXPECT_EQ(s.failures, 10U);  // still in the lifetime counters
    EXPECT_EQ(s.window.calls, 0U);
}

TEST_F(BreakerModesTest, RaisingTheThresholdAtRuntimeStopsATrip) {
    auto b = make(small_config());
    auto cfg = small_config();
    cfg.failure_rate_threshold = 0.9;
    ASSERT_TRUE(b->update_config(cfg));
    EXPECT_EQ(fail_all(*b, 8), 8);
    auto p = b->try_acquire();
    p.on_success(1ms);
    b->try_acquire().on_success(1ms);
    EXPECT_EQ(b->state(), State::kClosed);  // 8 of 10 < 90%
    EXPECT_DOUBLE_EQ(b->config().failure_rate_threshold, 0.9);
    cfg.failure_rate_threshold = 0.8;
    ASSERT_TRUE(b->update_config(cfg));  // same window shape: the 10 calls are kept
    fail_all(*b, 1);  // replaces the oldest failure: still 8 of 10, now at the threshold
    EXPECT_EQ(b->state(), State::kOpen);
}

TEST_F(BreakerModesTest, ChangingTheWindowShapeStartsAnEmptyWindow) {
    auto b = make(small_config());
    fail_all(*b, 9);
    auto cfg = small_config();
    cfg.window = WindowKind::kTime;
    cfg.bucket_width = 1s;
    cfg.bucket_count = 5;
    ASSERT_TRUE(b->update_config(cfg));
    EXPECT_EQ(b->stats().window.calls, 0U);
    fail_all(*b, 9);
    EXPECT_EQ(b->state(), State::kClosed);
    fail_all(*b, 1);
    EXPECT_EQ(b->state(), State::kOpen);
}

TEST_F(BreakerModesTest, AnInvalidRuntimeConfigLeavesTheOldOneInPlace) {
    auto b = make(small_config());
    auto bad = small_config();
    bad.slow_call_rate_threshold = -1;
    EXPECT_FALSE(b->update_config(bad));
    EXPECT_DOUBLE_EQ(b->config().slow_call_rate_threshold, 0.0);
}

// Scenario 12: threads hammer acquire/report while they move the clock, so the breaker cycles through
// open, half-open and closed; every lifetime counter must still add up exactly.
TEST_F(BreakerModesTest, HammerKeepsEveryCounterExactAcrossTransitions) {
    auto cfg = small_config();
    cfg.window_calls = 50;
    cfg.minimum_calls = 20;
    cfg.consecutive_failures = 30;
    cfg.half_open_probes = 3;
    cfg.half_open_max_wait = 50ms;
    cfg.open_base = 1ms;
    cfg.open_max = 8ms;
    cfg.open_jitter = 0.5;
    cfg.ramp_duration = 5ms;
    cfg.slow_call_rate_threshold = 0.8;
    cfg.slow_call_duration = 50ms;
    auto b = make(cfg);

    constexpr int kThreads = 4;
    constexpr int kIterations = 20'000;
    struct Local {
        std::uint64_t admitted = 0, rejected = 0, success = 0, failure = 0, timeout = 0,
                      ignored = 0;
    };
    std::vector<Local> locals(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Local& l = locals[static_cast<std::size_t>(t)];
            SplitMixRandom dice(static_cast<std::uint64_t>(t) + 100);
            for (int i = 0; i < kIterations; ++i) {
                // Workers move time themselves: progress must not depend on a ticker thread
                // getting scheduled on a loaded 2-core machine.
                clock_.advance(20us);
                auto p = b->try_acquire();
                if (!p) {
                    ++l.rejected;
                    continue;
                }
                ++l.admitted;
                // Phases of mostly-failing and mostly-healthy traffic drive full cycles.
                const bool bad_phase = (i / 2'000) % 2 == 0;
                const double u = dice.next_unit();
                if (u < 0.05) {
                    ++l.ignored;
                    if (u < 0.025) {
                        p.on_ignored();
                    }  // else dropped unreported by the destructor
                } else if (u < (bad_phase ? 0.75 : 0.1)) {
                    ++l.failure;
                    p.on_failure(1ms);
                } else if (u < (bad_phase ? 0.85 : 0.12)) {
                    ++l.timeout;
                    p.on_timeout(60ms);
                } else {
                    ++l.success;
                    p.on_success(u < 0.9 ? 1ms : 70ms);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }

    Local sum;
    for (const auto& l : locals) {
        sum.admitted += l.admitted;
        sum.rejected += l.rejected;
        sum.success += l.success;
        sum.failure += l.failure;
        sum.timeout += l.timeout;
        sum.ignored += l.ignored;
    }
    const auto s = b->stats();
    EXPECT_EQ(sum.admitted + sum.rejected, static_cast<std::uint64_t>(kThreads) * kIterations);
    EXPECT_EQ(s.permitted, sum.admitted);
    EXPECT_EQ(s.short_circuits, sum.rejected);
    EXPECT_EQ(s.successes, sum.success);
    EXPECT_EQ(s.failures, sum.failure);
    EXPECT_EQ(s.timeouts, sum.timeout);
    EXPECT_EQ(s.ignored, sum.ignored);
    EXPECT_EQ(s.successes + s.failures + s.timeouts + s.ignored, s.permitted);
    // The breaker really cycled, and its transition counts are consistent with one another.
    EXPECT_GT(s.to_open, 0U);
    EXPECT_GT(s.to_closed, 0U);
    EXPECT_LE(s.to_half_open, s.to_open);
    EXPECT_LE(s.to_closed, s.to_half_open);
    EXPECT_EQ(s.to_open, s.trips_failure_rate + s.trips_slow_call_rate + s.trips_consecutive +
                             s.trips_probe_failed + s.trips_half_open_timeout);
    std::printf("hammer: permitted=%llu rejected=%llu opens=%llu closes=%llu stale=%llu\n",
                static_cast<unsigned long long>(s.permitted),
                static_cast<unsigned long long>(s.short_circuits),
                static_cast<unsigned long long>(s.to_open),
                static_cast<unsigned long long>(s.to_closed),
                static_cast<unsigned long long>(s.stale_outcomes));
}

// Without transitions the window itself must be exact: nothing dropped under contention.
TEST_F(BreakerModesTest, HammerWindowCountsAreExactWithoutTransitions) {
    auto cfg = small_config();
    cfg.window_calls = 100'000;
    cfg.failure_rate_threshold = 0;  // no trips
    auto b = make(cfg);
    constexpr int kThreads = 4;
    constexpr int kIterations = 20'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kIterations; ++i) {
                auto p = b->try_acquire();
                if (i % 4 == 0) {
                    p.on_failure(2s);  // slow too (default slow_call_duration 1 s)
                } else {
                    p.on_success(1ms);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const auto s = b->stats();
    EXPECT_EQ(s.window.calls, 80'000U);
    EXPECT_EQ(s.window.failures, 20'000U);
    EXPECT_EQ(s.window.slow, 20'000U);
    EXPECT_EQ(s.failures, 20'000U);
    EXPECT_EQ(s.successes, 60'000U);
}

// Scenario 13: thresholds, window shapes and modes change while threads are calling.
TEST_F(BreakerModesTest, ReconfigurationUnderLoadLosesNoCounts) {
    auto a = small_config();
    auto c = small_config();
    c.window = WindowKind::kTime;
    c.bucket_width = 10ms;
    c.bucket_count = 10;
    c.failure_rate_threshold = 0.2;
    auto b = make(a);
    constexpr int kThreads = 3;
    constexpr int kIterations = 20'000;
    std::atomic<std::uint64_t> admitted{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<int> finished{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kIterations; ++i) {
                auto p = b->try_acquire();
                if (!p) {
                    rejected.fetch_add(1);
                    continue;
                }
                admitted.fetch_add(1);
                if (i % 3 == 0) {
                    p.on_failure(1ms);
                } else {
                    p.on_success(1ms);
                }
            }
            finished.fetch_add(1);
        });
    }
    int swaps = 0;
    const Mode modes[] = {Mode::kNormal, Mode::kMetricsOnly, Mode::kNormal, Mode::kForcedClosed};
    while (finished.load() < kThreads) {
        ASSERT_TRUE(b->update_config(swaps % 2 == 0 ? c : a));
        if (swaps % 7 == 0) {
            b->set_mode(modes[(swaps / 7) % 4]);
        }
        clock_.advance(3ms);
        ++swaps;
        std::this_thread::yield();
    }
    for (auto& th : threads) {
        th.join();
    }
    const auto s = b->stats();
    EXPECT_GT(swaps, 0);
    EXPECT_EQ(s.permitted, admitted.load());
    EXPECT_EQ(s.short_circuits, rejected.load());
    EXPECT_EQ(s.successes + s.failures, admitted.load());
    std::printf("reconfig: swaps=%d permitted=%llu rejected=%llu\n",
                swaps,
                static_cast<unsigned long long>(s.permitted),
                static_cast<unsigned long long>(s.short_circuits));
}

// One breaker kept per worker is read as one (the admin port, /metrics): counters summed, the
// worst state, open when any member refuses calls.
TEST_F(BreakerModesTest, MergedStatsOfPerWorkerMembersSumAndTakeTheWorstState) {
    auto a = make(small_config());
    auto b = make(small_config());
    ASSERT_TRUE(a && b);
    auto ok = a->try_acquire();
    ok.on_success(1ms);
    EXPECT_EQ(fail_all(*b, 10), 10);  // trips b only
    ASSERT_EQ(b->state(), State::kOpen);
    ASSERT_EQ(a->state(), State::kClosed);
    const std::vector<const CircuitBreaker*> members{a.get(), b.get()};
    const CircuitBreakerStats m = merged_stats(members);
    EXPECT_EQ(m.state, State::kOpen);
    EXPECT_TRUE(m.open);
    EXPECT_EQ(m.successes, 1U);
    EXPECT_EQ(m.failures, 10U);
    EXPECT_EQ(m.to_open, 1U);
    EXPECT_EQ(m.window.calls, a->stats().window.calls + b->stats().window.calls);
    EXPECT_EQ(m.mode, Mode::kNormal);
    const CircuitBreakerStats none = merged_stats({});
    EXPECT_EQ(none.state, State::kClosed);
    EXPECT_FALSE(none.open);
}

}  // namespace
}  // namespace moneta::resilience
