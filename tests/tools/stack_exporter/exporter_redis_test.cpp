// The exporter in-process, as Prometheus scrapes it: a real redis-server with a password, an
// in-test server answering nginx's stub_status page, a registrations file on disk.
#include "exporter.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>

#include "moneta/http/router.hpp"
#include "moneta/http/server.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/redis_server.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::stack_exporter {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kPage =
    "Active connections: 3 \nserver accepts handled requests\n 10 9 42 \nReading: 0 Writing: 1 Waiting: 2 \n";

/// Serves GET /stub_status with kPage (what nginx's status server answers).
class StubStatusServer {
public:
    StubStatusServer()
        : router_(core::SystemClock::instance()),
          server_(http::ServerConfig{}, core::SystemClock::instance(),
                  [this](boost::asio::io_context&, std::size_t) {
                      http::WorkerHooks hooks;
                      hooks.handler = router_.as_handler();
                      return hooks;
                  }) {
        router_.add(http::Method::kGet, "/stub_status", [](http::Request&) -> boost::asio::awaitable<http::Response> {
            http::Response r;
            r.content_type = "text/plain";
            r.body = std::string(kPage);
            co_return r;
        });
    }
    ~StubStatusServer() {
        server_.request_stop(0s);
        server_.wait();
    }
    std::uint16_t start() {
        const auto port = server_.listen();
        EXPECT_TRUE(port);
        server_.start();
        return port ? *port : 0;
    }

private:
    http::Router router_;
    http::Server server_;
};

class StackExporterTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto redis = testing::RedisServer::start({.password = "exporter-test-password-0123"});
        ASSERT_TRUE(redis) << redis.error().message();
        redis_.emplace(std::move(*redis));
        nginx_port_ = nginx_.start();
        ASSERT_NE(nginx_port_, 0);
        write_registrations(R"([{"ID": "redis-1", "Name": "redis", "Address": "127.0.0.1", "Port": 6380,
                                 "Tags": ["prometheus"], "Meta": {"metrics_path": "/metrics/redis"}}])");
        ExporterConfig config;
        config.port = 0;
        config.redis.port = redis_->port();
        config.redis.password = "exporter-test-password-0123";
        config.nginx_status_port = nginx_port_;
        config.registrations = dir_.file("registrations.json");
        config.backend_timeout = 500ms;
        auto exporter = Exporter::create(std::move(config), core::SystemClock::instance());
        ASSERT_TRUE(exporter) << exporter.error();
        exporter_ = std::move(*exporter);
        const auto port = exporter_->start();
        ASSERT_TRUE(port) << port.error();
        port_ = *port;
    }

    void TearDown() override {
        if (exporter_) {
            exporter_->request_stop();
            exporter_->wait();
        }
    }

    void write_registrations(std::string_view json) {
        std::ofstream out(dir_.file("registrations.json"), std::ios::trunc);
        out << json;
    }

    testing::HttpReply get(std::string_view target) const { return testing::http_call(port_, "GET", target); }

    testing::TempDir dir_{"stack-exporter-"};
    std::optional<testing::RedisServer> redis_;
    StubStatusServer nginx_;
    std::uint16_t nginx_port_ = 0;
    std::unique_ptr<Exporter> exporter_;
    std::uint16_t port_ = 0;
};

