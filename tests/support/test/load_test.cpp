// run_load against a tiny in-test http::Server (statuses, timeouts, resets, refused connects and
// both bounds), and sample_process on this very process.
#include "moneta/testing/load.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstdio>
#include <memory>
#include <mutex>

#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/testing/net.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

class LoadTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = std::make_unique<http::Server>(
            http::ServerConfig{},
            core::SystemClock::instance(),
            [](boost::asio::io_context& io, std::size_t) {
                auto router = std::make_shared<http::Router>(core::SystemClock::instance());
                router->add(
                    http::Method::kGet,
                    "/ok",
                    [](http::Request& r) -> boost::asio::awaitable<http::Response> {
                        http::Response res;
                        res.body = std::string(r.query());
                        co_return res;
                    }
                );
                router->add(
                    http::Method::kGet,
                    "/status/{code}",
                    [](http::Request& r) -> boost::asio::awaitable<http::Response> {
                        http::Response res;
                        const auto code = r.path_param(0);
                        std::from_chars(code.data(), code.data() + code.size(), res.status);
                        co_return res;
                    }
                );
                router->add(
                    http::Method::kGet,
                    "/hang",
                    [&io](http::Request&) -> boost::asio::awaitable<http::Response> {
                        boost::asio::steady_timer t(io, 1s);
                        co_await t.async_wait(boost::asio::use_awaitable);
                        co_return http::Response{};
                    }
                );
                router->add(
                    http::Method::kGet,
                    "/drop",
                    [](http::Request&) -> boost::asio::awaitable<http::Response> {
                        http::Response res;
                        res.drop = true;
                        co_return res;
                    }
                );
                http::WorkerHooks hooks;
                hooks.handler = [router](http::Request& r) { return router->async_dispatch(r); };
                return hooks;
            }
        );
        auto port = server_->listen();
        ASSERT_TRUE(port) << port.error().message();
        port_ = *port;
        server_->start();
    }
    void TearDown() override {
        server_->request_stop(2s);
        server_->wait();
    }

    LoadSpec spec(std::string target) const {
        LoadSpec s;
        s.port = port_;
        s.request = [target](std::size_t, std::uint64_t) {
            LoadRequest r;
            r.target = target;
            return r;
        };
        return s;
    }

    std::unique_ptr<http::Server> server_;
    std::uint16_t port_ = 0;
};

TEST_F(LoadTest, CountsStatusesAndLatenciesUpToTheRequestBound) {
    LoadSpec s;
    s.port = port_;
    s.connections = 4;
    s.max_requests = 200;
    s.request = [](std::size_t conn, std::uint64_t seq) {
        LoadRequest r;
        r.target = seq % 4 == 3 ? "/status/503"
                                : "/ok?c=" + std::to_string(conn) + "&s=" + std::to_string(seq);
        return r;
    };
    std::mutex mu;
    std::uint64_t expected_503 = 0;
    std::uint64_t echoed = 0;
    s.on_response = [&](std::size_t conn, std::uint64_t seq, const HttpReply& reply) {
        std::lock_guard lock(mu);
        if (seq % 4 == 3) {
            ++expected_503;
            EXPECT_EQ(reply.status, 503);
        } else if (reply.body == "c=" + std::to_string(conn) + "&s=" + std::to_string(seq)) {
            ++echoed;  // the right response reached the right callback
        }
    };
    const LoadResult r = run_load(s);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.total, 200U);
    EXPECT_EQ(r.count(503), expected_503);
    EXPECT_EQ(r.count(200), 200U - expected_503);
    EXPECT_EQ(echoed, r.count(200));
    EXPECT_EQ(r.count_range(500, 599), expected_503);
    EXPECT_EQ(r.count(0), 0U);
    EXPECT_EQ(r.connects, 4U);  // keep-alive: one connection per thread
    EXPECT_EQ(server_->stats().connections_accepted_total.load(), 4U);
    EXPECT_EQ(server_->stats().requests_total.load(), 200U);
    EXPECT_EQ(r.all.count, 200U);
    EXPECT_EQ(r.ok.count, r.count(200));
    EXPECT_GT(r.all.max.count(), 0);
    EXPECT_LE(r.all.p50, r.all.p99);
    EXPECT_LE(r.all.p99, r.all.max);
    EXPECT_LE(r.ok.max, r.all.max);
}

