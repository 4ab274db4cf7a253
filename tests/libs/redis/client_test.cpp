#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "coro_util.hpp"
#include "moneta/redis/client.hpp"

namespace moneta::redis {
namespace {

using namespace std::chrono_literals;
using core::Errc;
using testing::run;
using testing::run_until;

class ClientWithoutServerTest : public ::testing::Test {
protected:
    ClientWithoutServerTest() {
        config_.port = 1;  // nothing listens there: connects are refused at once
        config_.reconnect_backoff_min = 1ms;
        config_.reconnect_backoff_max = 5ms;
    }
    boost::asio::io_context io_;
    core::FakeClock clock_;
    ClientConfig config_;
};

TEST_F(ClientWithoutServerTest, CallsFailFastWithUnavailableWhenNotConnected) {
    Client client(io_.get_executor(), config_, clock_);
    auto r = run(io_, client.async_command({"GET", "k"}, core::Deadline::never()));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error(), core::make_error(Errc::kUnavailable));
    EXPECT_EQ(client.stats().errors_total.load(), 1U);
    EXPECT_EQ(client.stats().commands_total.load(), 0U);
}

TEST_F(ClientWithoutServerTest, ExpiredDeadlineFailsBeforeAnythingElse) {
    Client client(io_.get_executor(), config_, clock_);
    const auto deadline = core::Deadline::after(clock_, 10ms);
    clock_.advance(10ms);
    auto r = run(io_, client.async_command({"SET", "k", "v"}, deadline));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error(), core::make_error(Errc::kDeadlineExceeded));
    Pipeline p;
    p.add({"PING"});
    auto pr = run(io_, client.async_pipeline(p, deadline));
    ASSERT_TRUE(pr);
    EXPECT_EQ(pr->error(), core::make_error(Errc::kDeadlineExceeded));
    const Script s("return 1");
    auto er = run(io_, client.async_eval(s, {}, {}, deadline));
    ASSERT_TRUE(er);
    EXPECT_EQ(er->error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_EQ(client.stats().commands_total.load(), 0U);
    EXPECT_EQ(client.stats().round_trips_total.load(), 0U);
    EXPECT_EQ(client.stats().errors_total.load(), 3U);
}

TEST_F(ClientWithoutServerTest, RejectsEmptyCommandsAndNonPositiveTimeouts) {
    Client client(io_.get_executor(), config_, clock_);
    auto r = run(io_, client.async_command(std::span<const std::string_view>{}, core::Deadline::never()));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error(), core::make_error(Errc::kInvalidArgument));
    auto t = run(io_, client.async_command({"PING"}, core::Deadline::never(), CommandControl{0ms}));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->error(), core::make_error(Errc::kInvalidArgument));
}

TEST_F(ClientWithoutServerTest, EmptyPipelineSucceedsWithoutTouchingTheNetwork) {
    Client client(io_.get_executor(), config_, clock_);
    auto r = run(io_, client.async_pipeline(Pipeline{}, core::Deadline::never()));
    ASSERT_TRUE(r);
    ASSERT_TRUE(*r);
    EXPECT_TRUE((*r)->empty());
    EXPECT_EQ(client.stats().round_trips_total.load(), 0U);
}

TEST_F(ClientWithoutServerTest, KeepsRetryingARefusedConnectionAndRecordsWhy) {
    Client client(io_.get_executor(), config_, clock_);
    client.start();
    EXPECT_TRUE(run_until(io_, [&] { return client.stats().connect_failures_total.load() >= 3; }, 5s));
    EXPECT_FALSE(client.connected());
    EXPECT_NE(client.last_error().find("connect"), std::string::npos) << client.last_error();
    auto stopped = run(io_, [&]() -> boost::asio::awaitable<int> {
        co_await client.async_stop();
        co_return 0;
    }());
    EXPECT_TRUE(stopped);
    auto r = run(io_, client.async_command({"PING"}, core::Deadline::never()));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error(), core::make_error(Errc::kCancelled));
}

TEST_F(ClientWithoutServerTest, DestroyingAStartedClientBeforeTheLoopRunsIsSafe) {
    {
        Client client(io_.get_executor(), config_, clock_);
        client.start();
    }
    // The background task was created but never ran; running it now must not touch freed
    // memory (ASan) and must end by itself.
    io_.run_for(200ms);
    EXPECT_TRUE(io_.stopped());
}

}  // namespace
}  // namespace moneta::redis
