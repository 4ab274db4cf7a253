// Heap allocations the server makes per request in steady state (issue 11: zero). Its own test
// binary, because it replaces the global operator new to count the allocations of the worker
// thread only (the test's client thread allocates freely).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <memory>
#include <new>

#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/counting_new.hpp"  // this binary's operator new

namespace moneta::http {
namespace {

using namespace std::chrono_literals;

class AllocTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = std::make_unique<Server>(ServerConfig{}, core::SystemClock::instance(),
                                           [](boost::asio::io_context&, std::size_t) {
            auto router = std::make_shared<Router>(core::SystemClock::instance());
            // Handlers that allocate nothing themselves (SSO bodies), so what is counted is the
            // server's: parse, context, route, serialize, write.
            router->add(Method::kPost, "/v1/playback/sessions/{id}/heartbeat",
                        [](Request& r) -> boost::asio::awaitable<Response> {
                            Response res;
                            res.body = r.body().size() > 5 ? "ok" : "short";
                            co_return res;
                        });
            // A body longer than the string's inline storage, written into the connection's
            // recycled response buffer.
            router->add(Method::kGet, "/v1/me/progress", [](Request& r) -> boost::asio::awaitable<Response> {
                Response res;
                res.body = r.take_response_buffer();
                for (int i = 0; i < 20; ++i) {
                    res.body += R"({"content_id":"m_1"},)";
                }
                co_return res;
            });
            router->add(Method::kGet, "/healthz", [](Request&) -> boost::asio::awaitable<Response> {
                Response res;
                res.body = R"({"ok":1})";
                co_return res;
            });
            WorkerHooks hooks;
            hooks.handler = [router](Request& r) { return router->async_dispatch(r); };
            moneta::testing::count_allocations = true;  // this runs on the worker thread
            return hooks;
        });
        auto port = server_->listen();
        ASSERT_TRUE(port) << port.error().message();
        port_ = *port;
        server_->start();
    }

    void TearDown() override {
        server_->request_stop(1s);
        server_->wait();
    }

    /// Allocations on the worker per request over @p n requests, after @p warm ones.
    double per_request(testing::HttpConnection& c, const std::function<bool()>& call, int warm, int n) {
        const auto at_start = moneta::testing::allocation_count.load();
        for (int i = 0; i < warm; ++i) {
            EXPECT_TRUE(call());
        }
        // The counter works: a new connection allocates its buffers on the worker.
        EXPECT_GT(moneta::testing::allocation_count.load(), at_start);
        const auto before = moneta::testing::allocation_count.load();
        for (int i = 0; i < n; ++i) {
            EXPECT_TRUE(call());
        }
        (void)c;
        const double per = static_cast<double>(moneta::testing::allocation_count.load() - before) / n;
        std::printf("worker allocations per request: %.2f\n", per);
        return per;
    }

    std::unique_ptr<Server> server_;
    std::uint16_t port_ = 0;
};

TEST_F(AllocTest, AHeartbeatShapedRequestAllocatesNothingInSteadyState) {
    testing::HttpConnection c(port_);
    // The headers nginx sends with a heartbeat (a valid X-Request-Id, a traceparent).
    const testing::HttpHeaders headers{
        {"X-Request-Id", "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a"},
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        {"X-Request-Timeout-Ms", "1500"},
        {"Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"},
        {"Content-Type", "application/json"},
        {"User-Agent", "moneta-player/5.2.0"}};
    const std::string body = R"({"position_ms":123456,"state":"playing","bitrate_kbps":4500})";
    const double allocs = per_request(c, [&] {
        return c.call("POST", "/v1/playback/sessions/ps_1/heartbeat", body, headers).status == 200;
    }, 50, 500);
    EXPECT_EQ(allocs, 0.0);
}

TEST_F(AllocTest, AGeneratedRequestIdAndAnEmptyBodyAllocateNothing) {
    testing::HttpConnection c(port_);
    const double allocs = per_request(c, [&] { return c.call("GET", "/healthz").status == 200; }, 50, 500);
    EXPECT_EQ(allocs, 0.0);
}

TEST_F(AllocTest, ABodyWrittenIntoTheRecycledResponseBufferAllocatesNothing) {
    testing::HttpConnection c(port_);
    const double allocs = per_request(c, [&] {
        const auto r = c.call("GET", "/v1/me/progress");
        return r.status == 200 && r.body.size() == 20 * std::string_view(R"({"content_id":"m_1"},)").size();
    }, 50, 500);
    EXPECT_EQ(allocs, 0.0);
}

}  // namespace
}  // namespace moneta::http
