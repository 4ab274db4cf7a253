// The registration state machine on a fake clock: cadence, 404 → re-register, backoff growth and
// cap, deregister decision.
#include <gtest/gtest.h>

#include "moneta/consul/registrar.hpp"
#include "moneta/core/clock.hpp"

namespace moneta::consul {
namespace {

using namespace std::chrono_literals;

RegistrarConfig config() {
    RegistrarConfig c;
    c.ttl = 15s;
    c.backoff_initial = 1s;
    c.backoff_max = 30s;
    return c;
}

/// Does what next() says at its time: advances the clock there, then feeds @p outcome.
Registrar::Change run_step(Registrar& r, core::FakeClock& clock, Op expected, Outcome outcome) {
    const auto step = r.next();
    EXPECT_EQ(step.op, expected);
    if (step.at > clock.steady_now()) {
        clock.advance(step.at - clock.steady_now());
    }
    r.on_send(step.op);
    return r.on_result(step.op, outcome, clock.steady_now());
}

TEST(Registrar, RegistersAtStartThenPassesAtOnceThenEveryThirdOfTheTtl) {
    core::FakeClock clock;
    Registrar r(config());
    EXPECT_EQ(r.next().op, Op::kNone);
    r.start(clock.steady_now());
    EXPECT_EQ(r.next().op, Op::kRegister);
    EXPECT_EQ(r.next().at, clock.steady_now());
    EXPECT_EQ(r.link(), Link::kStarting);

    auto c = run_step(r, clock, Op::kRegister, Outcome::kOk);
    EXPECT_TRUE(c.link_changed);
    EXPECT_EQ(c.from, Link::kStarting);
    EXPECT_EQ(c.to, Link::kUp);
    // The check starts critical on the agent: the first pass goes out immediately.
    EXPECT_EQ(r.next().op, Op::kPass);
    EXPECT_EQ(r.next().at, clock.steady_now());

    const auto t0 = clock.steady_now();
    for (int i = 0; i < 5; ++i) {
        c = run_step(r, clock, Op::kPass, Outcome::kOk);
        EXPECT_FALSE(c.link_changed) << "a pass while up is not a state change (no log line)";
        EXPECT_EQ(r.next().op, Op::kPass);
        EXPECT_EQ(r.next().at - clock.steady_now(), 5s);
    }
    // First pass at t0, then four more 5 s apart.
    EXPECT_EQ(clock.steady_now() - t0, 20s);
}

TEST(Registrar, ExplicitPassIntervalIsUsedAndNeverLongerThanTheTtl) {
    core::FakeClock clock;
    RegistrarConfig c = config();
    c.pass_interval = 2s;
    Registrar r(c);
    EXPECT_EQ(r.pass_interval(), 2s);
    c.pass_interval = 60s;
    Registrar capped(c);
    EXPECT_EQ(capped.pass_interval(), 15s);
}

TEST(Registrar, UnknownCheckOnPassReRegistersAtOnce) {
    core::FakeClock clock;
    Registrar r(config());
    r.start(clock.steady_now());
    run_step(r, clock, Op::kRegister, Outcome::kOk);
    run_step(r, clock, Op::kPass, Outcome::kOk);
    const auto c = run_step(r, clock, Op::kPass, Outcome::kLost);
    EXPECT_TRUE(c.lost);
    EXPECT_TRUE(c.link_changed);
    EXPECT_EQ(r.next().op, Op::kRegister);
    EXPECT_EQ(r.next().at, clock.steady_now()) << "no backoff: the agent is up, it just forgot us";
    EXPECT_EQ(r.consecutive_failures(), 0U);
    run_step(r, clock, Op::kRegister, Outcome::kOk);
    EXPECT_EQ(r.link(), Link::kUp);
    EXPECT_EQ(r.next().op, Op::kPass);
}

TEST(Registrar, FailuresBackOffExponentiallyUpToTheCapAndLogOnce) {
    core::FakeClock clock;
    Registrar r(config());
    r.start(clock.steady_now());
    const std::chrono::seconds expected[] = {1s, 2s, 4s, 8s, 16s, 30s, 30s, 30s};
    int changes = 0;
    for (const auto want : expected) {
        const auto c = run_step(r, clock, Op::kRegister, Outcome::kFailed);
        changes += c.link_changed ? 1 : 0;
        EXPECT_EQ(c.retry_in, want);
        EXPECT_EQ(r.next().op, Op::kRegister) << "a failed register is retried as a register";
        EXPECT_EQ(r.next().at - clock.steady_now(), want);
        EXPECT_EQ(r.link(), Link::kDown);
    }
    EXPECT_EQ(changes, 1) << "one log line for the whole outage, not one per attempt";
    EXPECT_EQ(r.consecutive_failures(), 8U);

    // Recovery resets the backoff; the next outage starts again at the initial delay.
    const auto up = run_step(r, clock, Op::kRegister, Outcome::kOk);
    EXPECT_TRUE(up.link_changed);
    EXPECT_EQ(up.from, Link::kDown);
    EXPECT_EQ(r.consecutive_failures(), 0U);
    run_step(r, clock, Op::kPass, Outcome::kOk);
    const auto down = run_step(r, clock, Op::kPass, Outcome::kFailed);
    EXPECT_TRUE(down.link_changed);
    EXPECT_EQ(down.retry_in, 1s);
    EXPECT_EQ(r.next().op, Op::kPass) << "a failed pass is retried as a pass (a 404 then re-registers)";
}

TEST(Registrar, CapBelowInitialIsRaisedToInitial) {
    RegistrarConfig c = config();
    c.backoff_initial = 5s;
    c.backoff_max = 1s;
    core::FakeClock clock;
    Registrar r(c);
    r.start(clock.steady_now());
    EXPECT_EQ(run_step(r, clock, Op::kRegister, Outcome::kFailed).retry_in, 5s);
    EXPECT_EQ(run_step(r, clock, Op::kRegister, Outcome::kFailed).retry_in, 5s);
}

TEST(Registrar, DeregistersOnlyWhenARegisterWasSent) {
    core::FakeClock clock;
    Registrar never(config());
    never.start(clock.steady_now());
    EXPECT_FALSE(never.stop()) << "nothing was sent: nothing to take back";
    EXPECT_EQ(never.next().op, Op::kNone);

    Registrar in_flight(config());
    in_flight.start(clock.steady_now());
    in_flight.on_send(Op::kRegister);
    EXPECT_TRUE(in_flight.stop()) << "a register in flight may have landed";

    Registrar failed(config());
    failed.start(clock.steady_now());
    run_step(failed, clock, Op::kRegister, Outcome::kFailed);
    EXPECT_TRUE(failed.stop());
}

TEST(Registrar, ResultsAfterStopAreIgnored) {
    core::FakeClock clock;
    Registrar r(config());
    r.start(clock.steady_now());
    r.on_send(Op::kRegister);
    EXPECT_TRUE(r.stop());
    const auto c = r.on_result(Op::kRegister, Outcome::kOk, clock.steady_now());
    EXPECT_FALSE(c.link_changed);
    EXPECT_EQ(r.link(), Link::kStopped);
    EXPECT_EQ(r.next().op, Op::kNone);
}

}  // namespace
}  // namespace moneta::consul
