// Circuit breaker state machine on a FakeClock (resilience.md §6 scenarios 1, 4, 5, 6, 7, 10, 11,
// plus timeouts, slow calls, backoff, ramp). No sleeps: time moves only through clock.advance().
#include "moneta/resilience/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "moneta/core/clock.hpp"

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;

/// Returns whatever the test set: 0.5 makes jitter a factor of exactly 1.
class SettableRandom final : public RandomSource {
public:
    explicit SettableRandom(double v) : v_(v) {}
    void set(double v) { v_.store(v); }
    double next_unit() noexcept override { return v_.load(); }

private:
    std::atomic<double> v_;
};

CircuitBreakerConfig base_config() {
    CircuitBreakerConfig c;
    c.window = WindowKind::kCount;
    c.window_calls = 10;
    c.minimum_calls = 10;
    c.failure_rate_threshold = 0.5;
    c.open_base = 5s;
    c.open_multiplier = 2.0;
    c.open_max = 60s;
    c.open_jitter = 0.0;
    c.half_open_probes = 1;
    return c;
}

class BreakerTest : public ::testing::Test {
protected:
    std::unique_ptr<CircuitBreaker> make(const CircuitBreakerConfig& cfg) {
        auto r = CircuitBreaker::create(cfg, clock_, random_);
        EXPECT_TRUE(r.has_value());
        return r.has_value() ? std::move(*r) : nullptr;
    }
    static void fail(CircuitBreaker& b, int n, core::Duration latency = 10ms) {
        for (int i = 0; i < n; ++i) {
            auto p = b.try_acquire();
            ASSERT_TRUE(p) << "call " << i << " was rejected";
            EXPECT_TRUE(p.on_failure(latency));
        }
    }
    static void succeed(CircuitBreaker& b, int n, core::Duration latency = 10ms) {
        for (int i = 0; i < n; ++i) {
            auto p = b.try_acquire();
            ASSERT_TRUE(p) << "call " << i << " was rejected";
            EXPECT_TRUE(p.on_success(latency));
        }
    }
    /// base_config(): ten failures open the circuit.
    static void trip(CircuitBreaker& b) {
        fail(b, 10);
        ASSERT_EQ(b.state(), State::kOpen);
    }

    core::FakeClock clock_;
    SettableRandom random_{0.5};
};

// --- trips -------------------------------------------------------------------------------------

TEST_F(BreakerTest, HardDownTripsAfterConsecutiveFailuresBeforeMinimumVolume) {
    auto cfg = base_config();
    cfg.minimum_calls = 100;
    cfg.window_calls = 100;
    cfg.consecutive_failures = 5;
    auto b = make(cfg);
    fail(*b, 4);
    EXPECT_EQ(b->state(), State::kClosed);
    fail(*b, 1);
    EXPECT_EQ(b->state(), State::kOpen);
    const auto p = b->try_acquire();
    EXPECT_FALSE(p);
    EXPECT_EQ(p.rejection(), Rejection::kOpen);
    const auto s = b->stats();
    EXPECT_EQ(s.trips_consecutive, 1U);
    EXPECT_EQ(s.rejected_open, 1U);
    EXPECT_EQ(s.short_circuits, 1U);
    EXPECT_TRUE(s.open);
}

TEST_F(BreakerTest, SuccessResetsTheConsecutiveFailureCount) {
    auto cfg = base_config();
    cfg.minimum_calls = 100;
    cfg.window_calls = 100;
    cfg.consecutive_failures = 5;
    auto b = make(cfg);
    fail(*b, 4);
    succeed(*b, 1);
    fail(*b, 4);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().consecutive_failures, 4U);
}

TEST_F(BreakerTest, HardDownTripsRightAfterMinimumVolume) {
    auto b = make(base_config());
    fail(*b, 9);
    EXPECT_EQ(b->state(), State::kClosed);
    fail(*b, 1);
    EXPECT_EQ(b->state(), State::kOpen);
    EXPECT_EQ(b->stats().trips_failure_rate, 1U);
}

