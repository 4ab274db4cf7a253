// The server's own I/O over real sockets (issue 11): bodies taken from the bytes already read or
// read in pieces, a body larger than the connection's first buffer (the buffer grows and the
// head is re-parsed where it moved), the per-worker deadline sweep (body and idle timeouts
// without a timer per operation), HTTP/1.0 keep-alive, and per-worker stats summed on read.
#include "moneta/http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>

#include "moneta/http/router.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::http {
namespace {

using namespace std::chrono_literals;
using testing::HttpConnection;

class IoTest : public ::testing::Test {
protected:
    void start(ServerConfig cfg = {}) {
        server_ = std::make_unique<Server>(cfg, core::SystemClock::instance(),
                                           [](boost::asio::io_context&, std::size_t) {
            auto router = std::make_shared<Router>(core::SystemClock::instance());
            router->add(Method::kPost, "/echo", [](Request& r) -> boost::asio::awaitable<Response> {
                Response res;
                res.body = std::string(r.body());
                if (auto h = r.header("x-probe")) {
                    res.headers.emplace_back("X-Probe", std::string(*h));
                }
                co_return res;
            });
            router->add(Method::kGet, "/ok", [](Request&) -> boost::asio::awaitable<Response> {
                Response res;
                res.body = "ok";
                co_return res;
            });
            WorkerHooks hooks;
            hooks.handler = [router](Request& r) { return router->async_dispatch(r); };
            return hooks;
        });
        auto port = server_->listen();
        ASSERT_TRUE(port) << port.error().message();
        port_ = *port;
        server_->start();
    }

    void TearDown() override {
        if (server_) {
            server_->request_stop(1s);
            server_->wait();
        }
    }

    std::unique_ptr<Server> server_;
    std::uint16_t port_ = 0;
};

TEST_F(IoTest, ABodyArrivingInPiecesIsAssembledAndTheHeadersStayValid) {
    start();
    HttpConnection c(port_);
    ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nX-Probe: still-here\r\nContent-Length: 10\r\n\r\n01"));
    std::this_thread::sleep_for(30ms);  // the attack shape: each piece a separate read
    ASSERT_TRUE(c.send_raw("2345"));
    std::this_thread::sleep_for(30ms);
    ASSERT_TRUE(c.send_raw("6789"));
    const auto r = c.read_reply(2s);
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "0123456789");
    EXPECT_EQ(r.header("X-Probe"), "still-here");
}

TEST_F(IoTest, ABodyLargerThanTheFirstBufferMovesTheHeadAndKeepsItsViews) {
    ServerConfig cfg;
    cfg.limits.body_bytes = 1024 * 1024;  // the internal API's batch limit
    start(cfg);
    std::string body(300 * 1024, 'b');
    for (std::size_t i = 0; i < body.size(); i += 997) {
        body[i] = static_cast<char>('a' + (i % 26));
    }
    HttpConnection c(port_);
    for (int round = 0; round < 2; ++round) {  // the grown buffer is kept and reused
        const auto r = c.call("POST", "/echo", body, {{"X-Probe", "moved-" + std::to_string(round)}});
        ASSERT_EQ(r.status, 200) << r.error;
        EXPECT_EQ(r.body, body);
        EXPECT_EQ(r.header("X-Probe"), "moved-" + std::to_string(round));
    }
    // The same through the chunked decoder, pipelined with a request behind it.
    std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Probe: chunked\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t i = 0; i < body.size(); i += 50000) {
        const std::size_t n = std::min<std::size_t>(50000, body.size() - i);
        char size[16];
        std::snprintf(size, sizeof size, "%zx", n);
        chunked += std::string(size) + "\r\n" + body.substr(i, n) + "\r\n";
    }
    chunked += "0\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const std::string raw = testing::raw_exchange(port_, chunked, 5s);
    const auto first = testing::parse_http_reply(raw);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 200);
    EXPECT_EQ(first->body, body);
    EXPECT_EQ(first->header("X-Probe"), "chunked");
    EXPECT_NE(raw.find("\r\n\r\nok"), std::string::npos) << "the pipelined request was not answered";
}

