// handlers::shed_overload: /v1 requests above the worker's adaptive limit are answered 503
// OVERLOADED (+ Retry-After) at once without reaching the handler; probes pass through; only
// answers below 500 feed the controller a latency sample; no way a request ends keeps its slot
// (a handler that throws, a client gone mid-request, a request that never gets a response).
// FakeClock; requests held by a timer the test cancels (no sleeps). The permit is the request's
// end hook, which the server runs with the response's status: spawn() does what it does.
#include "handlers/load_shedding.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <future>
#include <optional>
#include <stdexcept>

#include "moneta/core/clock.hpp"
#include "moneta/http/server.hpp"
#include "moneta/testing/http.hpp"

namespace moneta::handlers {
namespace {

http::Request make(std::string_view target) {
    http::Request r;
    r.set_line(http::Method::kPost, "POST", target);
    return r;
}

class LoadSheddingTest : public ::testing::Test {
protected:
    LoadSheddingTest() {
        resilience::AdaptiveLimitConfig c;
        c.min_concurrency = 1;
        c.max_concurrency_limit = 1;  // exactly one request in flight
        c.min_rtt_request_count = 2;
        limit_.emplace(clock_, c);
        handler_ = shed_overload(
            [this](http::Request& r) -> boost::asio::awaitable<http::Response> {
                ++inner_calls_;
                if (r.path().starts_with("/v1/")) {
                    boost::system::error_code ec;
                    co_await gate_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
                }
                http::Response res;
                res.status = inner_status_;
                co_return res;
            },
            &*limit_, clock_, stats_, &routes_);
        // Only for labelling shed requests: the handler above is what runs.
        routes_.add(http::Method::kPost, "/v1/playback/sessions", nullptr);
        routes_.add(http::Method::kPost, "/v1/playback/sessions/{id}/heartbeat", nullptr);
    }

    /// Starts @p req; its response lands in @p out when the handler returns, and the request
    /// is ended with its status, as the server does.
    void spawn(http::Request& req, std::optional<http::Response>& out) {
        boost::asio::co_spawn(
            io_,
            [&]() -> boost::asio::awaitable<void> {
                out = co_await handler_(req);
                req.end(out->status);
            },
            boost::asio::detached);
        io_.restart();  // poll() stops the context once it runs out of work
        io_.poll();
    }
    /// One /v1 request the handler answers with @p status after 5 ms (fake clock); its status.
    int answer_after_5ms(int status) {
        inner_status_ = status;
        http::Request r = make("/v1/playback/sessions");
        std::optional<http::Response> res;
        spawn(r, res);
        clock_.advance(std::chrono::milliseconds(5));
        release_held();
        return res ? res->status : 0;
    }
    void release_held() {
        gate_.cancel();
        io_.restart();
        io_.poll();
        gate_.expires_at(boost::asio::steady_timer::time_point::max());
    }

    core::FakeClock clock_;
    http::Router routes_{clock_};
    boost::asio::io_context io_;
    boost::asio::steady_timer gate_{io_, boost::asio::steady_timer::time_point::max()};
    std::optional<resilience::AdaptiveLimit> limit_;
    SheddingStats stats_;
    http::Handler handler_;
    int inner_calls_ = 0;
    int inner_status_ = 200;
};

TEST_F(LoadSheddingTest, AboveTheLimitAnswers503OverloadedAtOnceWithoutCallingTheHandler) {
    http::Request first = make("/v1/playback/sessions");
    std::optional<http::Response> first_res;
    spawn(first, first_res);
    ASSERT_FALSE(first_res) << "held by the gate";
    EXPECT_EQ(limit_->state().outstanding, 1U);

    http::Request second = make("/v1/playback/sessions/ps_1/heartbeat");
    std::optional<http::Response> second_res;
    spawn(second, second_res);
    ASSERT_TRUE(second_res) << "a shed request must not wait";
    EXPECT_EQ(second_res->status, 503);
    EXPECT_EQ(second.route_id(), 1) << "a shed request is counted under its route";
    const auto body = boost::json::parse(second_res->body).as_object();
    EXPECT_EQ(body.at("error").at("code").as_string(), "OVERLOADED");
    EXPECT_TRUE(body.at("error").at("retryable").as_bool());
    bool retry_after = false;
    for (const auto& [name, value] : second_res->headers) {
        retry_after = retry_after || (name == "Retry-After" && value == "1");
    }
    EXPECT_TRUE(retry_after);
    EXPECT_EQ(inner_calls_, 1);
    EXPECT_EQ(stats_.shed_total.load(), 1U);

    // Probes and metrics are never shed, even at the limit.
    http::Request probe = make("/readyz");
    std::optional<http::Response> probe_res;
    spawn(probe, probe_res);
    ASSERT_TRUE(probe_res);
    EXPECT_EQ(probe_res->status, 200);

    release_held();
    ASSERT_TRUE(first_res);
    EXPECT_EQ(first_res->status, 200);
    EXPECT_EQ(limit_->state().outstanding, 0U);
    // The slot is free again.
    http::Request third = make("/v1/me/progress");
    std::optional<http::Response> third_res;
    spawn(third, third_res);
    EXPECT_FALSE(third_res);
    EXPECT_EQ(limit_->state().outstanding, 1U);
    release_held();
    EXPECT_TRUE(third_res);
}

TEST_F(LoadSheddingTest, OnlyAnswersBelow500FeedTheController) {
    // minRTT is measured over the first 2 samples: 5xx answers (dependencies failing fast) are
    // not samples, so they cannot teach the limit that latency is low.
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(answer_after_5ms(503), 503);
    }
    EXPECT_FALSE(limit_->state().min_rtt.has_value());
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(answer_after_5ms(200), 200);
    }
    ASSERT_TRUE(limit_->state().min_rtt.has_value());
    EXPECT_EQ(*limit_->state().min_rtt, std::chrono::milliseconds(5));
    EXPECT_EQ(stats_.shed_total.load(), 0U);
}

