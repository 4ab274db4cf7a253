#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <string>

#include "redis_fixture.hpp"

namespace moneta::redis::testing {
namespace {

using core::Errc;
using Clock = std::chrono::steady_clock;

bool has_error(const std::optional<core::Result<Reply>>& r, Errc e) {
    return r && !*r && r->error() == core::make_error(e);
}

std::chrono::milliseconds since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

TEST_F(RedisClientTest, PausedRedisTimesOutCallsAndLateRepliesNeverReachTheWrongCaller) {
    auto config = base_config();
    config.command_timeout = 100ms;
    config.max_consecutive_timeouts = 0;  // keep this connection: we test FIFO slot keeping
    config.stuck_timeout = Duration::zero();
    auto& client = connect(config);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(call({"SET", "k" + std::to_string(i), "v" + std::to_string(i)}));
    }

    redis_->pause();
    auto out = std::make_shared<Outcomes>();
    out->results.resize(5);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < 5; ++i) {
        spawn({"GET", "k" + std::to_string(i)}, out, i);
    }
    ASSERT_TRUE(run_until_done(*out));
    const auto elapsed = since(start);
    for (const auto& r : out->results) {
        EXPECT_TRUE(has_error(r, Errc::kTimeout)) << (r && *r ? (*r)->to_string() : "error");
    }
    EXPECT_GE(elapsed, 95ms);
    EXPECT_LT(elapsed, 1500ms) << "timeouts must fire close to the 100 ms bound";
    EXPECT_EQ(client.stats().timeouts_total.load(), 5U);
    EXPECT_EQ(client.stats().pending.load(), 5);  // slots kept for the late replies
    EXPECT_TRUE(client.connected());

    redis_->resume();
    // The five late replies (v0..v4) arrive first and must be discarded, not handed to these.
    for (int i = 5; i < 10; ++i) {
        auto r = call({"GET", "k" + std::to_string(i)});
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->as_string_view(), "v" + std::to_string(i));
    }
    EXPECT_EQ(client.stats().late_replies_total.load(), 5U);
    EXPECT_EQ(client.stats().pending.load(), 0);
    EXPECT_EQ(client.stats().reconnects_total.load(), 0U);
}

TEST_F(RedisClientTest, DeadlineShorterThanTheTimeoutEndsTheCallAsDeadlineExceeded) {
    auto config = base_config();
    config.command_timeout = 5s;
    auto& client = connect(config);
    redis_->pause();
    const auto start = Clock::now();
    auto r = call({"PING"}, core::Deadline::after(core::SystemClock::instance(), 80ms));
    const auto elapsed = since(start);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_GE(elapsed, 75ms);
    EXPECT_LT(elapsed, 1500ms);
    // A per-call timeout shorter than the deadline wins and is reported as a timeout.
    auto t = call({"PING"}, core::Deadline::after(core::SystemClock::instance(), 5s),
                  CommandControl{50ms});
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), core::make_error(Errc::kTimeout));
    EXPECT_EQ(client.stats().timeouts_total.load(), 2U);
    redis_->resume();
}

TEST_F(RedisClientTest, ConsecutiveTimeoutsDropTheConnectionAndItComesBackAfterResume) {
    auto config = base_config();
    config.command_timeout = 100ms;
    config.connect_timeout = 200ms;
    config.max_consecutive_timeouts = 3;
    auto& client = connect(config);
    redis_->pause();
    auto out = std::make_shared<Outcomes>();
    out->results.resize(3);
    for (std::size_t i = 0; i < 3; ++i) {
        spawn({"PING"}, out, i);
    }
    ASSERT_TRUE(run_until_done(*out));
    for (const auto& r : out->results) {
        EXPECT_TRUE(has_error(r, Errc::kTimeout));
    }
    EXPECT_FALSE(client.connected());
    EXPECT_EQ(client.stats().connected.load(), 0);
    // While Redis is stuck, calls fail fast instead of queueing behind it (the reconnect's
    // handshake PING cannot complete against a stopped server): nothing is sent, and the
    // error is kUnavailable rather than a timeout after 100 ms.
    const auto sent = client.stats().commands_total.load();
    auto fast = call({"PING"});
    ASSERT_FALSE(fast);
    EXPECT_EQ(fast.error(), core::make_error(Errc::kUnavailable));
    EXPECT_EQ(client.stats().commands_total.load(), sent);

    redis_->resume();
    ASSERT_TRUE(run_until(io_, [&] { return client.connected(); }, 10s)) << client.last_error();
    auto ok = call({"PING"});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->as_string_view(), "PONG");
    EXPECT_EQ(client.stats().reconnects_total.load(), 1U);
}

