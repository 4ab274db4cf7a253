// The wait queue, close() and the stale-connection retry, against a ScriptedUpstream. The client's
// io_context runs only inside run()/run_until(), so "the client loop is blocked" is simply the
// time between two of those calls, and several completions can be made to land in one turn.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "moneta/http_client/client.hpp"
#include "moneta/testing/wait.hpp"
#include "scripted_upstream.hpp"

namespace moneta::http_client {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using redis::testing::run;
using redis::testing::run_until;
using testing::ScriptedUpstream;

/// How one concurrent call ended.
struct Call {
    std::optional<core::Result<Response>> result;
    bool threw = false;

    bool done() const { return result.has_value() || threw; }
    bool ok() const { return result && *result && (*result)->status == 200; }
    bool failed_with(core::Errc e) const { return result && !*result && result->error() == e; }
};

class HttpClientPoolTest : public ::testing::Test {
protected:
    void TearDown() override { client_.reset(); }

    Client& client(std::size_t max_connections) {
        ClientConfig cfg;
        cfg.port = upstream_.port();
        cfg.max_connections = max_connections;
        client_ = std::make_unique<Client>(io_.get_executor(), cfg, core::SystemClock::instance());
        return *client_;
    }

    const ClientStats& stats() const { return client_->stats(); }

    /// Starts a GET as its own coroutine. @p then runs right after the call returns, in the same
    /// event-loop turn as the call's last step (its release of the connection).
    void start(
        Call& call,
        std::string target,
        core::Deadline deadline,
        RequestControl control,
        std::function<void()> then = {},
        asio::cancellation_slot slot = {}
    ) {
        asio::co_spawn(
            io_,
            [this, &call, target, deadline, control, then]() -> asio::awaitable<void> {
                call.result =
                    co_await client_->async_request("GET", target, {}, {}, deadline, control);
                if (then) {
                    then();
                }
            },
            asio::bind_cancellation_slot(
                slot, [&call](const std::exception_ptr& e) { call.threw = e != nullptr; }
            )
        );
    }

    /// Runs every handler that is ready now, so each socket read is pending in the reactor and
    /// nothing is queued behind it.
    void drain() {
        io_.restart();
        while (io_.poll() > 0) {
            io_.restart();
        }
    }

    core::Result<Response> call(std::string_view method, std::string_view target) {
        auto r =
            run(io_, client_->async_request(method, target, {}, {}, core::Deadline::never()), 10s);
        return r ? std::move(*r) : core::Result<Response>(core::make_error(core::Errc::kInternal));
    }

