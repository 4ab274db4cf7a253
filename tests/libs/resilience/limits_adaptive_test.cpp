// Adaptive concurrency limit with Envoy gradient-controller semantics, on a FakeClock:
// resilience.md §6 scenario 3 (shrinks on slow samples, grows back) and Envoy's
// gradient_controller_test cases (MinRTTEpoch, MinRTTBufferTest, MinRTTReturnToPreviousLimit,
// MinRTTRescheduleTest, NoSamplesTest, ConcurrencyLimitBehaviorTestBasic).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/resilience/adaptive_limit.hpp"

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;
using core::Errc;

AdaptiveLimitConfig test_config() {
    return AdaptiveLimitConfig{
        .sample_percentile = 50.0,
        .max_concurrency_limit = 1000,
        .sample_interval = 100ms,
        .min_rtt_interval = 10s,
        .min_rtt_request_count = 5,
        .min_rtt_jitter_percent = 0.0,
        .min_concurrency = 3,
        .min_rtt_buffer_percent = 25.0,
    };
}

// Envoy's calculateNewLimit, written out independently.
std::uint32_t expected_next(std::uint32_t limit, double min_rtt, double sample, double buffer_pct) {
    const double gradient = std::clamp((min_rtt * (1.0 + buffer_pct / 100.0)) / sample, 0.5, 2.0);
    const double l = limit * gradient;
    return std::clamp<std::uint32_t>(static_cast<std::uint32_t>(l + std::sqrt(l)), 3, 1000);
}

// Runs @p n requests of @p latency one batch at a time (up to the current limit concurrently).
void run_requests(AdaptiveLimit& al, core::FakeClock& clock, int n, core::Duration latency) {
    while (n > 0) {
        std::vector<LimitPermit> batch;
        while (n > 0) {
            auto p = al.try_acquire();
            if (!p) {
                break;
            }
            batch.push_back(std::move(*p));
            --n;
        }
        ASSERT_FALSE(batch.empty()) << "limit admitted nothing";
        clock.advance(latency);
        for (auto& p : batch) {
            p.complete();
        }
    }
}

// Measures the initial minRTT: request_count requests of @p latency.
void measure_min_rtt(AdaptiveLimit& al, core::FakeClock& clock, core::Duration latency) {
    ASSERT_TRUE(al.state().measuring_min_rtt);
    run_requests(al, clock, 5, latency);
    ASSERT_FALSE(al.state().measuring_min_rtt);
}

// One full sample window (the window must start now): `limit` concurrent requests of
// @p latency, then time runs to the window's end and the controller ticks.
void run_window(AdaptiveLimit& al, core::FakeClock& clock, core::Duration latency) {
    std::vector<LimitPermit> batch;
    while (auto p = al.try_acquire()) {
        batch.push_back(std::move(*p));
    }
    clock.advance(latency);
    for (auto& p : batch) {
        p.complete();
    }
    clock.advance(100ms - latency);
    al.tick();
}

TEST(AdaptiveLimitTest, StartsByMeasuringMinRttAtMinConcurrencyAndShedsAbove) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    auto s = al.state();
    EXPECT_TRUE(s.measuring_min_rtt);
    EXPECT_EQ(s.limit, 3U);
    EXPECT_FALSE(s.min_rtt);
    std::vector<LimitPermit> held;
    for (int i = 0; i < 3; ++i) {
        auto p = al.try_acquire();
        ASSERT_TRUE(p);
        held.push_back(std::move(*p));
    }
    auto shed = al.try_acquire();
    ASSERT_FALSE(shed);
    EXPECT_EQ(shed.error(), core::make_error(Errc::kOverloaded));
    EXPECT_EQ(al.state().shed_total, 1U);
    EXPECT_EQ(al.state().outstanding, 3U);
    clock.advance(10ms);
    for (auto& p : held) {
        p.complete();
    }
    EXPECT_TRUE(al.state().measuring_min_rtt);  // 3 of 5 samples
    run_requests(al, clock, 2, 10ms);
    s = al.state();
    EXPECT_FALSE(s.measuring_min_rtt);
    ASSERT_TRUE(s.min_rtt);
    EXPECT_EQ(*s.min_rtt, 10ms);
    EXPECT_EQ(s.limit, 3U);  // the deferred (initial) limit
    EXPECT_EQ(s.outstanding, 0U);
}

