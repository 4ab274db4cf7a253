// Google SRE client-side throttling (resilience.md §6 scenario 15): the probability formula,
// rejected requests counting as requests, calls in flight not counting yet, the rolling window,
// recovery, and a synthetic backend of fixed capacity whose offered load converges to K x its
// accept rate.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "moneta/core/clock.hpp"
#include "moneta/resilience/client_throttle.hpp"

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;
using core::Errc;

TEST(ClientThrottleTest, HealthyDependencyIsNeverThrottledAndDrawsNoRandomness) {
    core::FakeClock clock;
    int draws = 0;
    ClientThrottle throttle(clock, {}, [&] {
        ++draws;
        return 0.0;
    });
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(throttle.admit());
        throttle.on_accepted();
    }
    EXPECT_EQ(throttle.reject_probability(), 0.0);
    EXPECT_EQ(draws, 0);
    EXPECT_EQ(throttle.counts().requests, 1000U);
    EXPECT_EQ(throttle.counts().accepts, 1000U);
}

TEST(ClientThrottleTest, ProbabilityFollowsTheSreFormula) {
    core::FakeClock clock;
    double next = 0.999;
    ClientThrottle throttle(clock, {.k = 2.0}, [&] { return next; });
    // 100 requests, 40 accepted: p = (100 - 2*40) / 101.
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(throttle.admit());  // draw 0.999 never falls under p
        if (i < 40) {
            throttle.on_accepted();
        } else {
            throttle.on_refused();
        }
    }
    EXPECT_DOUBLE_EQ(throttle.reject_probability(), 20.0 / 101.0);
    // The draw is compared against p computed before this request is counted.
    next = 20.0 / 101.0 - 1e-9;
    auto shed = throttle.admit();
    ASSERT_FALSE(shed);
    EXPECT_EQ(shed.error(), core::make_error(Errc::kOverloaded));
    EXPECT_EQ(throttle.counts().requests, 101U);  // locally rejected requests count at once
    next = 21.0 / 102.0;  // exactly p for 101 requests: not below, so admitted
    EXPECT_TRUE(throttle.admit());
    EXPECT_EQ(throttle.counts().requests, 101U);  // an admitted one counts when it ends
    throttle.on_refused();
    EXPECT_EQ(throttle.counts().requests, 102U);
    EXPECT_DOUBLE_EQ(throttle.reject_probability(), 22.0 / 103.0);
    // At or below K x accepts nothing is rejected: max(0, ...).
    next = 0.999;
    for (int i = 0; i < 40; ++i) {
        ASSERT_TRUE(throttle.admit());
        throttle.on_accepted();
    }
    EXPECT_EQ(throttle.counts().requests, 142U);
    EXPECT_EQ(throttle.counts().accepts, 80U);
    EXPECT_DOUBLE_EQ(throttle.reject_probability(), 0.0);  // 142 - 2*80 < 0
}

// The flake that found it: 10 concurrent starts of one account, a cold throttle, two answered
// 503. Counted at admission, the N-th call of a burst saw p = (N-1)/N from its own siblings.
TEST(ClientThrottleTest, CallsInFlightAreNotRequestsYet) {
    core::FakeClock clock;
    int draws = 0;
    ClientThrottle throttle(clock, {.k = 2.0}, [&] {
        ++draws;
        return 0.0;  // any p > 0 would shed
    });
    for (int i = 0; i < 64; ++i) {
        ASSERT_TRUE(throttle.admit()) << "call " << i << " of a burst to a cold client";
    }
    EXPECT_EQ(draws, 0);
    EXPECT_EQ(throttle.counts().requests, 0U);
    EXPECT_EQ(throttle.reject_probability(), 0.0);
    // They end: all refused. Now the history says the dependency is down.
    for (int i = 0; i < 64; ++i) {
        throttle.on_refused();
    }
    EXPECT_DOUBLE_EQ(throttle.reject_probability(), 64.0 / 65.0);
    EXPECT_FALSE(throttle.admit());
    EXPECT_EQ(throttle.counts().requests, 65U);
    EXPECT_EQ(throttle.counts().accepts, 0U);
}