    asio::io_context io_;
    ScriptedUpstream upstream_;
    std::unique_ptr<Client> client_;
};

constexpr RequestControl kLong{5s};

// The reviewer's lost wake-up: two connections released in one turn must wake two distinct
// waiters. Before the fix both releases cancelled the first waiter's timer; the second waiter
// stayed queued while a connection sat idle, until its budget ran out (kTimeout).
TEST_F(HttpClientPoolTest, TwoReleasesInOneTurnWakeTwoDistinctWaiters) {
    client(2);
    Call a1, a2, w1, w2, w3;
    start(a1, "/held/a1", core::Deadline::never(), kLong);
    start(a2, "/held/a2", core::Deadline::never(), kLong);
    start(w1, "/held/w1", core::Deadline::never(), kLong);
    start(w2, "/held/w2", core::Deadline::never(), kLong);
    start(w3, "/held/w3", core::Deadline::never(), kLong);
    ASSERT_TRUE(run_until(
        io_, [&] { return upstream_.held() == 2 && stats().pending == 3; }, 5s
    ));
    drain();

    // Both responses reach the client while its loop is not running: one turn completes both.
    ASSERT_TRUE(upstream_.release_held());
    ASSERT_TRUE(run_until(
        io_, [&] { return upstream_.held() == 2 || stats().timeouts_total > 0; }, 10s
    ));
    EXPECT_EQ(upstream_.held(), 2U) << "each release must start a distinct waiter's request";
    EXPECT_EQ(stats().in_flight.load(), 2) << "no connection may sit idle while callers wait";
    EXPECT_EQ(stats().pending.load(), 1);  // w3: both connections are busy, so it rightly waits
    EXPECT_TRUE(a1.ok() && a2.ok());

    ASSERT_TRUE(upstream_.release_held());
    ASSERT_TRUE(run_until(
        io_, [&] { return upstream_.held() == 1 || w3.done(); }, 10s
    ));
    ASSERT_TRUE(upstream_.release_held());
    ASSERT_TRUE(run_until(
        io_, [&] { return w3.done(); }, 10s
    ));
    for (const Call* c : {&a1, &a2, &w1, &w2, &w3}) {
        EXPECT_TRUE(c->ok());
    }
    EXPECT_EQ(stats().timeouts_total.load(), 0U);
    EXPECT_EQ(stats().errors_total.load(), 0U);
    EXPECT_EQ(stats().connections_created_total.load(), 2U);
    EXPECT_EQ(upstream_.accepted(), 2U);
}

// A waiter whose timer has already fired (its completion is queued) when a connection is released
// in the same turn: it must end with kTimeout and must not swallow the hand-off, which goes to the
// next waiter instead.
TEST_F(HttpClientPoolTest, WaiterThatTimedOutDoesNotTakeTheReleasedConnection) {
    client(1);
    const core::SteadyTime w1_deadline = core::SystemClock::instance().steady_now() + 500ms;
    Call a1, w1, w2;
    start(a1, "/held/a1", core::Deadline::never(), kLong);
    start(w1, "/ok/w1", core::Deadline::at(w1_deadline), kLong);
    start(w2, "/ok/w2", core::Deadline::never(), kLong);
    ASSERT_TRUE(run_until(
        io_, [&] { return upstream_.held() == 1 && stats().pending == 2; }, 5s
    ));
    drain();
    ASSERT_LT(core::SystemClock::instance().steady_now(), w1_deadline)
        << "setup too slow for this test";

    // With the loop blocked, a1's response arrives and w1's deadline passes: in the next turn the
    // reactor reports the socket first, then w1's expired timer.
    ASSERT_TRUE(upstream_.release_held());
    ASSERT_TRUE(moneta::testing::wait_until(
        [&] { return core::SystemClock::instance().steady_now() > w1_deadline + 20ms; },
        2s,
        "w1's deadline to pass"
    ));
    ASSERT_TRUE(run_until(
        io_, [&] { return a1.done() && w1.done() && w2.done(); }, 3s
    )) << "w2 was left waiting (budget 5 s) while a connection was idle";
    EXPECT_TRUE(a1.ok());
    EXPECT_TRUE(w1.failed_with(core::Errc::kTimeout));
    EXPECT_TRUE(w2.ok());
    EXPECT_EQ(stats().timeouts_total.load(), 1U);
    EXPECT_EQ(stats().connections_created_total.load(), 1U);  // w2 got a1's connection
    EXPECT_EQ(upstream_.targets(), (std::vector<std::string>{"/held/a1", "/ok/w2"}));
}

// A waiter handed a connection, then cancelled (per-operation cancellation of its coroutine)
// before it resumes: it ends with kCancelled, and the connection goes on to the next waiter
// instead of leaking its pool slot.
TEST_F(HttpClientPoolTest, WaiterCancelledAfterHandOffPassesTheConnectionOn) {
    client(1);
    asio::cancellation_signal cancel_w1;
    Call a1, w1, w2;
    start(a1, "/held/a1", core::Deadline::never(), kLong, [&] {
        cancel_w1.emit(asio::cancellation_type::terminal);  // after a1 handed its connection to w1
    });
    start(w1, "/ok/w1", core::Deadline::never(), kLong, {}, cancel_w1.slot());
    start(w2, "/ok/w2", core::Deadline::never(), kLong);
    ASSERT_TRUE(run_until(
        io_, [&] { return upstream_.held() == 1 && stats().pending == 2; }, 5s
    ));

    ASSERT_TRUE(upstream_.release_held());
    ASSERT_TRUE(run_until(
        io_, [&] { return a1.done() && w1.done() && w2.done(); }, 3s
    ));
    EXPECT_TRUE(a1.ok());
    EXPECT_FALSE(w1.threw);
    EXPECT_TRUE(w1.failed_with(core::Errc::kCancelled));
    EXPECT_TRUE(w2.ok());
    EXPECT_EQ(stats().connections_created_total.load(), 1U);  // w2 reused the handed-back one
    EXPECT_EQ(stats().connections_open.load(), 1);            // idle in the pool, not leaked
    EXPECT_EQ(stats().pending.load(), 0);
    EXPECT_EQ(upstream_.targets(), (std::vector<std::string>{"/held/a1", "/ok/w2"}));
    EXPECT_TRUE(call("GET", "/ok/after"));  // the pool still works with its single slot
    EXPECT_EQ(stats().connections_created_total.load(), 1U);
}

TEST_F(HttpClientPoolTest, CloseFailsWaitingCallersWithCancelled) {
    client(1);
    Call a1, w1, w2;
    start(a1, "/held/a1", core::Deadline::never(), kLong);
    start(w1, "/ok/w1", core::Deadline::never(), kLong);
    start(w2, "/ok/w2", core::Deadline::never(), kLong);
    ASSERT_TRUE(run_until(
        io_, [&] { return upstream_.held() == 1 && stats().pending == 2; }, 5s
    ));

    client_->close();
    // Their budget is 5 s; they end now, in the next turns.
    ASSERT_TRUE(run_until(
        io_, [&] { return w1.done() && w2.done(); }, 1s
    ));
    EXPECT_TRUE(w1.failed_with(core::Errc::kCancelled));
    EXPECT_TRUE(w2.failed_with(core::Errc::kCancelled));
    EXPECT_EQ(stats().pending.load(), 0);
    auto later = call("GET", "/ok/later");
    ASSERT_FALSE(later);
    EXPECT_EQ(later.error(), core::Errc::kCancelled);

    // The request already on the wire completes; its connection is then closed, not pooled.
    ASSERT_TRUE(upstream_.release_held());
    ASSERT_TRUE(run_until(
        io_, [&] { return a1.done(); }, 3s
    ));
    EXPECT_TRUE(a1.ok());
    EXPECT_EQ(stats().connections_open.load(), 0);
    EXPECT_TRUE(moneta::testing::wait_until(
        [&] { return upstream_.closed() == 1; }, 2s, "upstream saw the close"
    ));
    EXPECT_EQ(upstream_.targets(), (std::vector<std::string>{"/held/a1"}));
}

// close() in the same turn as a hand-off (the connection is already the waiter's, the waiter has
// not resumed): the waiter gets kCancelled and the connection is closed.
TEST_F(HttpClientPoolTest, CloseRightAfterAHandOffClosesTheHandedConnection) {
    client(1);
    Call a1, w1;
    start(a1, "/held/a1", core::Deadline::never(), kLong, [&] { client_->close(); });
    start(w1, "/ok/w1", core::Deadline::never(), kLong);
    ASSERT_TRUE(run_until(
        io_, [&] { return upstream_.held() == 1 && stats().pending == 1; }, 5s
    ));

    ASSERT_TRUE(upstream_.release_held());
    ASSERT_TRUE(run_until(
        io_, [&] { return a1.done() && w1.done(); }, 3s
    ));
    EXPECT_TRUE(a1.ok());
    EXPECT_TRUE(w1.failed_with(core::Errc::kCancelled));
    EXPECT_EQ(stats().connections_open.load(), 0);
    EXPECT_TRUE(moneta::testing::wait_until(
        [&] { return upstream_.closed() == 1; }, 2s, "upstream saw the close"
    ));
    EXPECT_EQ(upstream_.targets(), (std::vector<std::string>{"/held/a1"}));
}

// The keep-alive race: the upstream closed a pooled connection; a GET on it is retried once on a
// fresh connection and the caller sees only the success.
TEST_F(HttpClientPoolTest, GetOnAStaleConnectionIsRetriedOnceOnAFreshOne) {
    client(4);
    auto first = call("GET", "/close/first");  // answered, then the upstream closes the connection
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_EQ(first->body, "ok /close/first");

    auto second = call("GET", "/ok/second");  // goes out on the pooled (now stale) connection
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(second->status, 200);
    EXPECT_EQ(second->body, "ok /ok/second");
    EXPECT_EQ(stats().connections_created_total.load(), 2U);
    EXPECT_EQ(stats().errors_total.load(), 0U);
    EXPECT_EQ(upstream_.accepted(), 2U);
    EXPECT_EQ(upstream_.targets(), (std::vector<std::string>{"/close/first", "/ok/second"}));
}

TEST_F(HttpClientPoolTest, PostOnAStaleConnectionIsNotReplayed) {
    client(4);
    ASSERT_TRUE(call("GET", "/close/first"));
    auto post = call("POST", "/ok/post");
    ASSERT_FALSE(post);
    EXPECT_EQ(post.error(), core::Errc::kConnectionClosed);
    EXPECT_EQ(stats().connections_created_total.load(), 1U);  // no second attempt
    EXPECT_EQ(upstream_.accepted(), 1U);
    EXPECT_EQ(upstream_.targets(), (std::vector<std::string>{"/close/first"}));
}

}  // namespace
}  // namespace moneta::http_client