TEST_F(BreakerTest, TimeoutsCountAsFailuresAndTrip) {
    auto b = make(base_config());
    for (int i = 0; i < 10; ++i) {
        auto p = b->try_acquire();
        ASSERT_TRUE(p);
        p.on_timeout(1s);
    }
    EXPECT_EQ(b->state(), State::kOpen);
    const auto s = b->stats();
    EXPECT_EQ(s.timeouts, 10U);
    EXPECT_EQ(s.failures, 0U);
}

TEST_F(BreakerTest, ErrorRateJustBelowThresholdDoesNotTrip) {
    auto cfg = base_config();
    cfg.window_calls = 100;
    cfg.minimum_calls = 100;
    cfg.failure_rate_threshold = 0.4;
    auto b = make(cfg);
    succeed(*b, 61);
    fail(*b, 39);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().window.failures, 39U);
}

TEST_F(BreakerTest, ErrorRateExactlyAtThresholdTrips) {
    auto cfg = base_config();
    cfg.window_calls = 100;
    cfg.minimum_calls = 100;
    cfg.failure_rate_threshold = 0.4;
    auto b = make(cfg);
    succeed(*b, 60);
    fail(*b, 39);
    EXPECT_EQ(b->state(), State::kClosed);  // 99 calls: below minimum volume
    fail(*b, 1);
    EXPECT_EQ(b->state(), State::kOpen);  // 40 of 100 = 0.4 exactly
}

TEST_F(BreakerTest, BoundaryIsExactForFractionsWithoutABinaryRepresentation) {
    // 0.3 * 10 is 3.0000000000000004 in doubles; the ppm comparison must still trip at 3 of 10.
    auto cfg = base_config();
    cfg.failure_rate_threshold = 0.3;
    auto b = make(cfg);
    succeed(*b, 7);
    fail(*b, 3);
    EXPECT_EQ(b->state(), State::kOpen);
}

TEST_F(BreakerTest, ErrorRateAboveThresholdTrips) {
    auto cfg = base_config();
    cfg.failure_rate_threshold = 0.4;
    auto b = make(cfg);
    succeed(*b, 5);
    fail(*b, 5);
    EXPECT_EQ(b->state(), State::kOpen);
}

TEST_F(BreakerTest, LowVolumeNeverTrips) {
    auto cfg = base_config();
    cfg.window_calls = 100;
    cfg.minimum_calls = 20;
    auto b = make(cfg);
    fail(*b, 19);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().window.calls, 19U);
    EXPECT_EQ(b->stats().window.failures, 19U);
}

TEST_F(BreakerTest, SlowSuccessesTripTheSlowCallRate) {
    auto cfg = base_config();
    cfg.slow_call_rate_threshold = 0.5;
    cfg.slow_call_duration = 100ms;
    auto b = make(cfg);
    succeed(*b, 5, 10ms);
    succeed(*b, 4, 100ms);
    EXPECT_EQ(b->state(), State::kClosed);
    succeed(*b, 1, 250ms);
    EXPECT_EQ(b->state(), State::kOpen);
    const auto s = b->stats();
    EXPECT_EQ(s.trips_slow_call_rate, 1U);
    EXPECT_EQ(s.slow_calls, 5U);
    EXPECT_EQ(s.failures, 0U);
}

TEST_F(BreakerTest, SlowCallsBelowTheSlowRateDoNotTrip) {
    auto cfg = base_config();
    cfg.slow_call_rate_threshold = 0.5;
    cfg.slow_call_duration = 100ms;
    auto b = make(cfg);
    succeed(*b, 6, 10ms);
    succeed(*b, 4, 1s);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().window.slow, 4U);
}

TEST_F(BreakerTest, TimeWindowForgetsFailuresOlderThanTheWindow) {
    auto cfg = base_config();
    cfg.window = WindowKind::kTime;
    cfg.bucket_width = 1s;
    cfg.bucket_count = 10;
    auto b = make(cfg);
    fail(*b, 9);
    clock_.advance(10s);  // the 9 failures age out
    fail(*b, 1);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().window.calls, 1U);
    fail(*b, 9);
    EXPECT_EQ(b->state(), State::kOpen);
}

// --- half-open --------------------------------------------------------------------------------

