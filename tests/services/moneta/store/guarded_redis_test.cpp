// GuardedRedis: breaker in front of a (mocked) redis::Commands. Trips on consecutive transport
// failures and then fails fast without calling Redis; error replies are successes except the
// "server cannot serve now" ones; expired deadlines send nothing.
#include "store/guarded_redis.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "moneta/testing/mock_redis.hpp"

namespace moneta::store {
namespace {

using namespace std::chrono_literals;
using core::Errc;
using moneta::testing::CommandArgsAre;
using moneta::testing::MockRedisCommands;
using moneta::testing::redis_error;
using moneta::testing::redis_replies;
using moneta::testing::redis_reply;
using redis::testing::run;
using ::testing::_;
using ::testing::Return;
using ::testing::StrictMock;

class GuardedRedisTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto b = resilience::CircuitBreaker::create(default_redis_breaker(), clock_);
        ASSERT_TRUE(b);
        breaker_ = std::move(*b);
        guarded_ = std::make_unique<GuardedRedis>(inner_, *breaker_, clock_);
        // Connected unless a test says otherwise (a disconnected client is its own test below).
        EXPECT_CALL(inner_, connected()).Times(::testing::AnyNumber()).WillRepeatedly(Return(true));
    }
    core::Result<redis::Reply> get(core::Deadline dl = core::Deadline::never()) {
        return *run(io_, guarded_->async_command({"GET", "k"}, dl));
    }

    core::FakeClock clock_;
    StrictMock<MockRedisCommands> inner_;
    std::unique_ptr<resilience::CircuitBreaker> breaker_;
    std::unique_ptr<GuardedRedis> guarded_;
    boost::asio::io_context io_;
};

TEST_F(GuardedRedisTest, DefaultBreakerIsValidAndAsDocumented) {
    const auto c = default_redis_breaker();
    EXPECT_TRUE(c.validate());
    EXPECT_EQ(c.window, resilience::WindowKind::kCount);
    EXPECT_EQ(c.window_calls, 50U);
    EXPECT_EQ(c.minimum_calls, 10U);
    EXPECT_EQ(c.consecutive_failures, 5U);
    EXPECT_EQ(c.open_base, 250ms);
    EXPECT_EQ(c.open_max, 5s);
    EXPECT_EQ(c.half_open_probes, 2U);
    EXPECT_EQ(c.half_open_max_wait, 1s);
}

TEST_F(GuardedRedisTest, TripsOnConsecutiveFailuresThenFailsFastWithoutCallingRedis) {
    EXPECT_CALL(
        inner_, do_async_command(CommandArgsAre(std::vector<std::string>{"GET", "k"}), _, _)
    )
        .Times(5)
        .WillRepeatedly([](auto, auto, auto) { return redis_error(Errc::kConnectionClosed); });
    for (int i = 0; i < 5; ++i) {
        auto r = get();
        ASSERT_TRUE(r.has_error());
        EXPECT_EQ(r.error(), core::make_error(Errc::kConnectionClosed));  // passed through
    }
    EXPECT_EQ(breaker_->state(), resilience::State::kOpen);
    // StrictMock: a sixth call to inner_ would fail the test.
    for (int i = 0; i < 3; ++i) {
        auto r = get();
        ASSERT_TRUE(r.has_error());
        EXPECT_EQ(r.error(), core::make_error(Errc::kUnavailable));
    }
    EXPECT_EQ(breaker_->stats().rejected_open, 3U);
    ::testing::Mock::VerifyAndClearExpectations(&inner_);
    EXPECT_CALL(inner_, connected()).Times(::testing::AnyNumber()).WillRepeatedly(Return(true));

    // After the open wait (250 ms ± 10 %) a probe goes through again.
    clock_.advance(300ms);
    EXPECT_CALL(inner_, do_async_command(_, _, _)).WillOnce([](auto, auto, auto) {
        return redis_reply("$1\r\nv\r\n");
    });
    auto r = get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->as_string(), "v");
}