TEST(ClientThrottleTest, HardDownDependencyApproachesFullRejection) {
    core::FakeClock clock;
    std::mt19937_64 gen(42);
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    ClientThrottle throttle(clock, {.k = 2.0}, [&] { return dist(gen); });
    int sent = 0;
    for (int i = 0; i < 1000; ++i) {
        if (throttle.admit()) {
            ++sent;
            throttle.on_refused();  // never accepted
        }
    }
    EXPECT_DOUBLE_EQ(throttle.reject_probability(), 1000.0 / 1001.0);
    // Only a handful reach the dead dependency: sum over n of 1/(n+1) ~ ln(1000) ~ 7.
    EXPECT_LT(sent, 30);
    EXPECT_GE(sent, 1);
}

TEST(ClientThrottleTest, RecoversAsOldBucketsLeaveTheWindow) {
    core::FakeClock clock;
    ClientThrottle throttle(clock, {.k = 2.0, .window = 120s, .buckets = 12},
                            [] { return 0.999; });
    for (int i = 0; i < 100; ++i) {
        if (throttle.admit()) {
            throttle.on_refused();  // outage: nothing accepted
        }
    }
    const double during_outage = throttle.reject_probability();
    EXPECT_GT(during_outage, 0.9);
    // The dependency recovers but traffic is light: one accepted call per second.
    for (int second = 0; second < 30; ++second) {
        clock.advance(1s);
        ASSERT_TRUE(throttle.admit());
        throttle.on_accepted();
    }
    // Each accept lowers p, but inside the window the outage is still remembered...
    const double recovering = throttle.reject_probability();
    EXPECT_DOUBLE_EQ(recovering, (130.0 - 2.0 * 30.0) / 131.0);
    EXPECT_LT(recovering, during_outage);
    // ...and once the outage's buckets age out, nothing is rejected.
    clock.advance(100s);
    EXPECT_EQ(throttle.reject_probability(), 0.0);
    EXPECT_EQ(throttle.counts().accepts, throttle.counts().requests);
    clock.advance(120s);
    EXPECT_EQ(throttle.counts().requests, 0U);
}

TEST(ClientThrottleTest, OfferedLoadConvergesToKTimesBackendCapacity) {
    // The app tries 100 calls/s; the backend accepts at most 10/s and refuses the rest. SRE's
    // claim: the client keeps sending about K x accepts = 20/s, not 100/s.
    core::FakeClock clock;
    std::mt19937_64 gen(7);
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    ClientThrottle throttle(clock, {.k = 2.0, .window = 120s, .buckets = 24},
                            [&] { return dist(gen); });
    int sent_last_minute = 0;
    for (int second = 0; second < 300; ++second) {
        int accepted = 0;
        for (int i = 0; i < 100; ++i) {
            clock.advance(10ms);
            if (!throttle.admit()) {
                continue;
            }
            if (second >= 240) {
                ++sent_last_minute;
            }
            if (accepted < 10) {
                ++accepted;
                throttle.on_accepted();
            } else {
                throttle.on_refused();
            }
        }
    }
    const double sent_per_second = sent_last_minute / 60.0;
    EXPECT_GT(sent_per_second, 16.0);
    EXPECT_LT(sent_per_second, 24.0);
}

TEST(ClientThrottleTest, ConfigValidation) {
    EXPECT_TRUE(ClientThrottleConfig{}.validate());
    EXPECT_FALSE((ClientThrottleConfig{.k = 0.5}.validate()));
    EXPECT_FALSE((ClientThrottleConfig{.k = 2.0, .window = 0s}.validate()));
    EXPECT_FALSE((ClientThrottleConfig{.k = 2.0, .window = 10s, .buckets = 0}.validate()));
}

}  // namespace
}  // namespace moneta::resilience
