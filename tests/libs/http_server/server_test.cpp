// The server over real sockets: framing strictness (connection closed after a malformed
// request, no smuggled second response), limits, timeouts, request context and drain.
#include "moneta/http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iterator>
#include <memory>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "moneta/http/router.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::http {
namespace {

using namespace std::chrono_literals;
using testing::HttpConnection;

int count_status_lines(const std::string& raw) {
    static const std::regex kStatusLine("HTTP/1\\.[01] [1-5][0-9][0-9] ");
    return static_cast<int>(std::distance(std::sregex_iterator(raw.begin(), raw.end(), kStatusLine),
                                          std::sregex_iterator()));
}

std::string big_body(std::size_t n) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
    }
    return out;
}

class ServerTest : public ::testing::Test {
protected:
    void start(std::size_t threads = 1, ServerTimeouts timeouts = {}) {
        ServerConfig cfg;
        cfg.threads = threads;
        cfg.timeouts = timeouts;
        server_ = std::make_unique<Server>(cfg, core::SystemClock::instance(),
                                           [this](boost::asio::io_context& io, std::size_t) {
                                               return make_worker(io);
                                           });
        auto port = server_->listen();
        ASSERT_TRUE(port) << port.error().message();
        port_ = *port;
        server_->start();
    }

    WorkerHooks make_worker(boost::asio::io_context& io) {
        auto router = std::make_shared<Router>(core::SystemClock::instance());
        router->add(Method::kPost, "/echo", [](Request& r) -> boost::asio::awaitable<Response> {
            Response res;
            res.body = std::string(r.body());
            co_return res;
        });
        router->add(Method::kGet, "/ctx", [](Request& r) -> boost::asio::awaitable<Response> {
            Response res;
            const auto left = r.context().deadline.time_left(core::SystemClock::instance());
            res.body = r.context().request_id + " " + r.context().trace.trace_id_hex() + " " +
                       std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
            co_return res;
        });
        router->add(Method::kGet, "/slow", [&io](Request&) -> boost::asio::awaitable<Response> {
            boost::asio::steady_timer t(io, 300ms);
            co_await t.async_wait(boost::asio::use_awaitable);
            Response res;
            res.body = "slow-done";
            co_return res;
        });
        // Writes its body (the request body repeated @p n times, n from the query) into the
        // connection's recycled response buffer.
        router->add(Method::kPost, "/repeat", [this](Request& r) -> boost::asio::awaitable<Response> {
            Response res;
            res.body = r.take_response_buffer();
            buffer_capacities_.push_back(res.body.capacity());
            const int n = std::stoi(std::string(r.query()));
            for (int i = 0; i < n; ++i) {
                res.body += r.body();
            }
            co_return res;
        });
        // A body of n MiB (n from the query) whose every byte depends on its offset: a response
        // far larger than the socket buffers, written in many parts.
        router->add(Method::kGet, "/big", [](Request& r) -> boost::asio::awaitable<Response> {
            Response res;
            res.body = big_body(static_cast<std::size_t>(std::stoi(std::string(r.query()))) << 20U);
            co_return res;
        });
        router->add(Method::kGet, "/throw", [](Request&) -> boost::asio::awaitable<Response> {
            throw std::runtime_error("boom");
            co_return Response{};
        });
        WorkerHooks hooks;
        hooks.handler = [router](Request& r) { return router->async_dispatch(r); };
        hooks.on_drained = [this] { ++drained_; };
        return hooks;
    }

    void TearDown() override {
        if (server_) {
            server_->request_stop(1s);
            server_->wait();
        }
    }

    std::unique_ptr<Server> server_;
    std::uint16_t port_ = 0;
    std::atomic<int> drained_{0};
    std::vector<std::size_t> buffer_capacities_;  ///< written by the (one) worker, read after it stopped
};

