// Sliding windows and striped counters on their own, with explicit timestamps (FakeClock times).
#include "moneta/resilience/sliding_window.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "moneta/core/clock.hpp"

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;

constexpr WindowSample kOk{false, false};
constexpr WindowSample kFail{true, false};
constexpr WindowSample kSlowOk{false, true};

TEST(CountWindowTest, KeepsOnlyTheLastNCalls) {
    CountWindow w(10);
    const core::SteadyTime t{};
    for (int i = 0; i < 5; ++i) {
        w.record(kFail, t);
    }
    EXPECT_EQ(w.totals(t).calls, 5U);
    EXPECT_EQ(w.totals(t).failures, 5U);
    for (int i = 0; i < 7; ++i) {
        w.record(kOk, t);
    }
    auto tot = w.totals(t);
    EXPECT_EQ(tot.calls, 10U);
    EXPECT_EQ(tot.failures, 3U);  // the two oldest failures were pushed out
    for (int i = 0; i < 3; ++i) {
        w.record(kSlowOk, t);
    }
    tot = w.totals(t);
    EXPECT_EQ(tot.calls, 10U);
    EXPECT_EQ(tot.failures, 0U);
    EXPECT_EQ(tot.slow, 3U);
    w.reset();
    tot = w.totals(t);
    EXPECT_EQ(tot.calls, 0U);
    EXPECT_EQ(tot.slow, 0U);
}

TEST(TimeWindowTest, BucketsRollWithTheClock) {
    core::FakeClock clock;  // starts exactly on a 1 s boundary
    TimeWindow w(1s, 3);
    w.record(kFail, clock.steady_now());
    w.record(kFail, clock.steady_now());
    clock.advance(1s);
    w.record(kOk, clock.steady_now());
    clock.advance(1s);
    w.record(kSlowOk, clock.steady_now());
    auto tot = w.totals(clock.steady_now());
    EXPECT_EQ(tot.calls, 4U);
    EXPECT_EQ(tot.failures, 2U);
    EXPECT_EQ(tot.slow, 1U);
    clock.advance(1s - 1ns);  // still in the third bucket: nothing aged out
    EXPECT_EQ(w.totals(clock.steady_now()).calls, 4U);
    clock.advance(1ns);  // fourth interval: the first bucket (two failures) leaves the window
    tot = w.totals(clock.steady_now());
    EXPECT_EQ(tot.calls, 2U);
    EXPECT_EQ(tot.failures, 0U);
    clock.advance(1s);
    EXPECT_EQ(w.totals(clock.steady_now()).calls, 1U);
    clock.advance(1s);
    EXPECT_EQ(w.totals(clock.steady_now()).calls, 0U);
}

TEST(TimeWindowTest, ARecycledBucketStartsFromZero) {
    core::FakeClock clock;
    TimeWindow w(1s, 3);
    for (int i = 0; i < 5; ++i) {
        w.record(kFail, clock.steady_now());
    }
    clock.advance(3s);  // same slot (interval mod 3), next lap
    w.record(kOk, clock.steady_now());
    const auto tot = w.totals(clock.steady_now());
    EXPECT_EQ(tot.calls, 1U);
    EXPECT_EQ(tot.failures, 0U);
}

TEST(TimeWindowTest, AnIdleGapEmptiesTheWindow) {
    core::FakeClock clock;
    TimeWindow w(100ms, 10);
    w.record(kFail, clock.steady_now());
    clock.advance(1h);
    EXPECT_EQ(w.totals(clock.steady_now()).calls, 0U);
    w.record(kOk, clock.steady_now());
    EXPECT_EQ(w.totals(clock.steady_now()).calls, 1U);
}

TEST(TimeWindowTest, AWriterOlderThanARecycledBucketIsLeftOut) {
    core::FakeClock clock;
    const core::SteadyTime old_time = clock.steady_now();
    TimeWindow w(1s, 2);
    clock.advance(2s);  // same slot as old_time, one lap later
    w.record(kOk, clock.steady_now());
    w.record(kFail, old_time);  // a writer that stalled for a whole window
    const auto tot = w.totals(clock.steady_now());
    EXPECT_EQ(tot.calls, 1U);
    EXPECT_EQ(tot.failures, 0U);
}

TEST(TimeWindowTest, ConcurrentWritersAcrossBucketBoundariesLoseNothing) {
    core::FakeClock clock;
    TimeWindow w(1s, 1000);  // wide enough that nothing ages out during the test
    constexpr int kThreads = 4;
    constexpr int kIterations = 25'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kIterations; ++i) {
                if (t == 0 && i % 1000 == 0) {
                    clock.advance(1s);  // writers move to fresh buckets mid-stream
                }
                w.record(i % 2 == 0 ? kFail : kOk, clock.steady_now());
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const auto tot = w.totals(clock.steady_now());
    EXPECT_EQ(tot.calls, 100'000U);
    EXPECT_EQ(tot.failures, 50'000U);
}

TEST(CountWindowTest, ConcurrentWritersLoseNothing) {
    CountWindow w(200'000);
    constexpr int kThreads = 4;
    constexpr int kIterations = 25'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kIterations; ++i) {
                w.record(i % 5 == 0 ? kFail : kOk, core::SteadyTime{});
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const auto tot = w.totals(core::SteadyTime{});
    EXPECT_EQ(tot.calls, 100'000U);
    EXPECT_EQ(tot.failures, 20'000U);
}

TEST(CountWindowTest, ConcurrentWritersOnASmallRingKeepTotalsEqualToTheSlots) {
    // Many racing laps around a 16-slot ring: afterwards the totals must describe exactly the
    // 16 slots (no drift from racing exchanges on the same slot).
    CountWindow w(16);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 20'000; ++i) {
                w.record(i % 3 == 0 ? kFail : kOk, core::SteadyTime{});
            }
            for (int i = 0; i < 16; ++i) {
                w.record(kFail, core::SteadyTime{});
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const auto tot = w.totals(core::SteadyTime{});
    EXPECT_EQ(tot.calls, 16U);
    EXPECT_EQ(tot.slow, 0U);
    EXPECT_LE(tot.failures, 16U);
}

TEST(StripedCountersTest, CountsFromManyThreadsAreExact) {
    StripedCounters<2> c;
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10'000; ++i) {
                c.add(0);
                c.add(1, 2);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(c.sum(0), 120'000U);
    EXPECT_EQ(c.sum(1), 240'000U);
}

}  // namespace
}  // namespace moneta::resilience