TEST(AdaptiveLimitTest, GrowsWhileLatencyStaysWithinMinRttPlusBuffer) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    measure_min_rtt(al, clock, 10ms);
    std::uint32_t expected = 3;
    for (int w = 0; w < 6; ++w) {
        run_window(al, clock, 10ms);
        expected = expected_next(expected, 10.0, 10.0, 25.0);
        ASSERT_EQ(al.state().limit, expected) << "window " << w;
        ASSERT_EQ(*al.state().sample_rtt, 10ms);
    }
    EXPECT_GT(expected, 30U);
}

TEST(AdaptiveLimitTest, SlowDependencyShrinksTheLimitAndItGrowsBack) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    measure_min_rtt(al, clock, 10ms);
    for (int w = 0; w < 50 && al.state().limit <= 100; ++w) {
        run_window(al, clock, 10ms);
    }
    const std::uint32_t healthy = al.state().limit;
    ASSERT_GT(healthy, 100U);

    // Latency quadruples: gradient 12.5/40 clamps to 0.5 and the limit falls window by window.
    std::uint32_t expected = healthy;
    for (int w = 0; w < 4; ++w) {
        run_window(al, clock, 40ms);
        expected = expected_next(expected, 10.0, 40.0, 25.0);
        ASSERT_EQ(al.state().limit, expected);
    }
    const std::uint32_t shrunk = al.state().limit;
    EXPECT_LT(shrunk, healthy / 4);
    // Fewer requests get in now: the rest are shed quickly.
    const auto shed_before = al.state().shed_total;
    std::vector<LimitPermit> flood;
    for (std::uint32_t i = 0; i < healthy; ++i) {
        if (auto p = al.try_acquire()) {
            flood.push_back(std::move(*p));
        }
    }
    EXPECT_EQ(flood.size(), shrunk);
    EXPECT_EQ(al.state().shed_total - shed_before, healthy - shrunk);
    flood.clear();  // cancelled: no samples

    // Latency recovers: the limit climbs back past where it was.
    for (int w = 0; w < 8; ++w) {
        run_window(al, clock, 10ms);
    }
    EXPECT_GE(al.state().limit, healthy);
}

TEST(AdaptiveLimitTest, BufferTurnsTwelveMillisecondSamplesIntoGrowthOrShrink) {
    for (const double buffer : {25.0, 0.0}) {
        core::FakeClock clock;
        auto config = test_config();
        config.min_rtt_buffer_percent = buffer;
        AdaptiveLimit al(clock, config);
        measure_min_rtt(al, clock, 10ms);
        // Without a buffer, on-target samples grow the limit only by sqrt headroom; get well
        // above 30 where a 0.83 gradient outweighs the headroom.
        for (int w = 0; w < 50 && al.state().limit <= 100; ++w) {
            run_window(al, clock, 10ms);
        }
        const std::uint32_t before = al.state().limit;
        ASSERT_GT(before, 100U);
        run_window(al, clock, 12ms);
        const std::uint32_t after = al.state().limit;
        EXPECT_EQ(after, expected_next(before, 10.0, 12.0, buffer)) << "buffer " << buffer;
        if (buffer > 0.0) {
            EXPECT_GT(after, before);
        } else {
            EXPECT_LT(after, before);
        }
    }
}

TEST(AdaptiveLimitTest, NoSamplesLeavesTheLimitAlone) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    measure_min_rtt(al, clock, 10ms);
    run_window(al, clock, 10ms);
    const auto before = al.state();
    for (int w = 0; w < 20; ++w) {
        clock.advance(100ms);
        al.tick();
        ASSERT_EQ(al.state().limit, before.limit);
    }
    EXPECT_EQ(*al.state().sample_rtt, *before.sample_rtt);
    EXPECT_FALSE(al.state().measuring_min_rtt);
}

TEST(AdaptiveLimitTest, MinRttRemeasureReturnsToThePreviousLimit) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    measure_min_rtt(al, clock, 10ms);
    const auto start = clock.steady_now();
    for (int w = 0; w < 5; ++w) {
        run_window(al, clock, 10ms);
    }
    const std::uint32_t previous = al.state().limit;
    ASSERT_GT(previous, 3U);
    clock.advance(start + 10s - clock.steady_now() - 1ns);
    al.tick();
    EXPECT_FALSE(al.state().measuring_min_rtt);
    clock.advance(1ns);
    al.tick();
    EXPECT_TRUE(al.state().measuring_min_rtt);
    EXPECT_EQ(al.state().limit, 3U);
    run_requests(al, clock, 5, 20ms);
    const auto s = al.state();
    EXPECT_FALSE(s.measuring_min_rtt);
    EXPECT_EQ(*s.min_rtt, 20ms);
    EXPECT_EQ(s.limit, previous);
}

