// Per-call timeouts, cancellation and teardown of waiting calls, against a scripted peer on the
// test's own io_context (no redis-server) and a FakeClock: which calls time out is decided by
// the fake time alone; the client's one deadline timer only decides when it looks.

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "moneta/redis/client.hpp"

namespace moneta::redis {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using core::Errc;
using testing::run;
using testing::run_until;

/// Accepts one connection, answers the handshake PING at once, swallows whatever else the client
/// sends and writes replies only when the test says so.
class ScriptedPeer {
public:
    explicit ScriptedPeer(net::io_context& io)
        : acceptor_(io, net::ip::tcp::endpoint(net::ip::address_v4::loopback(), 0)) {
        net::co_spawn(io, serve(), net::detached);
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    /// Writes @p bytes (whole RESP replies) to the client.
    void reply(const std::string& bytes) {
        ASSERT_TRUE(peer_);
        net::write(*peer_, net::buffer(bytes));
    }
    /// Closes the connection, as a dying server would.
    void close() {
        boost::system::error_code ignored;
        peer_->close(ignored);
    }
    std::size_t bytes_received() const { return received_; }

private:
    net::awaitable<void> serve() {
        auto [aec, socket] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
        if (aec) {
            co_return;
        }
        peer_.emplace(std::move(socket));
        net::write(*peer_, net::buffer(std::string("+PONG\r\n")));
        std::array<char, 4096> buf{};
        for (;;) {
            auto [ec, n] = co_await peer_->async_read_some(
                net::buffer(buf), net::as_tuple(net::use_awaitable)
            );
            if (ec) {
                co_return;
            }
            received_ += n;
        }
    }

    net::ip::tcp::acceptor acceptor_;
    std::optional<net::ip::tcp::socket> peer_;
    std::size_t received_ = 0;
};

using Outcome = std::optional<core::Result<Reply>>;

bool has_error(const Outcome& r, Errc e) { return r && !*r && r->error() == core::make_error(e); }

class ClientTimeoutTest : public ::testing::Test {
protected:
    ClientTimeoutTest() : peer_(io_) {
        config_.port = peer_.port();
        config_.command_timeout = 1s;
        config_.max_consecutive_timeouts = 0;  // these tests keep their connection
        config_.stuck_timeout = Duration::zero();
    }
    void TearDown() override {
        if (client_) {
            run(
                io_,
                [](Client& c) -> net::awaitable<int> {
                    co_await c.async_stop();
                    co_return 0;
                }(*client_),
                5s
            );
        }
    }

    Client& connect() {
        client_ = std::make_unique<Client>(io_.get_executor(), config_, clock_);
        client_->start();
        EXPECT_TRUE(run_until(
            io_, [&] { return client_->connected(); }, 5s
        )) << client_->last_error();
        return *client_;
    }

    /// Starts a GET in the background; its result lands in *out.
    void spawn_get(
        Outcome& out, CommandControl control = {}, core::Deadline deadline = core::Deadline::never()
    ) {
        net::co_spawn(
            io_,
            get(*client_, deadline, control),
            [&out](std::exception_ptr, core::Result<Reply> r) { out = std::move(r); }
        );
    }
    static net::awaitable<core::Result<Reply>> get(
        Client& c, core::Deadline deadline, CommandControl control
    ) {
        const std::string_view args[] = {"GET", "k"};
        co_return co_await c.async_command(args, deadline, control);
    }

    /// Polls until every call has been written to the peer, so that all are pending.
    [[nodiscard]] bool sent(std::uint64_t commands) {
        return run_until(
            io_,
            [&] { return client_->stats().pending.load() == static_cast<std::int64_t>(commands); },
            5s
        );
    }