TEST_F(BreakerTest, OpenRejectsUntilTheWaitEndsThenAdmitsExactlyOneProbe) {
    auto b = make(base_config());
    trip(*b);
    clock_.advance(5s - 1ns);
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kOpen);
    clock_.advance(1ns);
    auto probe = b->try_acquire();
    ASSERT_TRUE(probe);
    EXPECT_TRUE(probe.is_probe());
    EXPECT_EQ(b->state(), State::kHalfOpen);
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kHalfOpenFull);
    probe.on_success(10ms);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().window.calls, 0U);  // a fresh window after closing
    const auto s = b->stats();
    EXPECT_EQ(s.to_open, 1U);
    EXPECT_EQ(s.to_half_open, 1U);
    EXPECT_EQ(s.to_closed, 1U);
    EXPECT_EQ(s.rejected_half_open, 1U);
}

TEST_F(BreakerTest, HalfOpenAdmitsNProbesAndClosesWhenTheirFailureRateIsBelowThreshold) {
    auto cfg = base_config();
    cfg.half_open_probes = 4;
    auto b = make(cfg);
    trip(*b);
    clock_.advance(5s);
    std::vector<BreakerPermit> probes;
    for (int i = 0; i < 4; ++i) {
        probes.push_back(b->try_acquire());
        ASSERT_TRUE(probes.back());
        EXPECT_TRUE(probes.back().is_probe());
    }
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kHalfOpenFull);
    probes[0].on_failure(10ms);  // 1 of 4 = 25% < 50%
    probes[1].on_success(10ms);
    probes[2].on_success(10ms);
    EXPECT_EQ(b->state(), State::kHalfOpen);  // the verdict waits for all four
    probes[3].on_success(10ms);
    EXPECT_EQ(b->state(), State::kClosed);
}

TEST_F(BreakerTest, HalfOpenReopensAsSoonAsProbeFailuresReachTheThreshold) {
    auto cfg = base_config();
    cfg.half_open_probes = 4;
    auto b = make(cfg);
    trip(*b);
    clock_.advance(5s);
    std::vector<BreakerPermit> probes;
    for (int i = 0; i < 4; ++i) {
        probes.push_back(b->try_acquire());
    }
    probes[0].on_failure(10ms);
    EXPECT_EQ(b->state(), State::kHalfOpen);
    probes[1].on_failure(10ms);  // 2 of 4 = 50%: cannot close any more
    EXPECT_EQ(b->state(), State::kOpen);
    EXPECT_EQ(b->stats().trips_probe_failed, 1U);
    probes[2].on_success(10ms);  // stragglers of the half-open epoch
    probes[3].on_success(10ms);
    EXPECT_EQ(b->state(), State::kOpen);
    EXPECT_EQ(b->stats().stale_outcomes, 2U);
}

TEST_F(BreakerTest, ProbeFailureReopensWithABackedOffWait) {
    auto b = make(base_config());
    trip(*b);
    clock_.advance(5s);
    b->try_acquire().on_failure(10ms);
    ASSERT_EQ(b->state(), State::kOpen);
    clock_.advance(10s - 1ns);  // second opening: 5 s × 2
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kOpen);
    clock_.advance(1ns);
    auto probe = b->try_acquire();
    ASSERT_TRUE(probe);
    probe.on_failure(10ms);
    clock_.advance(20s - 1ns);  // third: 5 s × 4
    EXPECT_FALSE(b->try_acquire());
    clock_.advance(1ns);
    EXPECT_TRUE(b->try_acquire().on_success(1ms));
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().consecutive_opens, 0U);  // closing resets the backoff
}

TEST_F(BreakerTest, StragglersFromThePreOpenEpochNeverCloseTheCircuit) {
    auto b = make(base_config());
    auto straggler = b->try_acquire();  // issued while closed
    ASSERT_TRUE(straggler);
    trip(*b);
    clock_.advance(5s);
    auto probe = b->try_acquire();
    ASSERT_TRUE(probe.is_probe());
    EXPECT_NE(straggler.epoch(), probe.epoch());
    straggler.on_success(1ms);
    EXPECT_EQ(b->state(), State::kHalfOpen);  // not taken as the probe's verdict
    EXPECT_EQ(b->stats().stale_outcomes, 1U);
    probe.on_success(1ms);
    EXPECT_EQ(b->state(), State::kClosed);
}