TEST(AdaptiveLimitTest, SamplesFromBeforeTheMinRttEpochAreIgnored) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    measure_min_rtt(al, clock, 10ms);
    // A request starts under the old regime and is still running when re-measurement begins.
    auto old = al.try_acquire();
    ASSERT_TRUE(old);
    clock.advance(10s);
    al.tick();
    ASSERT_TRUE(al.state().measuring_min_rtt);
    old->complete();  // 10 s latency: must not count toward the new minRTT
    EXPECT_EQ(al.state().outstanding, 0U);
    run_requests(al, clock, 4, 30ms);
    EXPECT_TRUE(al.state().measuring_min_rtt);  // only 4 valid samples so far
    run_requests(al, clock, 1, 30ms);
    EXPECT_FALSE(al.state().measuring_min_rtt);
    EXPECT_EQ(*al.state().min_rtt, 30ms);
}

TEST(AdaptiveLimitTest, MinRttIntervalIsJittered) {
    core::FakeClock clock;
    auto config = test_config();
    config.min_rtt_jitter_percent = 10.0;
    AdaptiveLimit al(clock, config, [] { return 0.5; });
    measure_min_rtt(al, clock, 10ms);
    const auto finished = clock.steady_now();
    // Next measurement at 10 s + 0.5 * 10 % of 10 s = 10.5 s.
    clock.advance(finished + 10500ms - clock.steady_now() - 1ns);
    al.tick();
    EXPECT_FALSE(al.state().measuring_min_rtt);
    clock.advance(1ns);
    al.tick();
    EXPECT_TRUE(al.state().measuring_min_rtt);
}

TEST(AdaptiveLimitTest, FiveWindowsPinnedAtMinConcurrencyTriggerARemeasure) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    measure_min_rtt(al, clock, 10ms);
    for (int w = 0; w < 4; ++w) {
        run_window(al, clock, 80ms);  // gradient 0.5: 3 -> 1.5 + 1.2 -> clamped to 3
        ASSERT_EQ(al.state().limit, 3U);
        ASSERT_FALSE(al.state().measuring_min_rtt) << "window " << w;
    }
    run_window(al, clock, 80ms);
    EXPECT_TRUE(al.state().measuring_min_rtt);
    run_requests(al, clock, 5, 80ms);
    EXPECT_EQ(*al.state().min_rtt, 80ms);  // the "incident" latency is the new normal
}

TEST(AdaptiveLimitTest, CancelledRequestsFreeTheSlotWithoutASample) {
    core::FakeClock clock;
    AdaptiveLimit al(clock, test_config());
    for (int i = 0; i < 10; ++i) {
        auto p = al.try_acquire();
        ASSERT_TRUE(p);
        clock.advance(1ms);
        p->cancel();
        p->cancel();  // idempotent
        p->complete();  // no-op after cancel
    }
    const auto s = al.state();
    EXPECT_TRUE(s.measuring_min_rtt);
    EXPECT_EQ(s.outstanding, 0U);
    // Moving a permit transfers the slot; destroying the moved-to permit frees it once.
    {
        auto p = al.try_acquire();
        ASSERT_TRUE(p);
        LimitPermit moved = std::move(*p);
        EXPECT_FALSE(p->held());
        EXPECT_EQ(al.state().outstanding, 1U);
    }
    EXPECT_EQ(al.state().outstanding, 0U);
}

// A worker that serves its admitted requests one CPU slice each: a batch of n in flight all
// finish after n x @p cost. @p clients is a closed population (every client sends its next request
// as soon as its last one is answered, 503 included), as the bench's 64 connections do. Runs for
// @p duration and returns how many requests were shed.
std::uint64_t run_closed_loop(AdaptiveLimit& al, core::FakeClock& clock, std::uint32_t clients,
                              core::Duration cost, core::Duration duration) {
    const auto end = clock.steady_now() + duration;
    const auto shed_before = al.state().shed_total;
    while (clock.steady_now() < end) {
        std::vector<LimitPermit> batch;
        for (std::uint32_t c = 0; c < clients; ++c) {
            if (auto p = al.try_acquire()) {
                batch.push_back(std::move(*p));
            }
        }
        if (batch.empty()) {
            clock.advance(cost);  // only 503s this turn
            continue;
        }
        clock.advance(cost * static_cast<core::Duration::rep>(batch.size()));
        for (auto& p : batch) {
            p.complete();
        }
    }
    return al.state().shed_total - shed_before;
}