TEST_F(ServerTest, ServesKeepAliveRequestsInOrder) {
    start();
    HttpConnection c(port_);
    for (int i = 0; i < 3; ++i) {
        const auto r = c.call("POST", "/echo", "body" + std::to_string(i), {{"Content-Type", "text/plain"}});
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "body" + std::to_string(i));
        EXPECT_TRUE(r.header("X-Request-Id").has_value());
        EXPECT_TRUE(r.header("Date").has_value());
        EXPECT_FALSE(r.header("Server").has_value());
    }
    EXPECT_EQ(server_->stats().connections_accepted_total.load(), 1U);
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
    start();
    const std::string raw = testing::raw_exchange(
        port_,
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nonePOST /echo HTTP/1.1\r\nHost: x\r\n"
        "Transfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        2s);
    EXPECT_EQ(count_status_lines(raw), 3);
    const auto one = raw.find("one");
    const auto two = raw.find("two");
    ASSERT_NE(one, std::string::npos);
    ASSERT_NE(two, std::string::npos);
    EXPECT_LT(one, two);
}

TEST_F(ServerTest, ARecycledResponseBufferKeepsEveryResponseOfAConnectionIntact) {
    start();
    // Pipelined in one write: a long body, a short one (into the long one's storage), an echo
    // (a body of its own), then a long one again. Each response must be exactly its own body.
    const std::string raw = testing::raw_exchange(
        port_,
        "POST /repeat?40 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
        "POST /repeat?1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\necho"
        "POST /repeat?30 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nkl",
        2s);
    std::string_view rest = raw;
    std::vector<std::string> bodies;
    while (auto reply = testing::parse_http_reply(rest)) {
        bodies.push_back(reply->body);
        const auto next = rest.find("HTTP/1.1 ", 1);
        if (next == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(next);
    }
    ASSERT_EQ(bodies.size(), 4U) << raw;
    std::string forty;
    for (int i = 0; i < 40; ++i) {
        forty += "abcde";
    }
    std::string thirty;
    for (int i = 0; i < 30; ++i) {
        thirty += "kl";
    }
    EXPECT_EQ(bodies[0], forty);
    EXPECT_EQ(bodies[1], "xyz");
    EXPECT_EQ(bodies[2], "echo");
    EXPECT_EQ(bodies[3], thirty);
    server_->request_stop(1s);
    server_->wait();
    // The second and the last handler got the first one's storage back (200 bytes or more).
    ASSERT_EQ(buffer_capacities_.size(), 3U);
    EXPECT_LT(buffer_capacities_[0], 200U);
    EXPECT_GE(buffer_capacities_[1], 200U);
    EXPECT_GE(buffer_capacities_[2], 200U);
    server_.reset();
}

// The recycled buffer is bounded: a body past Request::kMaxRecycledBody is sent but not kept
// for the connection's life (a connection would otherwise hold its largest body forever).
TEST_F(ServerTest, ARecycledResponseBufferIsNotKeptPastItsBound) {
    start();
    const std::size_t big = Request::kMaxRecycledBody + 4096;  // 16 bytes a repeat
    const std::string raw = testing::raw_exchange(
        port_,
        "POST /repeat?" + std::to_string(big / 16) +
            " HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n0123456789abcdef"
            "POST /repeat?1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        5s);
    std::string_view rest = raw;
    const auto first = testing::parse_http_reply(rest);
    ASSERT_TRUE(first.has_value()) << raw.substr(0, 200);
    EXPECT_EQ(first->body.size(), big);  // sent whole
    EXPECT_NE(raw.find("\r\n\r\nok"), std::string::npos);
    server_->request_stop(1s);
    server_->wait();
    // The second request got no storage of the first one's size back.
    ASSERT_EQ(buffer_capacities_.size(), 2U);
    EXPECT_LT(buffer_capacities_[1], Request::kMaxRecycledBody);
    server_.reset();
}

TEST_F(ServerTest, MalformedRequestsGetAnErrorAndTheConnectionIsClosed) {
    start();
    struct Case {
        const char* bytes;
        int status;
    };
    const Case cases[] = {
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabcGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 501},
        {"GET /ctx HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /v1/../ctx HTTP/1.1\r\nHost: x\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /v1/%2e%2e/ctx HTTP/1.1\r\nHost: x\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /ctx HTTP/2.0\r\nHost: x\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 505},
        {"GET http://evil/ctx HTTP/1.1\r\nHost: x\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        // Trailer fields (fuzz finding): Beast merged them into the headers, past the strict checks.
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nHost: y\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nAuthorization: Bearer t\r\n\r\nGET /ctx HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    };
    for (const Case& c : cases) {
        const std::string raw = testing::raw_exchange(port_, c.bytes, 2s);
        const auto reply = testing::parse_http_reply(raw);
        ASSERT_TRUE(reply.has_value()) << c.bytes << "\n--- got: " << raw;
        EXPECT_EQ(reply->status, c.status) << c.bytes;
        EXPECT_EQ(count_status_lines(raw), 1) << "smuggled second response for: " << c.bytes;
        EXPECT_NE(reply->body.find("\"error\""), std::string::npos);
    }
}

TEST_F(ServerTest, EnforcesSizeLimits) {
    start();
    // Body over 16 KiB announced by Content-Length: refused before the body is sent.
    HttpConnection c(port_);
    ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16385\r\n\r\n"));
    const auto big = c.read_reply(2s);
    EXPECT_EQ(big.status, 413);
    EXPECT_TRUE(c.peer_closed(1s));
    // Chunked body that grows past the limit.
    std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) {
        chunked += "1000\r\n" + std::string(4096, 'a') + "\r\n";
    }
    chunked += "0\r\n\r\n";
    EXPECT_EQ(testing::parse_http_reply(testing::raw_exchange(port_, chunked, 2s))->status, 413);
    // Exactly 16 KiB is fine.
    const auto ok = testing::http_call(port_, "POST", "/echo", std::string(16384, 'b'));
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body.size(), 16384U);
    // URI and headers.
    EXPECT_EQ(testing::http_call(port_, "GET", "/" + std::string(3000, 'u')).status, 414);
    EXPECT_EQ(testing::http_call(port_, "GET", "/ctx", {}, {{"X-Big", std::string(9000, 'h')}}).status, 431);
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedUseTheErrorModel) {
    start();
    const auto nf = testing::http_call(port_, "GET", "/nope");
    EXPECT_EQ(nf.status, 404);
    EXPECT_NE(nf.body.find("\"NOT_FOUND\""), std::string::npos);
    const auto na = testing::http_call(port_, "PUT", "/echo", "x");
    EXPECT_EQ(na.status, 405);
    EXPECT_EQ(na.header("Allow"), "POST");
    const auto head = testing::http_call(port_, "HEAD", "/ctx");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
}

TEST_F(ServerTest, FillsTheRequestContextFromHeaders) {
    start();
    const auto r = testing::http_call(
        port_, "GET", "/ctx", {},
        {{"X-Request-Id", "req-123"},
         {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
         {"X-Request-Timeout-Ms", "150"}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("X-Request-Id"), "req-123");
    EXPECT_NE(r.body.find("req-123 4bf92f3577b34da6a3ce929d0e0e4736 "), std::string::npos) << r.body;
    const int left = std::stoi(r.body.substr(r.body.rfind(' ') + 1));
    EXPECT_LE(left, 150);
    EXPECT_GT(left, 0);
    const auto bad_id = testing::http_call(port_, "GET", "/ctx", {}, {{"X-Request-Id", "bad id!"}});
    EXPECT_NE(bad_id.header("X-Request-Id"), "bad id!");
    EXPECT_EQ(bad_id.header("X-Request-Id")->size(), 32U);
}

// A response far larger than the socket buffers goes out in many sends, each from the right
// offset; the connection then serves its next request.
TEST_F(ServerTest, AResponseLargerThanTheSocketBuffersArrivesWhole) {
    start();
    const std::string raw = testing::raw_exchange(
        port_,
        "GET /big?24 HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nafter",
        10s);
    std::string_view rest = raw;
    const auto big = testing::parse_http_reply(rest);
    ASSERT_TRUE(big.has_value()) << raw.size() << " bytes received";
    EXPECT_EQ(big->status, 200);
    ASSERT_EQ(big->body.size(), 24U << 20U);
    EXPECT_TRUE(big->body == big_body(24U << 20U)) << "the body's bytes differ";
    const auto next = rest.find("HTTP/1.1 ", 1);  // the body is letters only
    ASSERT_NE(next, std::string_view::npos);
    rest.remove_prefix(next);
    const auto echo = testing::parse_http_reply(rest);
    ASSERT_TRUE(echo.has_value());
    EXPECT_EQ(echo->body, "after");
}

// A client that stops reading holds a response write for the write timeout, no longer.
TEST_F(ServerTest, AResponseTheClientDoesNotReadTimesOut) {
    ServerTimeouts t;
    t.write = 300ms;
    start(1, t);
    HttpConnection stalled(port_);
    ASSERT_TRUE(stalled.send_raw("GET /big?24 HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(testing::wait_until([&] { return server_->stats().timeouts_total.load() >= 1; }, 5s,
                                    "the write timed out"));
    // The worker is free: another client is served.
    HttpConnection other(port_);
    const auto r = other.call("POST", "/echo", "still here", {{"Content-Type", "text/plain"}});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.body, "still here");
}

TEST_F(ServerTest, SlowHeadersAndIdleConnectionsAreClosed) {
    ServerTimeouts t;
    t.header_read = 300ms;
    t.idle = 500ms;
    start(1, t);
    HttpConnection slow(port_);
    ASSERT_TRUE(slow.send_raw("GET /ctx HTTP/1.1\r\nHo"));
    const auto started = std::chrono::steady_clock::now();
    // Trickling bytes does not extend the total header budget.
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(100ms);
        slow.send_raw("s");
    }
    // Closed without a response (like nginx's client_header_timeout), within the budget.
    EXPECT_TRUE(slow.peer_closed(2s));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);

    HttpConnection idle(port_);
    ASSERT_TRUE(idle.call("GET", "/ctx").ok());
    EXPECT_TRUE(idle.peer_closed(2s));
    EXPECT_GE(server_->stats().timeouts_total.load(), 1U);
}