TEST_F(LoadSheddingTest, ARequestThatEndsWithoutAResponseFreesItsSlotWithoutASample) {
    {
        http::Request req = make("/v1/playback/sessions");
        boost::asio::awaitable<http::Response> pending = handler_(req);  // admitted
        EXPECT_EQ(limit_->state().outstanding, 1U);
        // Never awaited to its end: as when the connection's coroutine is destroyed mid-request
        // (its frames, then its Request, go).
    }
    EXPECT_EQ(limit_->state().outstanding, 0U);
    EXPECT_FALSE(limit_->state().min_rtt.has_value()) << "no response, no latency sample";
    EXPECT_EQ(answer_after_5ms(200), 200) << "the slot is free again";
}

// Through a real server: its catch of a throwing handler and a client that leaves while its
// request is in the handler (the server answers into a closed socket) both end the request.
TEST_F(LoadSheddingTest, ThroughTheServerAThrowingHandlerOrAGoneClientFreesItsSlot) {
    std::promise<void> held;
    std::promise<int> accessed;
    boost::asio::io_context* worker_io = nullptr;
    std::optional<boost::asio::steady_timer> gate;
    http::Server server({}, core::SystemClock::instance(), [&](boost::asio::io_context& io, std::size_t) {
        worker_io = &io;
        gate.emplace(io, boost::asio::steady_timer::time_point::max());
        http::WorkerHooks hooks;
        hooks.handler = shed_overload(
            [&](http::Request& r) -> boost::asio::awaitable<http::Response> {
                if (r.path() == "/v1/throw") {
                    throw std::runtime_error("handler failure");
                }
                held.set_value();
                boost::system::error_code ec;
                co_await gate->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
                co_return http::Response{};
            },
            &*limit_, clock_, stats_);
        hooks.on_access = [&](const http::AccessRecord& rec) {
            if (rec.request.path() == "/v1/held") {
                accessed.set_value(rec.status);
            }
        };
        return hooks;
    });
    struct DropGate {  // before the server and its io_context, on every way out of the test
        std::optional<boost::asio::steady_timer>& gate;
        ~DropGate() { gate.reset(); }
    } drop_gate{gate};
    const auto port = server.listen();
    ASSERT_TRUE(port);
    server.start();

    EXPECT_EQ(testing::http_call(*port, "POST", "/v1/throw", "{}").status, 500);
    EXPECT_EQ(limit_->state().outstanding, 0U) << "the handler threw: its slot is free";

    {
        testing::HttpConnection conn(*port);
        ASSERT_TRUE(conn.send_raw("POST /v1/held HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
        ASSERT_EQ(held.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready)
            << "admitted: the throwing request did not keep the only slot";
        EXPECT_EQ(limit_->state().outstanding, 1U);
        conn.close();
    }
    boost::asio::post(*worker_io, [&] { gate->cancel(); });
    auto done = accessed.get_future();
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(done.get(), 200);
    EXPECT_EQ(limit_->state().outstanding, 0U) << "the client left: its request's slot is free";
    EXPECT_EQ(stats_.shed_total.load(), 0U);
    server.request_stop(std::chrono::seconds(1));
    server.wait();
}

TEST_F(LoadSheddingTest, WithoutALimitTheHandlerIsReturnedUnwrapped) {
    SheddingStats stats;
    int calls = 0;
    http::Handler inner = [&calls](http::Request&) -> boost::asio::awaitable<http::Response> {
        ++calls;
        co_return http::Response{};
    };
    http::Handler h = shed_overload(inner, nullptr, clock_, stats);
    http::Request r = make("/v1/playback/sessions");
    std::optional<http::Response> res;
    boost::asio::co_spawn(
        io_, [&]() -> boost::asio::awaitable<void> { res = co_await h(r); }, boost::asio::detached);
    io_.poll();
    EXPECT_TRUE(res);
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace moneta::handlers
