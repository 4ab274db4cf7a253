// The exporter in-process as the dev stack's Consul agent, driven by moneta's own registration
// client (libs/consul) over HTTP: what a service registers shows up on /sd, passing, next to the
// static file's entries, and leaves on deregister. No Redis or nginx needed.
#include "exporter.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <boost/json.hpp>

#include "moneta/consul/agent_client.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::stack_exporter {
namespace {

using namespace std::chrono_literals;
namespace bj = boost::json;

class ExporterAgentTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::ofstream(dir_.file("registrations.json"))
            << R"([{"ID": "redis-1", "Name": "redis", "Address": "127.0.0.1", "Port": 6380, "Tags": ["prometheus"]}])";
        ExporterConfig config;
        config.port = 0;
        config.redis.port = testing::free_port();  // nothing there: only /metrics/redis would care
        config.registrations = dir_.file("registrations.json");
        config.consul_agent = true;
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

    /// /sd's target groups by service id → health.
    std::map<std::string, std::string> sd() const {
        std::map<std::string, std::string> out;
        const auto r = testing::http_call(port_, "GET", "/sd");
        if (r.status != 200) {
            return out;
        }
        const bj::value groups = bj::parse(r.body);
        for (const auto& g : groups.as_array()) {
            const auto& labels = g.at("labels").as_object();
            out[std::string(labels.at("__meta_consul_service_id").as_string())] =
                std::string(labels.at("__meta_consul_health").as_string());
        }
        return out;
    }

    testing::TempDir dir_{"exporter-agent-"};
    std::unique_ptr<Exporter> exporter_;
    std::uint16_t port_ = 0;
};

TEST_F(ExporterAgentTest, AServiceRegisteredByLibsConsulIsServedOnSdWhilePassing) {
    consul::ClientConfig c;
    c.agent = {"127.0.0.1", port_, "dev-token-ignored"};
    c.service.id = "moneta-h-18081";
    c.service.name = "moneta";
    c.service.address = "127.0.0.1";
    c.service.port = 18081;
    c.service.tags = {"prometheus", "playback"};
    c.service.meta = {{"metrics_port", "19091"}};
    c.service.ttl = 1500ms;
    consul::Client client(c, core::SystemClock::instance(), nullptr);
    client.start();
    ASSERT_TRUE(testing::wait_until(
        [&] {
            const auto s = sd();
            const auto it = s.find("moneta-h-18081");
            return it != s.end() && it->second == "passing";
        },
        10s, "moneta passing on /sd"));
    const auto before = sd();
    EXPECT_EQ(before.at("redis-1"), "passing") << "the static file's entries stay";
    const auto services = testing::http_call(port_, "GET", "/v1/agent/services");
    ASSERT_EQ(services.status, 200);
    EXPECT_EQ(bj::parse(services.body).at("moneta-h-18081").at("Port").as_int64(), 18081);
    ASSERT_TRUE(testing::wait_until([&] { return client.stats().passes_ok.load() >= 2; }, 10s, "passes"));
    EXPECT_EQ(client.stats().failures.load(), 0U);
    EXPECT_TRUE(client.stop(1s)) << "the deregister was answered 200";
    const auto after = sd();
    EXPECT_EQ(after.count("moneta-h-18081"), 0U);
    EXPECT_EQ(after.count("redis-1"), 1U);
}

TEST_F(ExporterAgentTest, AgentAnswersAreTheAgentsOnTheWire) {
    const auto bad = testing::http_call(port_, "PUT", "/v1/agent/service/register", "{\"Port\":1}");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.body, "Missing service name");
    const auto unknown = testing::http_call(port_, "PUT", "/v1/agent/check/pass/service:nope");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_NE(unknown.body.find("Unknown check ID"), std::string::npos);
    const auto get = testing::http_call(port_, "GET", "/v1/agent/service/register");
    EXPECT_EQ(get.status, 405) << "PUT only";
}

}  // namespace
}  // namespace moneta::stack_exporter