// Issue 10: calls ended by their CALLER's deadline counted as consecutive timeouts, so a client
// sending a 1 ms X-Request-Timeout-Ms could make the worker drop its Redis connection — every
// other request then failed as "not sent", and the fail-open start path switched on.
TEST_F(RedisClientTest, CallerDeadlinesNeverCountTowardsDroppingTheConnection) {
    auto config = base_config();
    config.command_timeout = 5s;
    config.max_consecutive_timeouts = 3;
    auto& client = connect(config);
    redis_->pause();
    for (int i = 0; i < 6; ++i) {
        auto r = call({"PING"}, core::Deadline::after(core::SystemClock::instance(), 20ms));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), core::make_error(Errc::kDeadlineExceeded)) << "call " << i;
    }
    EXPECT_TRUE(client.connected()) << "six deadline expiries are not six server timeouts";
    redis_->resume();
    auto ok = call({"PING"});
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->as_string_view(), "PONG");
    EXPECT_EQ(client.stats().reconnects_total.load(), 0U);
}

TEST_F(RedisClientTest, OldestCommandUnansweredTooLongDropsTheConnection) {
    core::FakeClock clock;
    auto config = base_config();
    config.command_timeout = 20s;  // real time: never reached in this test
    config.stuck_timeout = 1s;     // measured on the injected clock
    config.max_consecutive_timeouts = 0;
    auto& client = connect(config, clock);
    redis_->pause();
    auto out = std::make_shared<Outcomes>();
    out->results.resize(1);
    spawn({"GET", "x"}, out, 0);
    ASSERT_TRUE(run_until(io_, [&] { return client.stats().pending.load() == 1; }, 5s));
    clock.advance(2s);
    auto next = call({"PING"});
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error(), core::make_error(Errc::kUnavailable));
    ASSERT_TRUE(run_until_done(*out, 5s));
    EXPECT_TRUE(has_error(out->results[0], Errc::kConnectionClosed));
    EXPECT_NE(client.last_error().find("unanswered"), std::string::npos) << client.last_error();
    redis_->resume();
    ASSERT_TRUE(run_until(io_, [&] { return client.connected(); }, 10s)) << client.last_error();
    EXPECT_TRUE(call({"PING"}));
}

TEST_F(RedisClientTest, KilledRedisFailsPendingCallsThenTheClientReconnectsAfterRestart) {
    auto& client = connect(base_config());
    ASSERT_TRUE(call({"SET", "before", "1"}));
    redis_->pause();  // so that calls are still pending when the process dies
    auto out = std::make_shared<Outcomes>();
    out->results.resize(5);
    for (std::size_t i = 0; i < 5; ++i) {
        spawn({"GET", "before"}, out, i, core::Deadline::never(), CommandControl{10s});
    }
    ASSERT_TRUE(run_until(io_, [&] { return client.stats().pending.load() == 5; }, 5s));
    redis_->kill9();
    ASSERT_TRUE(run_until_done(*out, 5s));
    for (const auto& r : out->results) {
        EXPECT_TRUE(has_error(r, Errc::kConnectionClosed));
    }
    EXPECT_FALSE(client.connected());
    auto down = call({"GET", "before"});
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error(), core::make_error(Errc::kUnavailable));
    // Reconnect attempts fail (refused) and back off while Redis is down.
    ASSERT_TRUE(run_until(io_, [&] { return client.stats().connect_failures_total.load() >= 2; }, 5s));

    ASSERT_TRUE(redis_->restart());
    ASSERT_TRUE(run_until(io_, [&] { return client.connected(); }, 10s)) << client.last_error();
    auto set = call({"SET", "after", "2"});
    ASSERT_TRUE(set) << set.error().message();
    auto get = call({"GET", "after"});
    ASSERT_TRUE(get);
    EXPECT_EQ(get->as_string_view(), "2");
    EXPECT_EQ(client.stats().reconnects_total.load(), 1U);
}