TEST_F(ServerTest, AChunkedBodyWhoseLastChunkArrivesInPiecesIsServed) {
    // Fuzz finding (fuzz/regressions/http_request): fed "0\r\n", then "0\r\n\r", Beast 1.81's
    // chunk parser asserts n >= 5 (boostorg/beast#2861); a debug build of the server aborted.
    start();
    HttpConnection c(port_);
    ASSERT_TRUE(c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    for (std::string_view piece : {"0\r\n", "\r", "\n"}) {
        std::this_thread::sleep_for(50ms);  // the attack: each piece is a separate read
        ASSERT_TRUE(c.send_raw(piece));
    }
    const auto reply = c.read_reply();
    EXPECT_EQ(reply.status, 200) << reply.error;
    EXPECT_EQ(reply.body, "");
    HttpConnection later(port_);
    EXPECT_EQ(later.call("POST", "/echo", "x").status, 200);
}

TEST_F(ServerTest, HandlerExceptionIsA500AndTheServerKeepsServing) {
    start();
    EXPECT_EQ(testing::http_call(port_, "GET", "/throw").status, 500);
    EXPECT_EQ(testing::http_call(port_, "GET", "/ctx").status, 200);
    EXPECT_EQ(server_->stats().handler_exceptions_total.load(), 1U);
}

TEST_F(ServerTest, GracefulStopFinishesInFlightAndClosesIdle) {
    start(2);
    HttpConnection idle(port_);
    ASSERT_TRUE(idle.call("GET", "/ctx").ok());
    HttpConnection busy(port_);
    ASSERT_TRUE(busy.send_raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(testing::wait_until([&] { return server_->stats().requests_in_flight.load() == 1; }, 2s, "in flight"));
    server_->request_stop(5s);
    const auto reply = busy.read_reply(3s);
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "slow-done");
    EXPECT_EQ(reply.header("Connection"), "close");
    EXPECT_TRUE(idle.peer_closed(2s));
    server_->wait();
    EXPECT_EQ(drained_.load(), 2);
    server_.reset();
}

TEST_F(ServerTest, TwoWorkersServeConcurrentClients) {
    start(2);
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
        clients.emplace_back([&] {
            HttpConnection c(port_);
            for (int j = 0; j < 25; ++j) {
                if (c.call("POST", "/echo", "x").status == 200) {
                    ++ok;
                }
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 200);
}

}  // namespace
}  // namespace moneta::http