TEST_F(BreakerTest, StragglerFailuresDoNotReopenAFreshlyClosedCircuit) {
    auto cfg = base_config();
    cfg.consecutive_failures = 1;
    auto b = make(cfg);
    auto straggler = b->try_acquire();
    fail(*b, 1);
    ASSERT_EQ(b->state(), State::kOpen);
    clock_.advance(5s);
    b->try_acquire().on_success(1ms);
    ASSERT_EQ(b->state(), State::kClosed);
    straggler.on_failure(1ms);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().consecutive_failures, 0U);
}

TEST_F(BreakerTest, HangingProbeReopensAfterHalfOpenMaxWait) {
    auto cfg = base_config();
    cfg.half_open_max_wait = 30s;
    auto b = make(cfg);
    trip(*b);
    clock_.advance(5s);
    auto hung = b->try_acquire();
    ASSERT_TRUE(hung.is_probe());
    clock_.advance(30s - 1ns);
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kHalfOpenFull);
    clock_.advance(1ns);
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kOpen);
    EXPECT_EQ(b->state(), State::kOpen);
    EXPECT_EQ(b->stats().trips_half_open_timeout, 1U);
    hung.on_success(31s);  // finally answers: too late to count
    EXPECT_EQ(b->state(), State::kOpen);
    clock_.advance(10s);  // backed off: second opening
    EXPECT_TRUE(b->try_acquire().is_probe());
}

TEST_F(BreakerTest, LateProbeVerdictAfterMaxWaitReopens) {
    auto cfg = base_config();
    cfg.half_open_max_wait = 30s;
    auto b = make(cfg);
    trip(*b);
    clock_.advance(5s);
    auto probe = b->try_acquire();
    clock_.advance(31s);
    probe.on_success(31s);  // no acquire in between: the report itself applies the max wait
    EXPECT_EQ(b->state(), State::kOpen);
    EXPECT_EQ(b->stats().trips_half_open_timeout, 1U);
}

// --- cancellation and exactly-once ------------------------------------------------------------

TEST_F(BreakerTest, CancelledProbeFreesItsSlotInsteadOfLeavingTheBreakerStuck) {
    auto b = make(base_config());
    trip(*b);
    clock_.advance(5s);
    {
        auto probe = b->try_acquire();
        ASSERT_TRUE(probe.is_probe());
        EXPECT_EQ(b->try_acquire().rejection(), Rejection::kHalfOpenFull);
    }  // dropped unreported: counts as ignored
    EXPECT_EQ(b->state(), State::kHalfOpen);
    auto next = b->try_acquire();
    ASSERT_TRUE(next.is_probe());
    next.on_ignored();
    auto third = b->try_acquire();
    ASSERT_TRUE(third.is_probe());
    third.on_success(1ms);
    EXPECT_EQ(b->state(), State::kClosed);
    EXPECT_EQ(b->stats().ignored, 2U);
}

TEST_F(BreakerTest, IgnoredCallsCountAsNeitherFailureNorCall) {
    auto cfg = base_config();
    cfg.consecutive_failures = 3;
    auto b = make(cfg);
    fail(*b, 2);
    b->try_acquire().on_ignored();
    { auto dropped = b->try_acquire(); }
    const auto s = b->stats();
    EXPECT_EQ(s.window.calls, 2U);
    EXPECT_EQ(s.consecutive_failures, 2U);  // not reset, not advanced
    EXPECT_EQ(s.ignored, 2U);
    EXPECT_EQ(s.permitted, 4U);
    EXPECT_EQ(b->state(), State::kClosed);
}

TEST_F(BreakerTest, APermitReportsOnlyOnceAndMovedFromPermitsAreInert) {
    auto b = make(base_config());
    auto p = b->try_acquire();
    EXPECT_TRUE(p.on_success(1ms));
    EXPECT_FALSE(p.on_failure(1ms));
    EXPECT_FALSE(p.on_ignored());
    auto q = b->try_acquire();
    BreakerPermit moved = std::move(q);
    EXPECT_FALSE(q.on_failure(1ms));  // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_TRUE(moved.on_failure(1ms));
    BreakerPermit assigned = b->try_acquire();
    assigned = b->try_acquire();  // the overwritten permit is reported as ignored
    const auto s = b->stats();
    EXPECT_EQ(s.successes, 1U);
    EXPECT_EQ(s.failures, 1U);
    EXPECT_EQ(s.ignored, 1U);
    EXPECT_EQ(s.permitted, 4U);
}

