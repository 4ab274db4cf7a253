// Real moneta registering with the fake Consul agent (docs/consul.md): the register body and the
// token header, TTL passes, SIGTERM → deregister before the drain and before /healthz stops
// answering; an agent that is down at start does not stop moneta from serving, and moneta
// registers once it comes up.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/json.hpp>

#include "moneta/testing/fake_consul_agent.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/stack.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "consul-acl-token-7d41c0ffee";

StackOptions options(const FakeConsulAgent* agent, std::uint16_t agent_port) {
    StackOptions o;
    o.with_nginx = false;
    o.moneta_threads = 1;
    o.moneta_env = {{"CONSUL_HTTP_ADDR", "http://127.0.0.1:" + std::to_string(agent ? agent->port() : agent_port)},
                    {"CONSUL_HTTP_TOKEN", kToken},
                    {"MONETA_CONSUL_TTL_MS", "1200"},  // a pass every 400 ms
                    {"MONETA_CONSUL_BACKOFF_MAX_MS", "200"}};
    return o;
}

TEST(ConsulIntegration, RegistersPassesAndDeregistersBeforeDraining) {
    FakeConsulAgent agent;
    agent.require_token(kToken);
    Stack stack(options(&agent, 0));
    ASSERT_TRUE(stack.start());

    ASSERT_TRUE(wait_until([&] { return agent.calls_to("/v1/agent/check/pass/").size() >= 3; }, 20s, "3 TTL passes"));
    const auto registers = agent.calls_to("/v1/agent/service/register");
    ASSERT_EQ(registers.size(), 1U);
    EXPECT_EQ(registers[0].method, "PUT");
    EXPECT_EQ(registers[0].headers.at("x-consul-token"), kToken);
    const auto body = boost::json::parse(registers[0].body).as_object();
    const std::string id(body.at("ID").as_string());
    EXPECT_TRUE(id.starts_with("moneta-")) << id;
    EXPECT_TRUE(id.ends_with("-" + std::to_string(stack.moneta_port()))) << id;
    EXPECT_EQ(body.at("Name").as_string(), "moneta");
    EXPECT_EQ(body.at("Address").as_string(), "127.0.0.1");
    EXPECT_EQ(body.at("Port").as_int64(), stack.moneta_port());
    const auto& tags = body.at("Tags").as_array();
    EXPECT_NE(std::find(tags.begin(), tags.end(), boost::json::value("prometheus")), tags.end());
    const auto& meta = body.at("Meta").as_object();
    EXPECT_FALSE(meta.at("version").as_string().empty());
    EXPECT_EQ(meta.at("metrics_port").as_string(), std::to_string(stack.admin_port()));
    EXPECT_EQ(meta.at("metrics_path").as_string(), "/metrics");
    const auto& check = body.at("Check").as_object();
    EXPECT_EQ(check.at("CheckID").as_string(), "service:" + id);
    EXPECT_EQ(check.at("TTL").as_string(), "1200ms");
    EXPECT_EQ(check.at("DeregisterCriticalServiceAfter").as_string(), "10m");
    EXPECT_EQ(stack.metric("moneta_consul_registered"), 1.0);
    for (const auto& pass : agent.calls_to("/v1/agent/check/pass/")) {
        EXPECT_EQ(pass.path, "/v1/agent/check/pass/service:" + id);
        EXPECT_EQ(pass.headers.at("x-consul-token"), kToken);
        EXPECT_EQ(pass.status, 200);
    }

    // SIGTERM while a poller watches /healthz on the API port: the deregister must be recorded
    // while moneta still answers it (it leaves discovery before it stops serving).
    std::atomic<bool> polling{true};
    std::atomic<std::int64_t> first_down_ns{0};
    std::thread poller([&] {
        while (polling) {
            const auto r = http_call(stack.moneta_port(), "GET", "/healthz", {}, {}, 500ms);
            if (r.status != 200) {
                first_down_ns = std::chrono::steady_clock::now().time_since_epoch().count();
                return;
            }
        }
    });
    EXPECT_EQ(stack.stop_moneta(20s), 0);
    polling = false;
    poller.join();

    const auto dereg = agent.calls_to("/v1/agent/service/deregister/");
    ASSERT_EQ(dereg.size(), 1U) << "no deregister before moneta exited";
    EXPECT_EQ(dereg[0].path, "/v1/agent/service/deregister/" + id);
    EXPECT_EQ(dereg[0].headers.at("x-consul-token"), kToken);
    EXPECT_EQ(dereg[0].status, 200);
    EXPECT_TRUE(agent.services().empty());
    ASSERT_NE(first_down_ns.load(), 0) << "/healthz never stopped answering";
    EXPECT_LT(dereg[0].at.time_since_epoch().count(), first_down_ns.load())
        << "moneta stopped answering /healthz before it deregistered";

    const std::string log = stack.moneta_log();
    const auto deregistered = log.find("deregistered from consul agent");
    const auto draining = log.find("moneta stopping: draining");
    ASSERT_NE(deregistered, std::string::npos) << log;
    ASSERT_NE(draining, std::string::npos);
    EXPECT_LT(deregistered, draining) << "the drain began before the deregister";
    EXPECT_NE(log.find("registered with consul agent"), std::string::npos);
    EXPECT_EQ(log.find(kToken), std::string::npos) << "the ACL token is in moneta's log";
    EXPECT_EQ(stack.moneta_output().find(kToken), std::string::npos) << "the ACL token is in moneta's output";
}

TEST(ConsulIntegration, AgentDownAtStartDoesNotStopServingAndRegistersWhenItComesUp) {
    const std::uint16_t agent_port = free_port();
    Stack stack(options(nullptr, agent_port));
    ASSERT_TRUE(stack.start()) << "moneta must start (and be ready) with no agent";
    EXPECT_EQ(http_call(stack.moneta_port(), "GET", "/healthz").status, 200);
    // Backing off: a few refused attempts (100 ms, then 200 ms apart), one log line.
    ASSERT_TRUE(wait_until([&] { return stack.moneta_log().find("retrying with backoff") != std::string::npos; }, 10s,
                           "the backoff log line"));
    EXPECT_EQ(stack.metric("moneta_consul_registered"), 0.0);
    EXPECT_GE(stack.metric("moneta_consul_agent_failures_total"), 1.0);

    FakeConsulAgent agent(agent_port);
    agent.require_token(kToken);
    ASSERT_TRUE(wait_until([&] { return agent.services().size() == 1; }, 10s, "registration once the agent is up"));
    ASSERT_TRUE(wait_until([&] { return !agent.calls_to("/v1/agent/check/pass/").empty(); }, 10s, "a pass"));
    EXPECT_EQ(http_call(stack.moneta_port(), "GET", "/healthz").status, 200);
    EXPECT_TRUE(wait_until([&] { return stack.metric("moneta_consul_registered") == 1.0; }, 10s, "registered gauge"));
    const std::string log = stack.moneta_log();
    std::size_t lines = 0;
    for (auto p = log.find("retrying with backoff"); p != std::string::npos; p = log.find("retrying with backoff", p + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 1U) << "one line per state change, not per attempt";
    EXPECT_NE(log.find("consul agent reachable again"), std::string::npos) << log;
    EXPECT_EQ(stack.stop_moneta(20s), 0);
    EXPECT_EQ(agent.calls_to("/v1/agent/service/deregister/").size(), 1U);
}

}  // namespace
}  // namespace moneta::testing
