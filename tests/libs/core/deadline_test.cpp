#include "moneta/core/deadline.hpp"

#include <gtest/gtest.h>

namespace moneta::core {
namespace {

using namespace std::chrono_literals;

TEST(DeadlineTest, NeverIsNotReachableAndNeverExpires) {
    FakeClock clock;
    const Deadline d = Deadline::never();
    EXPECT_FALSE(d.is_reachable());
    clock.advance(std::chrono::hours(24 * 365));
    EXPECT_FALSE(d.expired(clock));
    EXPECT_EQ(d.time_left(clock), Duration::max());
    EXPECT_EQ(d.clamp(clock, 250ms), 250ms);
}

TEST(DeadlineTest, ExpiresExactlyAtItsTimePoint) {
    FakeClock clock;
    const Deadline d = Deadline::after(clock, 100ms);
    EXPECT_FALSE(d.expired(clock));
    EXPECT_EQ(d.time_left(clock), 100ms);
    clock.advance(99ms);
    EXPECT_FALSE(d.expired(clock));
    EXPECT_EQ(d.time_left(clock), 1ms);
    clock.advance(1ms);
    EXPECT_TRUE(d.expired(clock));
    EXPECT_EQ(d.time_left(clock), Duration::zero());
}

TEST(DeadlineTest, ClampTakesTheSmallerOfTimeoutAndTimeLeft) {
    FakeClock clock;
    const Deadline d = Deadline::after(clock, 80ms);
    EXPECT_EQ(d.clamp(clock, 200ms), 80ms);
    EXPECT_EQ(d.clamp(clock, 30ms), 30ms);
    clock.advance(100ms);
    EXPECT_EQ(d.clamp(clock, 30ms), Duration::zero());
}

TEST(DeadlineTest, MinPicksTheEarlier) {
    FakeClock clock;
    const Deadline a = Deadline::after(clock, 10ms);
    const Deadline b = Deadline::after(clock, 20ms);
    EXPECT_EQ(a.min(b), a);
    EXPECT_EQ(b.min(a), a);
    EXPECT_EQ(Deadline::never().min(b), b);
}

TEST(FakeClockTest, AdvanceMovesWallAndSteadyTogether) {
    FakeClock clock(1000);
    const auto t0 = clock.steady_now();
    clock.advance(1500ms);
    EXPECT_EQ(clock.wall_ms(), 2500);
    EXPECT_EQ(clock.steady_now() - t0, 1500ms);
    clock.set_wall_ms(7);
    EXPECT_EQ(clock.wall_ms(), 7);
    EXPECT_EQ(clock.steady_now() - t0, 1500ms);
}

}  // namespace
}  // namespace moneta::core