TEST_F(IoTest, AChunkedBodyExactlyAtTheLimitIsServedAndOneByteMoreIs413) {
    start();  // body_bytes 16 KiB, the read buffer starts at 12 KiB and grows
    auto chunked = [](std::size_t total) {
        std::string s = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::size_t done = 0; done < total;) {
            const std::size_t n = std::min<std::size_t>(1000, total - done);
            char size[64];
            std::snprintf(size, sizeof size, "%zx;ext=\"%zu\"", n, done);
            s += std::string(size) + "\r\n" + std::string(n, 'c') + "\r\n";
            done += n;
        }
        return s + "0\r\n\r\n";
    };
    HttpConnection c(port_);
    ASSERT_TRUE(c.send_raw(chunked(16384)));
    const auto ok = c.read_reply(2s);
    EXPECT_EQ(ok.status, 200) << ok.error;
    EXPECT_EQ(ok.body, std::string(16384, 'c'));
    ASSERT_TRUE(c.send_raw(chunked(16385)));
    EXPECT_EQ(c.read_reply(2s).status, 413);
    EXPECT_TRUE(c.peer_closed(1s));
}

TEST_F(IoTest, TheSweepClosesASlowBodyAndAnIdleConnection) {
    ServerConfig cfg;
    cfg.timeouts.body_read = 200ms;
    cfg.timeouts.idle = 300ms;
    start(cfg);
    HttpConnection slow(port_);
    ASSERT_TRUE(slow.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab"));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(slow.peer_closed(2s));
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 150ms);   // not before the body budget (minus the sweep's granularity)
    EXPECT_LT(waited, 1000ms);  // and not much after
    EXPECT_TRUE(testing::wait_until([&] { return server_->stats().timeouts_total.load() >= 1; }, 2s, "timeout counted"));
    EXPECT_EQ(server_->stats().requests_total.load(), 0U);

    HttpConnection idle(port_);
    ASSERT_EQ(idle.call("GET", "/ok").status, 200);
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_TRUE(idle.peer_closed(2s));
    EXPECT_GE(std::chrono::steady_clock::now() - t1, 200ms);
    EXPECT_TRUE(testing::wait_until([&] { return server_->stats().timeouts_total.load() >= 2; }, 2s, "idle counted"));
}

TEST_F(IoTest, Http10KeepAliveIsHonouredAndAnsweredAs10) {
    start();
    HttpConnection c(port_);
    ASSERT_TRUE(c.send_raw("GET /ok HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const auto first = c.read_reply(2s);
    EXPECT_EQ(first.status, 200) << first.error;
    EXPECT_EQ(first.header("Connection"), "keep-alive");
    ASSERT_TRUE(c.send_raw("GET /ok HTTP/1.0\r\n\r\n"));
    const auto second = c.read_reply(2s);
    EXPECT_EQ(second.status, 200) << second.error;
    EXPECT_FALSE(second.header("Connection").has_value());
    EXPECT_TRUE(c.peer_closed(2s));
    const std::string raw = testing::raw_exchange(port_, "GET /ok HTTP/1.0\r\n\r\n", 2s);
    EXPECT_EQ(raw.rfind("HTTP/1.0 200 OK\r\n", 0), 0U) << raw;
}

TEST_F(IoTest, StatsAreCountedPerWorkerAndSummedOnRead) {
    ServerConfig cfg;
    cfg.threads = 2;
    start(cfg);
    std::vector<std::thread> clients;
    for (int i = 0; i < 6; ++i) {
        clients.emplace_back([this] {
            HttpConnection c(port_);
            for (int j = 0; j < 10; ++j) {
                EXPECT_EQ(c.call("GET", "/ok").status, 200);
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    EXPECT_TRUE(testing::wait_until([&] { return server_->stats().requests_total.load() == 60U; }, 2s, "60 requests"));
    EXPECT_EQ(server_->stats().connections_accepted_total.load(), 6U);
    EXPECT_EQ(server_->stats().requests_in_flight.load(), 0);
    EXPECT_TRUE(testing::wait_until([&] { return server_->stats().connections_active.load() == 0; }, 2s, "all closed"));
}

TEST(WorkerServerStatsTest, BlocksSitOnTheirOwnCacheLinesAndMerge) {
    static_assert(alignof(WorkerServerStats) == 64);
    static_assert(sizeof(WorkerServerStats) % 64 == 0);
    WorkerServerStats a;
    WorkerServerStats b;
    bump(a.requests_total);
    bump(b.requests_total, std::uint64_t{2});
    bump(b.requests_in_flight, std::int64_t{1});
    bump(b.requests_in_flight, std::int64_t{-1});
    const WorkerServerStats* blocks[] = {&a, &b};
    const ServerStats merged(blocks);
    EXPECT_EQ(merged.requests_total.load(), 3U);
    EXPECT_EQ(merged.requests_in_flight.load(), 0);
    bump(a.timeouts_total);
    EXPECT_EQ(merged.timeouts_total.load(), 1U);  // read live, not a snapshot
}

}  // namespace
}  // namespace moneta::http