TEST_F(RedisClientTest, MaxPendingRejectsFurtherCallsAsOverloaded) {
    auto config = base_config();
    config.max_pending = 10;
    config.command_timeout = 10s;
    auto& client = connect(config);
    redis_->pause();
    auto out = std::make_shared<Outcomes>();
    out->results.resize(10);
    for (std::size_t i = 0; i < 10; ++i) {
        spawn({"PING"}, out, i);
    }
    ASSERT_TRUE(run_until(io_, [&] { return client.stats().pending.load() == 10; }, 5s));
    auto over = call({"PING"});
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error(), core::make_error(Errc::kOverloaded));
    Pipeline p;
    p.add({"PING"});
    auto pover = run(io_, client.async_pipeline(p, core::Deadline::never()));
    ASSERT_TRUE(pover);
    EXPECT_EQ(pover->error(), core::make_error(Errc::kOverloaded));
    redis_->resume();
    ASSERT_TRUE(run_until_done(*out));
    for (const auto& r : out->results) {
        ASSERT_TRUE(r && *r);
        EXPECT_EQ((*r)->as_string_view(), "PONG");
    }
}

TEST_F(RedisClientTest, CancellingTheAwaitingCoroutineKeepsTheConnectionInSync) {
    auto config = base_config();
    config.command_timeout = 10s;
    auto& client = connect(config);
    ASSERT_TRUE(call({"SET", "a", "A"}));
    ASSERT_TRUE(call({"SET", "b", "B"}));
    redis_->pause();
    boost::asio::cancellation_signal cancel;
    std::optional<core::Result<Reply>> result;
    boost::asio::co_spawn(
        io_, owned_command(client, {"GET", "a"}, core::Deadline::never()),
        boost::asio::bind_cancellation_slot(cancel.slot(),
                                            [&](std::exception_ptr, core::Result<Reply> r) {
                                                result = std::move(r);
                                            }));
    ASSERT_TRUE(run_until(io_, [&] { return client.stats().pending.load() == 1; }, 5s));
    cancel.emit(boost::asio::cancellation_type::terminal);
    ASSERT_TRUE(run_until(io_, [&] { return result.has_value(); }, 5s));
    EXPECT_TRUE(has_error(result, Errc::kCancelled));
    redis_->resume();
    auto b = call({"GET", "b"});
    ASSERT_TRUE(b);
    EXPECT_EQ(b->as_string_view(), "B");
    EXPECT_EQ(client.stats().late_replies_total.load(), 1U);
}

class RedisAuthTest : public RedisClientTest {
protected:
    moneta::testing::RedisServerOptions server_options() override {
        moneta::testing::RedisServerOptions o;
        o.password = "correct horse";
        return o;
    }
};

