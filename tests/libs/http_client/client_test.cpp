// The pool against a real moneta::http::Server on a free port.
#include "moneta/http_client/client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "coro_util.hpp"
#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::http_client {
namespace {

using namespace std::chrono_literals;
using redis::testing::run;
using redis::testing::run_until;

class HttpClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = std::make_unique<http::Server>(
            http::ServerConfig{}, core::SystemClock::instance(), [](boost::asio::io_context& io, std::size_t) {
                auto router = std::make_shared<http::Router>(core::SystemClock::instance());
                router->add(http::Method::kGet, "/ok", [](http::Request& r) -> boost::asio::awaitable<http::Response> {
                    http::Response res;
                    res.body = std::string("hello ") + std::string(r.header("x-test").value_or("-"));
                    co_return res;
                });
                router->add(http::Method::kGet, "/slow", [&io](http::Request&) -> boost::asio::awaitable<http::Response> {
                    boost::asio::steady_timer t(io, 500ms);
                    co_await t.async_wait(boost::asio::use_awaitable);
                    co_return http::Response{};
                });
                router->add(http::Method::kGet, "/big", [](http::Request&) -> boost::asio::awaitable<http::Response> {
                    http::Response res;
                    res.body = std::string(10000, 'x');
                    co_return res;
                });
                http::WorkerHooks hooks;
                hooks.handler = [router](http::Request& r) { return router->async_dispatch(r); };
                return hooks;
            });
        auto port = server_->listen();
        ASSERT_TRUE(port);
        port_ = *port;
        server_->start();
    }
    void TearDown() override {
        client_.reset();
        server_->request_stop(1s);
        server_->wait();
    }

    Client& client(ClientConfig cfg = {}) {
        cfg.port = cfg.port == 80 ? port_ : cfg.port;
        client_ = std::make_unique<Client>(io_.get_executor(), cfg, core::SystemClock::instance());
        return *client_;
    }

    core::Result<Response> get(std::string_view target, core::Deadline dl = core::Deadline::never(),
                               RequestControl control = {}) {
        const Header h[] = {{"X-Test", "t1"}};
        auto r = run(io_, client_->async_request("GET", target, {}, h, dl, control), 10s);
        return r ? std::move(*r) : core::Result<Response>(core::make_error(core::Errc::kInternal));
    }

    boost::asio::io_context io_;
    std::unique_ptr<http::Server> server_;
    std::unique_ptr<Client> client_;
    std::uint16_t port_ = 0;
};

TEST_F(HttpClientTest, ReusesOneKeepAliveConnection) {
    client();
    for (int i = 0; i < 10; ++i) {
        auto r = get("/ok");
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "hello t1");
    }
    EXPECT_EQ(client_->stats().connections_created_total.load(), 1U);
    EXPECT_EQ(server_->stats().connections_accepted_total.load(), 1U);
}

TEST_F(HttpClientTest, TimeoutFailsFastAndClosesTheConnection) {
    client();
    const auto t0 = std::chrono::steady_clock::now();
    auto r = get("/slow", core::Deadline::never(), RequestControl{100ms});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::Errc::kTimeout);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 400ms);
    EXPECT_EQ(client_->stats().connections_open.load(), 0);
    EXPECT_TRUE(moneta::testing::wait_until([&] { return server_->stats().connections_active.load() == 0; }, 2s, "server saw the close"));
}

TEST_F(HttpClientTest, ExpiredDeadlineSendsNothing) {
    client();
    auto dl = core::Deadline::after(core::SystemClock::instance(), -1ms);
    auto r = get("/ok", dl);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::Errc::kDeadlineExceeded);
    EXPECT_EQ(server_->stats().requests_total.load(), 0U);
}

TEST_F(HttpClientTest, ConnectRefused) {
    ClientConfig cfg;
    cfg.port = moneta::testing::free_port();
    client(cfg);
    auto r = get("/ok");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::Errc::kConnectFailed);
}

TEST_F(HttpClientTest, OversizedResponseIsAProtocolError) {
    ClientConfig cfg;
    cfg.max_response_bytes = 1000;
    client(cfg);
    auto r = get("/big");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::Errc::kProtocolError);
}

TEST_F(HttpClientTest, PoolAndWaitQueueAreBounded) {
    ClientConfig cfg;
    cfg.max_connections = 2;
    cfg.max_pending = 2;
    client(cfg);
    int ok = 0;
    int overloaded = 0;
    int done = 0;
    for (int i = 0; i < 6; ++i) {
        boost::asio::co_spawn(io_, [&]() -> boost::asio::awaitable<void> {
            auto r = co_await client_->async_request("GET", "/slow", {}, {}, core::Deadline::never(), RequestControl{3s});
            if (r && r->status == 200) {
                ++ok;
            } else if (!r && r.error() == core::Errc::kOverloaded) {
                ++overloaded;
            }
            ++done;
        }, boost::asio::detached);
    }
    ASSERT_TRUE(run_until(io_, [&] { return done == 6; }, 10s));
    EXPECT_EQ(ok, 4);          // 2 at once, then the 2 waiters
    EXPECT_EQ(overloaded, 2);  // beyond max_pending: refused at once
    EXPECT_LE(client_->stats().connections_created_total.load(), 2U);
}

}  // namespace
}  // namespace moneta::http_client