TEST_F(GuardedRedisTest, TransportErrorClassification) {
    struct Case {
        Errc error;
        std::uint64_t failures, timeouts, ignored;
    };
    const Case cases[] = {
        {Errc::kTimeout, 0, 1, 0},
        {Errc::kUnavailable, 1, 0, 0},
        {Errc::kConnectionClosed, 1, 0, 0},
        {Errc::kProtocolError, 1, 0, 0},
        {Errc::kConnectFailed, 1, 0, 0},
        {Errc::kDeadlineExceeded, 0, 0, 1},
        {Errc::kCancelled, 0, 0, 1},
        {Errc::kOverloaded, 0, 0, 1},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(core::errc_name(c.error)));
        SetUp();  // a fresh breaker per case
        EXPECT_CALL(inner_, do_async_command(_, _, _)).WillOnce([&](auto, auto, auto) {
            return redis_error(c.error);
        });
        auto r = get();
        ASSERT_TRUE(r.has_error());
        EXPECT_EQ(r.error(), core::make_error(c.error));
        const auto st = breaker_->stats();
        EXPECT_EQ(st.failures, c.failures);
        EXPECT_EQ(st.timeouts, c.timeouts);
        EXPECT_EQ(st.ignored, c.ignored);
        EXPECT_EQ(st.successes, 0U);
        ::testing::Mock::VerifyAndClearExpectations(&inner_);
    }
}

TEST_F(GuardedRedisTest, ErrorRepliesAreSuccessesExceptServerUnavailableOnes) {
    struct Case {
        std::string resp;
        bool failure;
    };
    const Case cases[] = {
        {":1\r\n", false},
        {"$-1\r\n", false},
        {"-ERR unknown command\r\n", false},
        {"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", false},
        {"-NOSCRIPT No matching script\r\n", false},
        {"-BUSYKEY Target key name already exists.\r\n", false},
        {"-LOADING Redis is loading the dataset in memory\r\n", true},
        {"-BUSY Redis is busy running a script\r\n", true},
        {"-MASTERDOWN Link with MASTER is down\r\n", true},
        {"-TRYAGAIN Multiple keys request during rehashing of slot\r\n", true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.resp);
        SetUp();
        EXPECT_CALL(inner_, do_async_command(_, _, _)).WillOnce([&](auto, auto, auto) {
            return redis_reply(c.resp);
        });
        auto r = get();
        ASSERT_TRUE(r);  // the reply itself is passed through unchanged
        EXPECT_EQ(r->to_string(), redis::Reply::from_resp(c.resp)->to_string());
        const auto st = breaker_->stats();
        EXPECT_EQ(st.failures, c.failure ? 1U : 0U);
        EXPECT_EQ(st.successes, c.failure ? 0U : 1U);
        ::testing::Mock::VerifyAndClearExpectations(&inner_);
    }
}

TEST_F(GuardedRedisTest, APipelineFailsWhenAnyReplySaysTheServerCannotServe) {
    redis::Pipeline p;
    p.add({"GET", "a"}).add({"GET", "b"});
    EXPECT_CALL(inner_, do_async_pipeline(_, _, _))
        .WillOnce([](auto&, auto, auto) {
            return redis_replies({":1\r\n", "-ERR x\r\n"});
        })
        .WillOnce([](auto&, auto, auto) {
            return redis_replies({":1\r\n", "-LOADING x\r\n"});
        });
    auto ok = *run(io_, guarded_->async_pipeline(p, core::Deadline::never()));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->size(), 2U);
    auto loading = *run(io_, guarded_->async_pipeline(p, core::Deadline::never()));
    ASSERT_TRUE(loading);
    const auto st = breaker_->stats();
    EXPECT_EQ(st.successes, 1U);
    EXPECT_EQ(st.failures, 1U);
}

TEST_F(GuardedRedisTest, EvalIsGuardedAndForwardsItsArguments) {
    const redis::Script script("return 1");
    EXPECT_CALL(
        inner_,
        do_async_eval(
            _,
            CommandArgsAre(std::vector<std::string>{"k1", "k2"}),
            CommandArgsAre(std::vector<std::string>{"a"}),
            _,
            _
        )
    )
        .WillOnce([](auto&, auto, auto, auto, auto) { return redis_reply("-BUSY script\r\n"); });
    auto r = *run(io_, guarded_->async_eval(script, {"k1", "k2"}, {"a"}, core::Deadline::never()));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->is_error_with_prefix("BUSY"));
    EXPECT_EQ(breaker_->stats().failures, 1U);
}