TEST_F(BreakerTest, SuccessRacingTimeoutRecordsExactlyOneOutcome) {
    auto cfg = base_config();
    cfg.failure_rate_threshold = 0;  // never trips: every iteration gets a permit
    auto b = make(cfg);
    constexpr int kRounds = 300;
    int wins = 0;
    for (int i = 0; i < kRounds; ++i) {
        auto p = b->try_acquire();
        ASSERT_TRUE(p);
        std::atomic<bool> go{false};
        std::atomic<int> recorded{0};
        std::thread success([&] {
            while (!go.load()) {
            }
            recorded += p.on_success(5ms) ? 1 : 0;
        });
        std::thread timeout([&] {
            while (!go.load()) {
            }
            recorded += p.on_timeout(5ms) ? 1 : 0;
        });
        go.store(true);
        success.join();
        timeout.join();
        wins += recorded.load();
        ASSERT_EQ(recorded.load(), 1) << "round " << i;
    }
    const auto s = b->stats();
    EXPECT_EQ(wins, kRounds);
    EXPECT_EQ(s.successes + s.timeouts, static_cast<std::uint64_t>(kRounds));
    EXPECT_EQ(s.ignored, 0U);
}

// --- backoff ----------------------------------------------------------------------------------

TEST_F(BreakerTest, OpenWaitGrowsExponentiallyAndIsCapped) {
    auto cfg = base_config();
    cfg.open_base = 5s;
    cfg.open_multiplier = 2.0;
    cfg.open_max = 30s;
    auto b = make(cfg);
    trip(*b);
    const std::vector<core::Duration> expected{5s, 10s, 20s, 30s, 30s};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        clock_.advance(expected[i] - 1ns);
        EXPECT_FALSE(b->try_acquire()) << "opening " << i + 1;
        clock_.advance(1ns);
        auto probe = b->try_acquire();
        ASSERT_TRUE(probe.is_probe()) << "opening " << i + 1;
        probe.on_failure(1ms);
        EXPECT_EQ(b->stats().consecutive_opens, i + 2);
    }
}

TEST_F(BreakerTest, JitterStaysWithinItsBoundsAndUnderTheCap) {
    auto cfg = base_config();
    cfg.open_base = 10s;
    cfg.open_max = 11s;
    cfg.open_jitter = 0.2;
    {
        random_.set(0.0);  // lowest factor: 0.8 → 8 s
        auto b = make(cfg);
        trip(*b);
        clock_.advance(8s - 1ms);
        EXPECT_FALSE(b->try_acquire());
        clock_.advance(2ms);
        EXPECT_TRUE(b->try_acquire());
    }
    {
        random_.set(0.999999);  // highest factor: 1.2 → 12 s, capped at 11 s
        auto b = make(cfg);
        trip(*b);
        clock_.advance(11s - 1ms);
        EXPECT_FALSE(b->try_acquire());
        clock_.advance(1ms);
        EXPECT_TRUE(b->try_acquire());
    }
    {
        cfg.open_max = 60s;
        random_.set(0.75);  // factor 1.1 → 11 s
        auto b = make(cfg);
        trip(*b);
        clock_.advance(11s - 1ms);
        EXPECT_FALSE(b->try_acquire());
        clock_.advance(2ms);
        EXPECT_TRUE(b->try_acquire());
    }
}