TEST_F(RedisAuthTest, AuthenticatesWithThePassword) {
    auto config = base_config();
    config.password = "correct horse";
    auto& client = connect(config);
    ASSERT_TRUE(client.connected());
    auto r = call({"SET", "authed", "yes"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->as_string_view(), "OK");
    EXPECT_EQ(redis_->command({"GET", "authed"}), "yes");
}

TEST_F(RedisAuthTest, AuthenticatesAsANamedAclUser) {
    auto config = base_config();
    config.username = "default";
    config.password = "correct horse";
    connect(config);
    EXPECT_TRUE(call({"PING"}));
}

TEST_F(RedisAuthTest, WrongPasswordIsSurfacedAndCallsFailFast) {
    auto config = base_config();
    config.password = "wrong";
    client_ = std::make_unique<Client>(io_.get_executor(), config, core::SystemClock::instance());
    client_->start();
    ASSERT_TRUE(run_until(io_, [&] { return client_->stats().connect_failures_total.load() >= 2; }, 10s));
    EXPECT_FALSE(client_->connected());
    EXPECT_NE(client_->last_error().find("WRONGPASS"), std::string::npos) << client_->last_error();
    auto r = call({"PING"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::make_error(Errc::kUnavailable));
}

TEST_F(RedisAuthTest, MissingPasswordIsSurfaced) {
    client_ = std::make_unique<Client>(io_.get_executor(), base_config(), core::SystemClock::instance());
    client_->start();
    ASSERT_TRUE(run_until(io_, [&] { return client_->stats().connect_failures_total.load() >= 1; }, 10s));
    EXPECT_FALSE(client_->connected());
    EXPECT_NE(client_->last_error().find("NOAUTH"), std::string::npos) << client_->last_error();
}

TEST_F(RedisClientTest, StoppingWithCallsInFlightCancelsThemAndFreesEverything) {
    auto config = base_config();
    config.command_timeout = 10s;
    auto& client = connect(config);
    redis_->pause();
    auto out = std::make_shared<Outcomes>();
    out->results.resize(200);
    for (std::size_t i = 0; i < 200; ++i) {
        spawn({"SET", "k" + std::to_string(i), std::string(100, 'x')}, out, i);
    }
    ASSERT_TRUE(run_until(io_, [&] { return client.stats().pending.load() == 200; }, 5s));
    client.stop();
    ASSERT_TRUE(run_until_done(*out, 5s));
    for (const auto& r : out->results) {
        EXPECT_TRUE(has_error(r, Errc::kCancelled));
    }
    EXPECT_FALSE(client.connected());
    auto after = call({"PING"});
    EXPECT_EQ(after.error(), core::make_error(Errc::kCancelled));
    redis_->resume();
    // TearDown runs async_stop(); LeakSanitizer checks that nothing (replies, frames,
    // connection, hiredis reader) is left behind at exit.
}

TEST_F(RedisClientTest, DestroyingTheClientWithCallsInFlightCompletesThem) {
    auto config = base_config();
    config.command_timeout = 10s;
    connect(config);
    redis_->pause();
    auto out = std::make_shared<Outcomes>();
    out->results.resize(50);
    for (std::size_t i = 0; i < 50; ++i) {
        spawn({"GET", "k"}, out, i);
    }
    ASSERT_TRUE(run_until(io_, [&] { return client_->stats().pending.load() == 50; }, 5s));
    client_.reset();  // suspended calls keep the shared state alive
    ASSERT_TRUE(run_until_done(*out, 5s));
    for (const auto& r : out->results) {
        EXPECT_TRUE(has_error(r, Errc::kCancelled));
    }
    // The background tasks end by themselves: nothing is left to run.
    io_.restart();
    io_.run_for(500ms);
    EXPECT_TRUE(io_.stopped());
    redis_->resume();
}

TEST_F(RedisClientTest, DestroyingTheIoContextWithCallsSuspendedReleasesEverything) {
    auto io = std::make_unique<boost::asio::io_context>();
    auto client = std::make_unique<Client>(io->get_executor(), base_config(),
                                           core::SystemClock::instance());
    client->start();
    ASSERT_TRUE(run_until(*io, [&] { return client->connected(); }, 10s));
    redis_->pause();
    auto out = std::make_shared<Outcomes>();
    out->results.resize(20);
    for (std::size_t i = 0; i < 20; ++i) {
        boost::asio::co_spawn(*io, owned_command(*client, {"GET", "k"}, core::Deadline::never()),
                              [out, i](std::exception_ptr, core::Result<Reply> r) {
                                  out->results[i] = std::move(r);
                                  ++out->done;
                              });
    }
    ASSERT_TRUE(run_until(*io, [&] { return client->stats().pending.load() == 20; }, 5s));
    client.reset();  // client first (required), then the loop dies without running again
    io.reset();
    // The suspended frames were destroyed, not resumed, and released what they held;
    // LeakSanitizer checks the rest (replies, connection, hiredis reader) at exit.
    EXPECT_EQ(out->done, 0U);
    EXPECT_EQ(out.use_count(), 1);
    redis_->resume();
}

}  // namespace
}  // namespace moneta::redis::testing