TEST_F(GuardedRedisTest, ExpiredDeadlineSendsNothing) {
    const auto dl = core::Deadline::after(clock_, 5ms);
    clock_.advance(5ms);
    auto r = get(dl);
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_EQ(breaker_->stats().permitted, 0U);  // StrictMock: inner_ was not called either
}

// With no connection the client fails fast by itself: the decorator answers kUnavailable without
// calling it and without counting anything, so a reconnect is not held back by an open breaker.
TEST_F(GuardedRedisTest, ADisconnectedClientFailsFastWithoutTouchingTheBreaker) {
    EXPECT_CALL(inner_, connected()).WillRepeatedly(Return(false));
    for (int i = 0; i < 20; ++i) {
        auto r = get();
        ASSERT_TRUE(r.has_error());
        EXPECT_EQ(r.error(), core::make_error(Errc::kUnavailable));
    }
    EXPECT_EQ(breaker_->stats().permitted, 0U);  // StrictMock: the command was never sent either
    EXPECT_EQ(breaker_->state(), resilience::State::kClosed);
}

// moneta_redis_request_duration_seconds{operation}: each call that reached Redis is observed
// under its kind with the time it took; a call the gate refused is not (nothing went out).
TEST_F(GuardedRedisTest, ObservesEachCallsRoundTripUnderItsKind) {
    RedisLatencyStats latency;
    GuardedRedis measured(inner_, *breaker_, clock_, &latency);
    EXPECT_CALL(inner_, do_async_command(_, _, _)).WillOnce([this](auto, auto, auto) {
        clock_.advance(3ms);  // "Redis took 3 ms"
        return redis_reply("+OK\r\n");
    });
    redis::Pipeline p;
    p.add({"GET", "a"});
    EXPECT_CALL(inner_, do_async_pipeline(_, _, _)).WillOnce([this](auto&, auto, auto) {
        clock_.advance(40ms);
        return redis_replies({":1\r\n"});
    });
    const redis::Script script("return 1");
    EXPECT_CALL(inner_, do_async_eval(_, _, _, _, _)).WillOnce([](auto&, auto, auto, auto, auto) {
        return redis_error(Errc::kTimeout);  // a failed call is observed too
    });
    ASSERT_TRUE(*run(io_, measured.async_command({"SET", "k", "v"}, core::Deadline::never())));
    ASSERT_TRUE(*run(io_, measured.async_pipeline(p, core::Deadline::never())));
    EXPECT_FALSE(*run(io_, measured.async_eval(script, {}, {}, core::Deadline::never())));
    const auto count = [](const auto& h) {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i <= h.kBounds; ++i) {
            n += h.bucket(i);
        }
        return n;
    };
    using L = RedisLatencyStats;
    EXPECT_EQ(count(latency.latency[L::kCommand]), 1U);
    EXPECT_DOUBLE_EQ(latency.latency[L::kCommand].sum(), 0.003);
    EXPECT_EQ(latency.latency[L::kCommand].bucket(5), 1U);  // (2.5 ms, 5 ms]
    EXPECT_EQ(count(latency.latency[L::kPipeline]), 1U);
    EXPECT_DOUBLE_EQ(latency.latency[L::kPipeline].sum(), 0.04);
    EXPECT_EQ(count(latency.latency[L::kScript]), 1U);
    // An expired deadline never reaches Redis: nothing observed.
    const auto dl = core::Deadline::after(clock_, 1ms);
    clock_.advance(1ms);
    EXPECT_FALSE(*run(io_, measured.async_command({"GET", "k"}, dl)));
    EXPECT_EQ(count(latency.latency[L::kCommand]), 1U);
}

TEST_F(GuardedRedisTest, ConnectedIsForwarded) {
    EXPECT_CALL(inner_, connected()).WillOnce(Return(true)).WillOnce(Return(false));
    EXPECT_TRUE(guarded_->connected());
    EXPECT_FALSE(guarded_->connected());
}

}  // namespace
}  // namespace moneta::store