TEST_F(LoadTest, TimeoutsAreStatusZeroAndReplaceTheConnection) {
    LoadSpec s = spec("/hang");
    s.connections = 2;
    s.max_requests = 4;
    s.timeout = 150ms;
    const LoadResult r = run_load(s);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.total, 4U);
    EXPECT_EQ(r.count(0), 4U);
    EXPECT_EQ(r.connects, 4U);
    EXPECT_EQ(r.ok.count, 0U);
    EXPECT_GE(r.all.p50, 140ms);  // poll() rounds to whole ms
    EXPECT_LT(r.all.max, 1s);     // the client gave up long before the server's 1 s answer
}

TEST_F(LoadTest, ResetConnectionsAreStatusZeroAndReplaced) {
    LoadSpec s = spec("/drop");
    s.max_requests = 5;
    const LoadResult r = run_load(s);
    EXPECT_EQ(r.count(0), 5U);
    EXPECT_EQ(r.connects, 5U);
    EXPECT_LT(r.all.max, 2s);  // not the 2 s timeout: the reset is seen at once
}

TEST_F(LoadTest, TheDurationBoundStopsEveryConnection) {
    LoadSpec s = spec("/ok");
    s.connections = 3;
    s.duration = 300ms;
    const LoadResult r = run_load(s);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_GE(r.elapsed, 300ms);
    EXPECT_LT(r.elapsed, 300ms + s.timeout + 1s);
    EXPECT_GT(r.count(200), 3U);
    EXPECT_EQ(r.count(200), r.total);
}

TEST(LoadRefusedTest, RefusedConnectsAreStatusZeroAndPaced) {
    LoadSpec s;
    s.port = free_port();  // nothing listens there
    s.duration = 200ms;
    s.request = [](std::size_t, std::uint64_t) { return LoadRequest{}; };
    const LoadResult r = run_load(s);
    EXPECT_GT(r.total, 0U);
    EXPECT_EQ(r.count(0), r.total);
    EXPECT_EQ(r.connects, 0U);
    EXPECT_LE(r.total, 200U / 5U + 2U);  // one try per connect_retry_pause (5 ms)
}

TEST(LoadSpecTest, InvalidSpecsRunNothing) {
    LoadSpec s;
    s.port = 1;
    s.max_requests = 1;
    s.request = [](std::size_t, std::uint64_t) { return LoadRequest{}; };
    for (std::size_t c : {std::size_t{0}, LoadSpec::kMaxConnections + 1}) {
        LoadSpec bad = s;
        bad.connections = c;
        EXPECT_FALSE(run_load(bad).error.empty()) << c;
    }
    LoadSpec unbounded = s;
    unbounded.max_requests = 0;
    EXPECT_FALSE(run_load(unbounded).error.empty());
    LoadSpec no_callback = s;
    no_callback.request = nullptr;
    const LoadResult r = run_load(no_callback);
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.total, 0U);
}

TEST(SampleProcessTest, ReadsFdsRssAndCpuOfALiveProcess) {
    const ProcSample before = sample_process(::getpid());
    ASSERT_TRUE(before.ok);
    EXPECT_GT(before.open_fds, 2U);
    EXPECT_GT(before.rss_kb, 0U);
    EXPECT_GT(before.ticks_per_second, 0);
    std::FILE* f = std::fopen("/proc/self/status", "r");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(sample_process(::getpid()).open_fds, before.open_fds + 1);
    std::fclose(f);
    // Burn CPU until a tick is accounted (bounded by 5 s of wall time).
    const auto limit = std::chrono::steady_clock::now() + 5s;
    volatile std::uint64_t sink = 0;
    ProcSample after = sample_process(::getpid());
    while (after.cpu_ticks == before.cpu_ticks && std::chrono::steady_clock::now() < limit) {
        for (int i = 0; i < 1'000'000; ++i) {
            sink = sink + static_cast<std::uint64_t>(i);
        }
        after = sample_process(::getpid());
    }
    EXPECT_GT(after.cpu_ticks, before.cpu_ticks);
    EXPECT_GT(after.cpu_seconds(), 0.0);
}

TEST(SampleProcessTest, AMissingProcessIsNotOk) { EXPECT_FALSE(sample_process(-1).ok); }

}  // namespace
}  // namespace moneta::testing