    net::io_context io_;
    core::FakeClock clock_;
    ScriptedPeer peer_;
    ClientConfig config_;
    std::unique_ptr<Client> client_;
};

TEST_F(ClientTimeoutTest, ACallTimesOutWhileLaterOnesWaitAndTheTimerMovesOnToTheNextDeadline) {
    auto& client = connect();
    Outcome a;
    Outcome b;
    Outcome c;
    spawn_get(a, CommandControl{50ms});
    spawn_get(b, CommandControl{150ms});
    spawn_get(c);  // command_timeout: 1 s
    ASSERT_TRUE(sent(3));

    clock_.advance(60ms);
    ASSERT_TRUE(run_until(
        io_, [&] { return a.has_value(); }, 2s
    ));
    EXPECT_TRUE(has_error(a, Errc::kTimeout));
    EXPECT_FALSE(b.has_value());
    EXPECT_FALSE(c.has_value());

    clock_.advance(100ms);  // 160 ms: past b's deadline only; the timer was re-armed for it
    ASSERT_TRUE(run_until(
        io_, [&] { return b.has_value(); }, 2s
    ));
    EXPECT_TRUE(has_error(b, Errc::kTimeout));
    EXPECT_FALSE(c.has_value());
    EXPECT_EQ(client.stats().timeouts_total.load(), 2U);
    EXPECT_EQ(client.stats().pending.load(), 3) << "slots kept for the late replies";

    // The two late replies are discarded; the third reaches c, the only caller still waiting.
    peer_.reply("$2\r\nva\r\n$2\r\nvb\r\n$2\r\nvc\r\n");
    ASSERT_TRUE(run_until(
        io_, [&] { return c.has_value(); }, 2s
    ));
    ASSERT_TRUE(*c) << c->error().message();
    EXPECT_EQ((*c)->as_string_view(), "vc");
    EXPECT_EQ(client.stats().late_replies_total.load(), 2U);
    EXPECT_EQ(client.stats().pending.load(), 0);
    EXPECT_TRUE(client.connected());
}

TEST_F(ClientTimeoutTest, ALaterCallWithAnEarlierDeadlineTimesOutFirst) {
    auto& client = connect();
    Outcome first;
    Outcome second;
    spawn_get(first);  // 1 s: arms the timer for 1 s
    ASSERT_TRUE(sent(1));
    spawn_get(second, CommandControl{50ms});  // must pull the timer in
    ASSERT_TRUE(sent(2));

    clock_.advance(60ms);
    // Well under the first call's 1 s: only a timer re-armed for 50 ms can end this wait.
    ASSERT_TRUE(run_until(
        io_, [&] { return second.has_value(); }, 700ms
    ));
    EXPECT_TRUE(has_error(second, Errc::kTimeout));
    EXPECT_FALSE(first.has_value());

    peer_.reply("$5\r\nfirst\r\n$6\r\nsecond\r\n");
    ASSERT_TRUE(run_until(
        io_, [&] { return first.has_value(); }, 2s
    ));
    ASSERT_TRUE(*first);
    EXPECT_EQ((*first)->as_string_view(), "first");
    ASSERT_TRUE(run_until(
        io_, [&] { return client.stats().pending.load() == 0; }, 2s
    ));
    EXPECT_EQ(client.stats().late_replies_total.load(), 1U);
}

TEST_F(ClientTimeoutTest, ACallerDeadlineEndsTheWaitAsDeadlineExceededAndIsNoServerTimeout) {
    config_.max_consecutive_timeouts = 1;  // one server timeout would drop the connection
    auto& client = connect();
    Outcome r;
    spawn_get(r, {}, core::Deadline::after(clock_, 30ms));
    ASSERT_TRUE(sent(1));
    clock_.advance(40ms);
    ASSERT_TRUE(run_until(
        io_, [&] { return r.has_value(); }, 2s
    ));
    EXPECT_TRUE(has_error(r, Errc::kDeadlineExceeded));
    EXPECT_EQ(client.stats().timeouts_total.load(), 1U);
    EXPECT_TRUE(client.connected());
}

TEST_F(ClientTimeoutTest, ConsecutiveServerTimeoutsInOneScanDropTheConnectionOnce) {
    config_.max_consecutive_timeouts = 2;
    auto& client = connect();
    std::vector<Outcome> out(4);
    for (auto& o : out) {
        spawn_get(o, CommandControl{20ms});
    }
    ASSERT_TRUE(sent(4));
    clock_.advance(30ms);
    ASSERT_TRUE(run_until(
        io_,
        [&] {
            for (const auto& o : out) {
                if (!o) {
                    return false;
                }
            }
            return true;
        },
        2s
    ));
    // The first two time out; the second's timeout drops the connection, which ends the rest.
    EXPECT_TRUE(has_error(out[0], Errc::kTimeout));
    EXPECT_TRUE(has_error(out[1], Errc::kTimeout));
    EXPECT_TRUE(has_error(out[2], Errc::kConnectionClosed));
    EXPECT_TRUE(has_error(out[3], Errc::kConnectionClosed));
    EXPECT_EQ(client.stats().timeouts_total.load(), 2U);
    EXPECT_FALSE(client.connected());
    EXPECT_NE(client.last_error().find("consecutive"), std::string::npos) << client.last_error();
}

TEST_F(ClientTimeoutTest, CancellingAWaitingCallEndsItAndItsReplyIsDiscarded) {
    auto& client = connect();
    net::cancellation_signal cancel;
    Outcome cancelled;
    net::co_spawn(
        io_,
        get(client, core::Deadline::never(), {}),
        net::bind_cancellation_slot(
            cancel.slot(),
            [&](std::exception_ptr, core::Result<Reply> r) { cancelled = std::move(r); }
        )
    );
    Outcome next;
    spawn_get(next);
    ASSERT_TRUE(sent(2));
    cancel.emit(net::cancellation_type::terminal);
    ASSERT_TRUE(run_until(
        io_, [&] { return cancelled.has_value(); }, 2s
    ));
    EXPECT_TRUE(has_error(cancelled, Errc::kCancelled));
    EXPECT_FALSE(next.has_value());
    EXPECT_EQ(client.stats().timeouts_total.load(), 0U);

    peer_.reply("$3\r\nold\r\n$3\r\nnew\r\n");
    ASSERT_TRUE(run_until(
        io_, [&] { return next.has_value(); }, 2s
    ));
    ASSERT_TRUE(*next);
    EXPECT_EQ((*next)->as_string_view(), "new");
    EXPECT_EQ(client.stats().late_replies_total.load(), 1U);
}

TEST_F(ClientTimeoutTest, ALostConnectionWakesEveryWaitingCallWithTheReason) {
    auto& client = connect();
    std::vector<Outcome> out(5);
    for (auto& o : out) {
        spawn_get(o);
    }
    Pipeline p;
    p.add({"GET", "a"});
    p.add({"GET", "b"});
    std::optional<core::Result<Replies>> piped;
    net::co_spawn(
        io_,
        client.async_pipeline(p, core::Deadline::never()),
        [&](std::exception_ptr, core::Result<Replies> r) { piped = std::move(r); }
    );
    ASSERT_TRUE(sent(7));
    peer_.close();
    ASSERT_TRUE(run_until(
        io_,
        [&] {
            for (const auto& o : out) {
                if (!o) {
                    return false;
                }
            }
            return piped.has_value();
        },
        2s
    ));
    for (const auto& o : out) {
        EXPECT_TRUE(has_error(o, Errc::kConnectionClosed));
    }
    ASSERT_FALSE(*piped);
    EXPECT_EQ(piped->error(), core::make_error(Errc::kConnectionClosed));
    EXPECT_EQ(client.stats().timeouts_total.load(), 0U);
    EXPECT_EQ(client.stats().pending.load(), 0);
}

TEST_F(ClientTimeoutTest, AnIdleClientLeavesNoTimerFiring) {
    config_.command_timeout = 20ms;  // real time too: the fake clock stands still here
    auto& client = connect();
    Outcome r;
    spawn_get(r);
    ASSERT_TRUE(sent(1));
    peer_.reply("$2\r\nok\r\n");
    ASSERT_TRUE(run_until(
        io_, [&] { return r.has_value(); }, 2s
    ));
    ASSERT_TRUE(*r);
    // The deadline timer armed for that call may still fire once (it is not cancelled per call)
    // and finds nothing to do; after that, an idle client runs no handler at all.
    io_.restart();
    io_.run_for(60ms);
    io_.restart();
    EXPECT_EQ(io_.run_for(100ms), 0U) << "something keeps waking up while nothing is pending";
    EXPECT_TRUE(client.connected());
    EXPECT_EQ(client.stats().timeouts_total.load(), 0U);
}

}  // namespace
}  // namespace moneta::redis
