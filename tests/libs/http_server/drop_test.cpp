// Response::drop (fault injection): nothing is written and the connection is reset, also in the
// middle of a keep-alive connection that already carried a normal response.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>

#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/testing/http.hpp"

namespace moneta::http {
namespace {

using namespace std::chrono_literals;

class DropTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = std::make_unique<Server>(
            ServerConfig{},
            core::SystemClock::instance(),
            [](boost::asio::io_context&, std::size_t) {
                auto router = std::make_shared<Router>(core::SystemClock::instance());
                router->add(Method::kGet, "/ok", [](Request&) -> boost::asio::awaitable<Response> {
                    Response r;
                    r.body = "ok";
                    co_return r;
                });
                router
                    ->add(Method::kGet, "/drop", [](Request&) -> boost::asio::awaitable<Response> {
                        Response r;
                        r.body = "must never be sent";
                        r.drop = true;
                        co_return r;
                    });
                WorkerHooks hooks;
                hooks.handler = [router](Request& r) { return router->async_dispatch(r); };
                return hooks;
            }
        );
        auto port = server_->listen();
        ASSERT_TRUE(port) << port.error().message();
        port_ = *port;
        server_->start();
    }

    void TearDown() override {
        server_->request_stop(1s);
        server_->wait();
    }

    std::unique_ptr<Server> server_;
    std::uint16_t port_ = 0;
};

TEST_F(DropTest, DroppedResponseSendsNoBytesAndClosesTheConnection) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string raw =
        testing::raw_exchange(port_, "GET /drop HTTP/1.1\r\nHost: x\r\n\r\n", 5s);
    EXPECT_EQ(raw, "");
    // Closed by the server, not by the 5 s client timeout.
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(DropTest, DropOnAKeepAliveConnectionAfterANormalResponse) {
    testing::HttpConnection c(port_);
    ASSERT_TRUE(c.is_open());
    const auto first = c.call("GET", "/ok");
    ASSERT_EQ(first.status, 200) << first.error;
    EXPECT_EQ(first.body, "ok");
    const auto second = c.call("GET", "/drop", {}, {}, 5s);
    EXPECT_EQ(second.status, 0);
    EXPECT_FALSE(second.error.empty());
    EXPECT_EQ(second.error.find("timed out"), std::string::npos) << second.error;
    EXPECT_FALSE(c.is_open());
    EXPECT_EQ(server_->stats().requests_total.load(), 2U);
    // The server keeps serving new connections.
    EXPECT_EQ(testing::http_call(port_, "GET", "/ok").status, 200);
}

}  // namespace
}  // namespace moneta::http
