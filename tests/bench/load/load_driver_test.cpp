// run_load against an in-test http::Server: every request answered and counted, non-2xx counted
// by status, session ids captured by request index, and the open loop paced by the intended
// send times.
#include "load_driver.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <charconv>
#include <memory>

#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"

namespace moneta::bench {
namespace {

class LoadDriverTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = std::make_unique<http::Server>(
            http::ServerConfig{},
            core::SystemClock::instance(),
            [](boost::asio::io_context&, std::size_t) {
                auto router = std::make_shared<http::Router>(core::SystemClock::instance());
                router->add(http::Method::kPost, "/s/{id}", [](http::Request& r) -> boost::asio::awaitable<http::Response> {
                    http::Response res;
                    res.status = 201;
                    res.body = "{\"session_id\":\"" + std::string(r.path_param(0)) + "\",\"len\":" +
                               std::to_string(r.body().size()) + "}";
                    co_return res;
                });
                router->add(http::Method::kGet, "/status/{code}", [](http::Request& r) -> boost::asio::awaitable<http::Response> {
                    http::Response res;
                    const auto code = r.path_param(0);
                    std::from_chars(code.data(), code.data() + code.size(), res.status);
                    co_return res;
                });
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
        if (server_) {
            server_->request_stop(std::chrono::seconds(2));
            server_->wait();
        }
    }

    std::vector<RenderedRequest> render(const std::vector<std::string>& lines) {
        std::vector<RenderedRequest> out;
        for (const auto& line : lines) {
            RenderedRequest r;
            std::string error;
            EXPECT_TRUE(render_request(line, "127.0.0.1", r, error)) << error;
            out.push_back(std::move(r));
        }
        return out;
    }

    std::unique_ptr<http::Server> server_;
    std::uint16_t port_ = 0;
};

TEST_F(LoadDriverTest, OnceSendsEachRequestAndCountsStatusesAndCaptures) {
    std::vector<std::string> lines;
    for (int i = 0; i < 300; ++i) {
        if (i % 3 == 2) {
            lines.push_back("GET\t/status/" + std::string(i % 2 == 0 ? "503" : "404") + "\t-");
        } else {
            lines.push_back("POST\t/s/sid-" + std::to_string(i) + "\ttok\t{\"seq\":@SEQ@}");
        }
    }
    LoadOptions o;
    o.port = port_;
    o.connections = 8;
    o.once = true;
    o.capture = true;
    LoadResult r;
    std::string error;
    ASSERT_TRUE(run_load(o, render(lines), r, error)) << error;
    EXPECT_EQ(r.sent, 300u);
    EXPECT_EQ(r.completed, 300u);
    EXPECT_EQ(r.errors, 0u);
    EXPECT_EQ(r.non_2xx, 100u);
    EXPECT_EQ(r.statuses[201], 200u);
    EXPECT_EQ(r.statuses[503] + r.statuses[404], 100u);
    EXPECT_EQ(r.statuses[503], 50u);
    EXPECT_EQ(r.latency.count(), 300u);
    ASSERT_EQ(r.captured.size(), 300u);
    EXPECT_EQ(r.captured[0], "sid-0");
    EXPECT_EQ(r.captured[298], "sid-298");
    EXPECT_EQ(r.captured[2], "");  // a status line, no session
}

TEST_F(LoadDriverTest, OpenLoopSendsAtTheFixedRate) {
    LoadOptions o;
    o.port = port_;
    o.connections = 4;
    o.rate = 400;
    o.duration_sec = 0.5;
    LoadResult r;
    std::string error;
    ASSERT_TRUE(run_load(o, render({"GET\t/status/200\t-"}), r, error)) << error;
    // 200 requests are due in 0.5 s; the loop sends each one when due, not as fast as it can.
    EXPECT_GE(r.sent, 190u);
    EXPECT_LE(r.sent, 201u);
    EXPECT_EQ(r.completed, r.sent);
    EXPECT_EQ(r.non_2xx, 0u);
}

TEST_F(LoadDriverTest, ClosedLoopRunsForTheDurationAndReportsCpu) {
    LoadOptions o;
    o.port = port_;
    o.connections = 2;
    o.duration_sec = 0.3;
    LoadResult r;
    std::string error;
    ASSERT_TRUE(run_load(o, render({"GET\t/status/200\t-", "GET\t/status/429\t-"}), r, error)) << error;
    EXPECT_GT(r.completed, 10u);
    EXPECT_EQ(r.completed, r.statuses[200] + r.statuses[429]);
    EXPECT_EQ(r.non_2xx, r.statuses[429]);
    EXPECT_GE(r.elapsed_sec, 0.29);
    EXPECT_GT(r.cpu_user_sec + r.cpu_system_sec, 0.0);
}

TEST_F(LoadDriverTest, MaxRequestsEndsTheRowBeforeTheDuration) {
    LoadOptions o;
    o.port = port_;
    o.connections = 4;
    o.duration_sec = 30;
    o.max_requests = 50;
    LoadResult r;
    std::string error;
    ASSERT_TRUE(run_load(o, render({"GET\t/status/200\t-"}), r, error)) << error;
    EXPECT_EQ(r.sent, 50u);
    EXPECT_EQ(r.completed, 50u);
    EXPECT_LT(r.elapsed_sec, 30.0);
}

TEST(LoadDriverConnectTest, RefusedConnectIsAnError) {
    LoadOptions o;
    o.port = 1;  // nothing listens on port 1
    RenderedRequest req;
    std::string error;
    ASSERT_TRUE(render_request("GET\t/\t-", "x", req, error));
    LoadResult r;
    EXPECT_FALSE(run_load(o, {req}, r, error));
    EXPECT_NE(error.find("connect"), std::string::npos) << error;
}

}  // namespace
}  // namespace moneta::bench