// The gradient controller as Envoy has it, under 64 closed-loop clients of a CPU-bound worker:
// minRTT is measured at min_concurrency (3 in flight: 150 us), 64 in flight take 3.2 ms, more than
// twice that, so the limit settles below the population and sheds for as long as the load lasts.
TEST(AdaptiveLimitTest, WithoutAFloorAClosedLoopAboveMinConcurrencyIsShedForEver) {
    core::FakeClock clock;
    auto config = test_config();
    config.min_rtt_interval = 1h;
    AdaptiveLimit al(clock, config);
    run_closed_loop(al, clock, 64, 50us, 2s);
    const auto shed = run_closed_loop(al, clock, 64, 50us, 1s);
    EXPECT_GT(shed, 1000U);
    EXPECT_LT(al.state().limit, 64U);
}

// With a 10 ms floor the same load (3.2 ms) is admitted in full once minRTT is measured; a load
// whose latency would pass the floor (64 x 500 us = 32 ms) is still cut down to about the floor.
TEST(AdaptiveLimitTest, LatencyFloorAdmitsAClosedLoopUnderItAndShedsAboveIt) {
    core::FakeClock clock;
    auto config = test_config();
    config.min_rtt_interval = 1h;
    config.latency_floor = 10ms;
    ASSERT_TRUE(config.validate());
    AdaptiveLimit al(clock, config);
    run_closed_loop(al, clock, 64, 50us, 2s);
    EXPECT_EQ(run_closed_loop(al, clock, 64, 50us, 1s), 0U);
    EXPECT_GE(al.state().limit, 64U);
    ASSERT_TRUE(al.state().sample_rtt);
    EXPECT_EQ(*al.state().sample_rtt, 3200us);

    // Each request now costs ten times as much: 64 in flight would wait 32 ms.
    run_closed_loop(al, clock, 64, 500us, 3s);
    const auto shed = run_closed_loop(al, clock, 64, 500us, 1s);
    EXPECT_GT(shed, 0U);
    const auto s = al.state();
    EXPECT_LT(s.limit, 64U);
    ASSERT_TRUE(s.sample_rtt);
    // The limit oscillates around floor / cost (20) plus its sqrt headroom: never near 32 ms.
    EXPECT_LE(*s.sample_rtt, 20ms);
    EXPECT_GE(s.limit, 10U);
}

// A due minRTT measurement pins the limit at min_concurrency and sheds everything above it. With
// the floor deciding (the last window x (1 + buffer) within it) the measurement could not change
// the tolerated latency, so it is skipped: no 503 at all after the first one. Once the windows
// near the floor it is taken again, as in Envoy.
TEST(AdaptiveLimitTest, LatencyFloorSkipsMinRttMeasurementsThatCouldNotMatter) {
    core::FakeClock clock;
    auto config = test_config();  // minRTT every 10 s
    config.latency_floor = 10ms;
    AdaptiveLimit al(clock, config);
    // 64 in flight take 3.2 ms, x 1.25 (the buffer) = 4 ms <= 10 ms: the first window sets minRTT
    // to its median and no measurement runs, then or in the three intervals that pass.
    EXPECT_EQ(run_closed_loop(al, clock, 64, 50us, 36s), 0U);
    EXPECT_EQ(*al.state().min_rtt, 3200us);
    EXPECT_FALSE(al.state().measuring_min_rtt);
    EXPECT_EQ(al.state().limit, 1000U);

    // Requests now cost 150 us: 64 in flight take 9.6 ms, x 1.25 = 12 ms > 10 ms. The next due
    // measurement runs (3 in flight: 450 us) and sheds above min_concurrency while it lasts.
    const auto shed = run_closed_loop(al, clock, 64, 150us, 11s);
    EXPECT_EQ(*al.state().min_rtt, 450us);
    EXPECT_GT(shed, 0U);
    EXPECT_GE(al.state().limit, 64U);  // 9.6 ms is within the floor: no shedding besides
}

