// The fault-injection decision (pure, explicit times and draws), FaultControl on a FakeClock,
// and FaultGate's holds driven by io_context::poll (no timer ever has to fire).
#include "fault.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <vector>

namespace moneta::internal_api::fault {
namespace {

using namespace std::chrono_literals;

Mode parsed(std::string_view json) {
    auto m = parse_mode(json);
    EXPECT_TRUE(m) << json << ": " << (m ? "" : m.error());
    return m ? *m : Mode{};
}

TEST(FaultParseTest, EveryModeRoundTripsThroughItsCanonicalJson) {
    for (std::string_view json : {
             R"({"mode":"ok"})",
             R"({"mode":"blackhole"})",
             R"({"mode":"reset"})",
             R"({"mode":"slow","delay_ms":200})",
             R"({"mode":"error_rate","rate":0.25,"status":500})",
             R"({"mode":"flap","period_ms":300,"fault":{"mode":"blackhole"}})",
             R"({"mode":"flap","period_ms":1,"fault":{"mode":"slow","delay_ms":0}})",
         }) {
        auto m = parse_mode(json);
        ASSERT_TRUE(m) << json << ": " << m.error();
        EXPECT_EQ(to_json(*m), json);
        const auto again = parse_mode(to_json(*m));
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, *m);
    }
}

TEST(FaultParseTest, FieldsAreReadAndErrorStatusDefaultsTo503) {
    const Mode slow = parsed(R"({"delay_ms":250,"mode":"slow"})");
    EXPECT_EQ(slow.fault.kind, Kind::kSlow);
    EXPECT_EQ(slow.fault.delay, 250ms);
    EXPECT_EQ(slow.flap_period, 0ms);
    const Mode err = parsed(R"({"mode":"error_rate","rate":1})");
    EXPECT_EQ(err.fault.kind, Kind::kErrorRate);
    EXPECT_EQ(err.fault.rate, 1.0);
    EXPECT_EQ(err.fault.status, 503);
    const Mode flap = parsed(
        R"({"mode":"flap","period_ms":40,"fault":{"mode":"error_rate","rate":0.5,"status":599}})"
    );
    EXPECT_EQ(flap.flap_period, 40ms);
    EXPECT_EQ(flap.fault.kind, Kind::kErrorRate);
    EXPECT_EQ(flap.fault.status, 599);
}

TEST(FaultParseTest, RejectsAnythingButTheStrictShape) {
    for (std::string_view json : {
             "",
             "not json",
             "[]",
             R"("ok")",
             R"({})",
             R"({"mode":1})",
             R"({"mode":"refuse"})",
             R"({"mode":"OK"})",
             R"({"mode":"ok","extra":1})",
             R"({"mode":"ok","delay_ms":5})",
             R"({"mode":"blackhole","period_ms":5})",
             R"({"mode":"reset","rate":1})",
             R"({"mode":"slow"})",
             R"({"mode":"slow","delay_ms":-1})",
             R"({"mode":"slow","delay_ms":60001})",
             R"({"mode":"slow","delay_ms":1.5})",
             R"({"mode":"slow","delay_ms":"200"})",
             R"({"mode":"slow","delay_ms":18446744073709551615})",
             R"({"mode":"slow","delay_ms":200,"status":503})",
             R"({"mode":"error_rate"})",
             R"({"mode":"error_rate","rate":1.01})",
             R"({"mode":"error_rate","rate":-0.1})",
             R"({"mode":"error_rate","rate":"1"})",
             R"({"mode":"error_rate","rate":1,"status":499})",
             R"({"mode":"error_rate","rate":1,"status":600})",
             R"({"mode":"error_rate","rate":1,"status":503.0})",
             R"({"mode":"error_rate","rate":1,"delay_ms":3})",
             R"({"mode":"flap","fault":{"mode":"reset"}})",
             R"({"mode":"flap","period_ms":0,"fault":{"mode":"reset"}})",
             R"({"mode":"flap","period_ms":3600001,"fault":{"mode":"reset"}})",
             R"({"mode":"flap","period_ms":100})",
             R"({"mode":"flap","period_ms":100,"fault":"reset"})",
             R"({"mode":"flap","period_ms":100,"fault":{"mode":"flap","period_ms":5,"fault":{"mode":"ok"}}})",
             R"({"mode":"flap","period_ms":100,"fault":{"mode":"reset","x":1}})",
             R"({"mode":"flap","period_ms":100,"fault":{"mode":"slow"}})",
             R"({"mode":"flap","period_ms":100,"fault":{"mode":"reset"},"delay_ms":1})",
         }) {
        EXPECT_FALSE(parse_mode(json)) << json;
    }
}

TEST(FaultDecideTest, SteadyModes) {
    EXPECT_EQ(decide(parsed(R"({"mode":"ok"})"), 5s, 0.0), Decision{});
    EXPECT_EQ(decide(parsed(R"({"mode":"reset"})"), 0s, 0.5), (Decision{Action::kReset, {}, 0}));
    EXPECT_EQ(
        decide(parsed(R"({"mode":"slow","delay_ms":200})"), 1h, 0.5),
        (Decision{Action::kDelay, 200ms, 0})
    );
    EXPECT_EQ(
        decide(parsed(R"({"mode":"blackhole"})"), 0s, 0.5), (Decision{Action::kHold, kMaxHold, 0})
    );
}

TEST(FaultDecideTest, ErrorRateFailsExactlyTheDrawsBelowTheRate) {
    const Mode m = parsed(R"({"mode":"error_rate","rate":0.3,"status":502})");
    EXPECT_EQ(decide(m, 0s, 0.0), (Decision{Action::kError, {}, 502}));
    EXPECT_EQ(decide(m, 0s, 0.2999), (Decision{Action::kError, {}, 502}));
    EXPECT_EQ(decide(m, 0s, 0.3), Decision{});
    EXPECT_EQ(decide(m, 0s, 0.9999), Decision{});
    // The ends: 1.0 fails every draw in [0, 1), 0 fails none.
    EXPECT_EQ(
        decide(parsed(R"({"mode":"error_rate","rate":1})"), 0s, 0.999999).action, Action::kError
    );
    EXPECT_EQ(decide(parsed(R"({"mode":"error_rate","rate":0})"), 0s, 0.0).action, Action::kPass);
}

TEST(FaultDecideTest, FlapStartsOkThenAlternatesEveryPeriod) {
    const Mode m = parsed(R"({"mode":"flap","period_ms":100,"fault":{"mode":"reset"}})");
    EXPECT_EQ(decide(m, 0ms, 0.5).action, Action::kPass);
    EXPECT_EQ(decide(m, 99ms, 0.5).action, Action::kPass);
    EXPECT_EQ(decide(m, 100ms, 0.5).action, Action::kReset);
    EXPECT_EQ(decide(m, 199ms, 0.5).action, Action::kReset);
    EXPECT_EQ(decide(m, 200ms, 0.5).action, Action::kPass);
    EXPECT_EQ(decide(m, 350ms, 0.5).action, Action::kReset);
    EXPECT_EQ(decide(m, 10'000ms, 0.5).action, Action::kPass);
    EXPECT_EQ(decide(m, -5ms, 0.5).action, Action::kPass);  // a clock step backwards: ok phase
}

TEST(FaultDecideTest, AFlappingBlackholeHoldsOnlyUntilItsPhaseEnds) {
    const Mode m = parsed(R"({"mode":"flap","period_ms":100,"fault":{"mode":"blackhole"}})");
    EXPECT_EQ(decide(m, 130ms, 0.5), (Decision{Action::kHold, 70ms, 0}));
    EXPECT_EQ(decide(m, 399ms, 0.5), (Decision{Action::kHold, 1ms, 0}));
    // A long period is still capped by kMaxHold.
    const Mode slow_flap =
        parsed(R"({"mode":"flap","period_ms":3600000,"fault":{"mode":"blackhole"}})");
    EXPECT_EQ(decide(slow_flap, 1h, 0.5), (Decision{Action::kHold, kMaxHold, 0}));
}

TEST(FaultControlTest, FlapPhasesCountFromTheLatestSetOnTheInjectedClock) {
    core::FakeClock clock;
    FaultControl control(clock);
    EXPECT_EQ(control.mode(), Mode{});
    EXPECT_EQ(control.decide(0.0).action, Action::kPass);
    const Mode flap = parsed(R"({"mode":"flap","period_ms":100,"fault":{"mode":"reset"}})");
    control.set(flap);
    EXPECT_EQ(control.mode(), flap);
    EXPECT_EQ(control.decide(0.5).action, Action::kPass);
    clock.advance(100ms);
    EXPECT_EQ(control.decide(0.5).action, Action::kReset);
    control.set(flap);  // a new epoch: ok again
    EXPECT_EQ(control.decide(0.5).action, Action::kPass);
    clock.advance(250ms);
    EXPECT_EQ(control.decide(0.5).action, Action::kPass);
    clock.advance(50ms);
    EXPECT_EQ(control.decide(0.5).action, Action::kReset);
}

TEST(FaultControlTest, ListenersHearSetAndStopUntilUnsubscribed) {
    core::FakeClock clock;
    FaultControl control(clock);
    std::vector<FaultControl::Release> heard;
    const auto id = control.subscribe([&](FaultControl::Release r) { heard.push_back(r); });
    control.set(parsed(R"({"mode":"blackhole"})"));
    EXPECT_FALSE(control.stopping());
    control.stop();
    EXPECT_TRUE(control.stopping());
    ASSERT_EQ(heard.size(), 2U);
    EXPECT_EQ(heard[0], FaultControl::Release::kHolds);
    EXPECT_EQ(heard[1], FaultControl::Release::kAll);
    control.unsubscribe(id);
    control.set(Mode{});
    EXPECT_EQ(heard.size(), 2U);
}

class FaultGateTest : public ::testing::Test {
protected:
    /// Starts one admit; its outcome lands in results_[i] once it completes.
    std::size_t admit() {
        const std::size_t i = results_.size();
        results_.emplace_back();
        done_.push_back(false);
        boost::asio::co_spawn(
            io_,
            gate_.async_admit(),
            [this, i](std::exception_ptr e, std::optional<http::Response> r) {
                ASSERT_FALSE(e);
                results_[i] = std::move(r);
                done_[i] = true;
            }
        );
        return i;
    }
    /// Runs every ready handler (never waits for a timer).
    void run_ready() {
        io_.restart();
        io_.poll();
    }

    core::FakeClock clock_;
    FaultControl control_{clock_};
    boost::asio::io_context io_;
    FaultGate gate_{control_, io_, clock_};
    std::vector<std::optional<http::Response>> results_;
    std::vector<bool> done_;
};

TEST_F(FaultGateTest, OkPassesErrorAnswersAndResetDrops) {
    const auto pass = admit();
    run_ready();
    ASSERT_TRUE(done_[pass]);
    EXPECT_FALSE(results_[pass].has_value());

    control_.set(parsed(R"({"mode":"error_rate","rate":1,"status":501})"));
    const auto err = admit();
    run_ready();
    ASSERT_TRUE(done_[err] && results_[err]);
    EXPECT_EQ(results_[err]->status, 501);
    EXPECT_FALSE(results_[err]->drop);
    EXPECT_NE(results_[err]->body.find("\"FAULT_INJECTED\""), std::string::npos);

    control_.set(parsed(R"({"mode":"reset"})"));
    const auto reset = admit();
    run_ready();
    ASSERT_TRUE(done_[reset] && results_[reset]);
    EXPECT_TRUE(results_[reset]->drop);
}

TEST_F(FaultGateTest, HoldsUntilTheModeChangesThenDrops) {
    control_.set(parsed(R"({"mode":"blackhole"})"));
    for (int i = 0; i < 3; ++i) {
        admit();
    }
    run_ready();
    EXPECT_EQ(gate_.held(), 3U);
    for (bool d : done_) {
        EXPECT_FALSE(d);
    }
    control_.set(Mode{});
    run_ready();
    EXPECT_EQ(gate_.held(), 0U);
    for (std::size_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(done_[i] && results_[i]);
        EXPECT_TRUE(results_[i]->drop);
    }
    // The next request passes.
    const auto next = admit();
    run_ready();
    ASSERT_TRUE(done_[next]);
    EXPECT_FALSE(results_[next].has_value());
}

TEST_F(FaultGateTest, HoldsAreBoundedByClosingTheOldest) {
    control_.set(parsed(R"({"mode":"blackhole"})"));
    for (std::size_t i = 0; i < kMaxHeldPerWorker + 2; ++i) {
        admit();
    }
    run_ready();
    EXPECT_EQ(gate_.held(), kMaxHeldPerWorker);
    ASSERT_TRUE(done_[0] && done_[1]);
    EXPECT_TRUE(results_[0]->drop);
    EXPECT_TRUE(results_[1]->drop);
    EXPECT_FALSE(done_[2]);
    EXPECT_FALSE(done_.back());
    control_.stop();
    run_ready();
    EXPECT_EQ(gate_.held(), 0U);
}

TEST_F(FaultGateTest, AModeChangeLetsDelaysFinishButStopCutsThemShort) {
    control_.set(parsed(R"({"mode":"slow","delay_ms":60000})"));
    const auto slow = admit();
    run_ready();
    EXPECT_FALSE(done_[slow]);
    EXPECT_EQ(gate_.held(), 0U);  // a delay is not a hold
    control_.set(Mode{});
    run_ready();
    EXPECT_FALSE(done_[slow]);  // still waiting out its delay
    control_.stop();
    run_ready();
    ASSERT_TRUE(done_[slow] && results_[slow]);
    EXPECT_TRUE(results_[slow]->drop);
    // After stop every request is dropped at once.
    const auto late = admit();
    run_ready();
    ASSERT_TRUE(done_[late] && results_[late]);
    EXPECT_TRUE(results_[late]->drop);
}

}  // namespace
}  // namespace moneta::internal_api::fault