TEST_F(BreakerTest, JitterFromARealRandomSourceSpreadsWithinBounds) {
    auto cfg = base_config();
    cfg.open_base = 10s;
    cfg.open_jitter = 0.2;
    SplitMixRandom rng(42);
    int early = 0;
    for (int i = 0; i < 200; ++i) {
        auto r = CircuitBreaker::create(cfg, clock_, rng);
        ASSERT_TRUE(r.has_value());
        auto& b = **r;
        trip(b);
        clock_.advance(8s - 1ms);
        ASSERT_FALSE(b.try_acquire()) << "wait below 0.8 × base";
        clock_.advance(2s + 1ms);  // at 10 s: about half the breakers are past their wait
        early += b.try_acquire() ? 1 : 0;
        clock_.advance(2s);  // 12 s: all are
        b.try_acquire();
        EXPECT_NE(b.state(), State::kOpen);
    }
    EXPECT_GT(early, 60);
    EXPECT_LT(early, 140);
}

// --- ramp after closing -----------------------------------------------------------------------

TEST_F(BreakerTest, RampAdmitsAGrowingFractionAfterClosing) {
    auto cfg = base_config();
    cfg.ramp_duration = 10s;
    cfg.ramp_start_fraction = 0.1;
    auto b = make(cfg);
    trip(*b);
    clock_.advance(5s);
    b->try_acquire().on_success(1ms);
    ASSERT_EQ(b->state(), State::kClosed);

    random_.set(0.5);
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kRamp);  // fraction 0.1
    random_.set(0.05);
    EXPECT_TRUE(b->try_acquire());
    clock_.advance(5s);  // fraction 0.1 + 0.9 × 0.5 = 0.55
    random_.set(0.5);
    EXPECT_TRUE(b->try_acquire());
    random_.set(0.6);
    EXPECT_EQ(b->try_acquire().rejection(), Rejection::kRamp);
    clock_.advance(5s);  // ramp over
    random_.set(0.999);
    EXPECT_TRUE(b->try_acquire());
    EXPECT_EQ(b->stats().rejected_ramp, 2U);
}

TEST_F(BreakerTest, RampFractionMatchesItsScheduleStatistically) {
    auto cfg = base_config();
    cfg.ramp_duration = 10s;
    cfg.ramp_start_fraction = 0.1;
    cfg.failure_rate_threshold = 0.9;
    cfg.window_calls = 10'000;
    cfg.minimum_calls = 10'000;
    SplitMixRandom rng(7);
    auto r = CircuitBreaker::create(cfg, clock_, rng);
    ASSERT_TRUE(r.has_value());
    auto& b = **r;
    fail(b, 10'000);
    ASSERT_EQ(b.state(), State::kOpen);
    clock_.advance(5s);
    b.try_acquire().on_success(1ms);
    ASSERT_EQ(b.state(), State::kClosed);
    clock_.advance(2s);  // fraction 0.1 + 0.9 × 0.2 = 0.28
    int admitted = 0;
    for (int i = 0; i < 10'000; ++i) {
        auto p = b.try_acquire();
        if (p) {
            ++admitted;
            p.on_success(1ms);
        }
    }
    EXPECT_GT(admitted, 2'500);
    EXPECT_LT(admitted, 3'100);
}

TEST_F(BreakerTest, InitialCloseHasNoRamp) {
    auto cfg = base_config();
    cfg.ramp_duration = 10s;
    random_.set(0.999);
    auto b = make(cfg);
    EXPECT_TRUE(b->try_acquire());
}

// --- config -----------------------------------------------------------------------------------

TEST_F(BreakerTest, InvalidConfigsAreRejected) {
    auto bad = base_config();
    bad.failure_rate_threshold = 1.5;
    EXPECT_EQ(CircuitBreaker::create(bad, clock_).error(),
              core::make_error(core::Errc::kInvalidArgument));
    bad = base_config();
    bad.half_open_probes = 0;
    EXPECT_FALSE(bad.validate());
    bad = base_config();
    bad.open_max = 1s;  // below open_base
    EXPECT_FALSE(bad.validate());
    bad = base_config();
    bad.window = WindowKind::kTime;
    bad.bucket_width = 0s;
    EXPECT_FALSE(bad.validate());
    EXPECT_TRUE(base_config().validate());
    EXPECT_EQ(to_error(Rejection::kOpen), core::make_error(core::Errc::kUnavailable));
    EXPECT_EQ(rejection_name(Rejection::kHalfOpenFull), "half_open_full");
    EXPECT_EQ(state_name(State::kHalfOpen), "half_open");
}

}  // namespace
}  // namespace moneta::resilience