TEST_F(StackExporterTest, RedisInfoIsScrapedWithThePassword) {
    redis_->command({"SET", "k1", "v"});
    redis_->command({"SET", "k2", "v", "EX", "100"});
    // The client connects in the background: the first scrapes may still say redis_up 0.
    testing::HttpReply r;
    ASSERT_TRUE(testing::wait_until(
        [&] {
            r = get("/metrics/redis");
            return r.body.find("redis_up 1\n") != std::string::npos;
        },
        10s, "redis_up 1"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("redis_db_keys{db=\"db0\"} 2\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("redis_db_keys_expiring{db=\"db0\"} 1\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("redis_commands_total{cmd=\"set\"} 2\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("redis_memory_used_bytes "), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("redis_connected_clients "), std::string::npos) << r.body;
}

TEST_F(StackExporterTest, RedisGoneIsRedisUpZeroNotAFailedScrape) {
    ASSERT_TRUE(testing::wait_until([&] { return get("/metrics/redis").body.find("redis_up 1\n") != std::string::npos; },
                                    10s, "redis_up 1"));
    redis_->kill9();
    testing::HttpReply r;
    ASSERT_TRUE(testing::wait_until(
        [&] {
            r = get("/metrics/redis");
            return r.body.find("redis_up 0\n") != std::string::npos;
        },
        10s, "redis_up 0"));
    EXPECT_EQ(r.status, 200);  // Prometheus's `up` stays 1: the exporter itself is fine
    EXPECT_EQ(r.body.find("redis_memory_used_bytes"), std::string::npos) << r.body;
    // The exporter's own counters saw the failures.
    const auto own = get("/metrics");
    EXPECT_NE(own.body.find("stack_exporter_backend_reads_total{backend=\"redis\",result=\"failed\"} "),
              std::string::npos)
        << own.body;
    EXPECT_EQ(own.body.find("stack_exporter_backend_reads_total{backend=\"redis\",result=\"failed\"} 0\n"),
              std::string::npos)
        << own.body;
    EXPECT_NE(own.body.find("process_open_fds "), std::string::npos) << own.body;
}

TEST_F(StackExporterTest, NginxStubStatusBecomesMetrics) {
    const auto r = get("/metrics/nginx");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_NE(r.body.find("nginx_up 1\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("nginx_connections_accepted_total 10\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("nginx_connections_handled_total 9\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("nginx_http_requests_total 42\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("nginx_connections_waiting 2\n"), std::string::npos) << r.body;
}

TEST(StackExporterNoBackendTest, NothingListeningIsNginxUpZero) {
    ExporterConfig config;
    config.port = 0;
    config.redis.port = testing::free_port();
    config.nginx_status_port = testing::free_port();
    config.backend_timeout = 300ms;
    auto exporter = Exporter::create(std::move(config), core::SystemClock::instance());
    ASSERT_TRUE(exporter) << exporter.error();
    const auto port = (*exporter)->start();
    ASSERT_TRUE(port) << port.error();
    const auto nginx = testing::http_call(*port, "GET", "/metrics/nginx");
    EXPECT_EQ(nginx.status, 200);
    EXPECT_NE(nginx.body.find("nginx_up 0\n"), std::string::npos) << nginx.body;
    EXPECT_EQ(nginx.body.find("nginx_connections_active"), std::string::npos) << nginx.body;
    const auto redis = testing::http_call(*port, "GET", "/metrics/redis");
    EXPECT_NE(redis.body.find("redis_up 0\n"), std::string::npos) << redis.body;
    EXPECT_EQ(testing::http_call(*port, "GET", "/sd").status, 404);  // no registrations file
    (*exporter)->request_stop();
    (*exporter)->wait();
}

TEST_F(StackExporterTest, SdServesTheRegistrationsFileAsItIsNow) {
    auto r = get("/sd");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    EXPECT_NE(r.body.find(R"("targets":["127.0.0.1:6380"])"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("__meta_consul_service_metadata_metrics_path":"/metrics/redis")"), std::string::npos)
        << r.body;
    // A rewritten file is served at the next request (Prometheus's next refresh).
    write_registrations(R"([{"Name": "moneta", "Port": 8081, "Tags": ["prometheus"]}])");
    r = get("/sd");
    EXPECT_NE(r.body.find(R"("__meta_consul_service":"moneta")"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("redis"), std::string::npos) << r.body;
    // A broken file is a 500 naming the problem (Prometheus then keeps its last good targets).
    write_registrations(R"([{"Name": "moneta"}])");
    r = get("/sd");
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("Port"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace moneta::stack_exporter