// With a floor a new limit admits up to its maximum at once; a first window past the floor sends
// it through Envoy's start (measure at min_concurrency, continue from there).
TEST(AdaptiveLimitTest, WithAFloorTheFirstWindowDecidesWhetherToMeasure) {
    auto config = test_config();
    config.latency_floor = 10ms;
    {
        core::FakeClock clock;
        AdaptiveLimit al(clock, config);
        EXPECT_FALSE(al.state().measuring_min_rtt);
        EXPECT_EQ(al.state().limit, 1000U);
        EXPECT_FALSE(al.state().min_rtt);
        EXPECT_EQ(run_closed_loop(al, clock, 64, 50us, 150ms), 0U);  // no 503 from the first request on
        EXPECT_EQ(*al.state().min_rtt, 3200us);
    }
    {
        core::FakeClock clock;
        AdaptiveLimit al(clock, config);
        // 64 x 200 us = 12.8 ms, x 1.25 = 16 ms > 10 ms: the first window ends in a measurement.
        run_closed_loop(al, clock, 64, 200us, 101ms);
        const auto s = al.state();
        EXPECT_TRUE(s.measuring_min_rtt);
        EXPECT_EQ(s.limit, 3U);
        run_requests(al, clock, 5, 600us);
        EXPECT_FALSE(al.state().measuring_min_rtt);
        EXPECT_EQ(*al.state().min_rtt, 600us);
        EXPECT_EQ(al.state().limit, 3U);  // Envoy's start: from min_concurrency
    }
}

// calculate_new_limit with the floor, against the formula written out.
TEST(AdaptiveLimitTest, LatencyFloorReplacesASmallerBufferedMinRtt) {
    core::FakeClock clock;
    auto config = test_config();
    config.latency_floor = 30ms;
    config.max_concurrency_limit = 200;
    AdaptiveLimit al(clock, config);
    run_window(al, clock, 10ms);  // the first window: 12.5 ms buffered, within the floor
    ASSERT_EQ(*al.state().min_rtt, 10ms);
    ASSERT_FALSE(al.state().measuring_min_rtt);
    run_window(al, clock, 20ms);  // twice minRTT, under the floor: growth (to the maximum)
    const std::uint32_t before = al.state().limit;
    ASSERT_EQ(before, 200U);
    run_window(al, clock, 40ms);
    EXPECT_EQ(al.state().limit, std::min(200U, expected_next(before, 30.0, 40.0, 0.0)));
    EXPECT_LT(al.state().limit, before);
}

TEST(AdaptiveLimitTest, ConfigValidation) {
    EXPECT_TRUE(test_config().validate());
    auto bad = test_config();
    bad.min_concurrency = 2000;
    EXPECT_FALSE(bad.validate());
    bad = test_config();
    bad.sample_interval = 0ms;
    EXPECT_FALSE(bad.validate());
    bad = test_config();
    bad.sample_percentile = 0.0;
    EXPECT_FALSE(bad.validate());
    bad = test_config();
    bad.latency_floor = -1ms;
    EXPECT_FALSE(bad.validate());
}

// One worker owns its limit (no lock on the request path); the admin thread's metrics read
// state() meanwhile: every snapshot it sees is within the bounds, and the last one counts exactly.
TEST(AdaptiveLimitTest, TheOwnerHammersWhileAnotherThreadReadsState) {
    core::FakeClock clock;
    auto config = test_config();
    config.max_concurrency_limit = 8;
    config.min_concurrency = 2;
    AdaptiveLimit al(clock, config);
    std::atomic<bool> done{false};
    std::uint64_t reads = 0;
    bool bounded = true;
    std::thread reader([&] {
        while (!done.load()) {
            const auto s = al.state();
            bounded = bounded && s.outstanding <= 8 && s.limit >= 2 && s.limit <= 8;
            ++reads;
        }
    });
    std::uint64_t admitted = 0;
    std::uint64_t shed = 0;
    std::vector<LimitPermit> held;
    for (int i = 0; i < 80000; ++i) {
        if (i % 50 == 0) {
            clock.advance(100ms);  // lets sample windows close under load
        }
        auto p = al.try_acquire();
        if (!p) {
            ++shed;
        } else {
            ++admitted;
            held.push_back(std::move(*p));
        }
        if (held.size() >= 6 || i % 7 == 0) {  // complete some, cancel others, in bursts
            for (std::size_t k = 0; k < held.size(); ++k) {
                if (k % 2 == 0) {
                    held[k].complete();
                }
            }
            held.clear();
        }
    }
    held.clear();
    done.store(true);
    reader.join();
    EXPECT_TRUE(bounded);
    EXPECT_GT(reads, 0U);
    const auto s = al.state();
    EXPECT_EQ(s.outstanding, 0U);
    EXPECT_EQ(s.shed_total, shed);
    EXPECT_EQ(admitted + shed, 80000U);
    EXPECT_GT(shed, 0U);  // the bursts reach the limit
    EXPECT_GE(s.limit, 2U);
    EXPECT_LE(s.limit, 8U);
}

}  // namespace
}  // namespace moneta::resilience
