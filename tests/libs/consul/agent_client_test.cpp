// consul::Client against the protocol-exact fake agent on loopback: what goes over the wire,
// TTL cadence, 404 → re-register, an agent that is down or failing, the bounded deregister, and
// that the ACL token never reaches the log.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

#include <boost/json.hpp>

#include "moneta/consul/agent_client.hpp"
#include "moneta/log/logger.hpp"
#include "moneta/testing/fake_consul_agent.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::consul {
namespace {

using namespace std::chrono_literals;
using testing::FakeConsulAgent;
using testing::wait_until;

constexpr const char* kToken = "b1gs3cr3t-acl-token-9f2e";

class CaptureSink final : public log::Sink {
public:
    void write(std::string_view lines) override {
        std::lock_guard lock(mu_);
        text_ += lines;
    }
    std::string text() const {
        std::lock_guard lock(mu_);
        return text_;
    }

private:
    mutable std::mutex mu_;
    std::string text_;
};

struct Harness {
    explicit Harness(std::uint16_t agent_port, std::string token = kToken) {
        auto s = std::make_unique<CaptureSink>();
        sink = s.get();
        log::LoggerConfig lc;
        lc.level = log::Level::kDebug;
        logger = std::make_unique<log::Logger>(lc, std::move(s), core::SystemClock::instance());
        config.agent.host = "127.0.0.1";
        config.agent.port = agent_port;
        config.agent.token = std::move(token);
        config.service.id = "moneta-test-8081";
        config.service.name = "moneta";
        config.service.address = "127.0.0.1";
        config.service.port = 8081;
        config.service.tags = {"prometheus", "playback"};
        config.service.meta = {{"version", "0.1.0"}, {"metrics_port", "9091"}};
        config.service.ttl = 1500ms;  // passes every 500 ms
        config.timing.backoff_initial = 20ms;
        config.timing.backoff_max = 80ms;
        config.request_timeout = 1s;
    }
    std::string log_text() {
        logger->flush();
        return sink->text();
    }
    static std::size_t count(const std::string& hay, std::string_view needle) {
        std::size_t n = 0;
        for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) {
            ++n;
        }
        return n;
    }

    CaptureSink* sink = nullptr;
    std::unique_ptr<log::Logger> logger;
    ClientConfig config;
};

TEST(ConsulClient, RegistersPassesOnCadenceAndDeregistersOnStop) {
    FakeConsulAgent agent;
    agent.require_token(kToken);
    Harness h(agent.port());
    Client client(h.config, core::SystemClock::instance(), h.logger.get());
    client.start();
    ASSERT_TRUE(wait_until([&] { return agent.calls_to("/v1/agent/check/pass/").size() >= 3; }, 10s, "3 passes"));

    const auto registers = agent.calls_to("/v1/agent/service/register");
    ASSERT_EQ(registers.size(), 1U);
    const auto& reg = registers[0];
    EXPECT_EQ(reg.method, "PUT");
    EXPECT_EQ(reg.status, 200);
    EXPECT_EQ(reg.headers.at("x-consul-token"), kToken);
    EXPECT_EQ(reg.headers.at("content-type"), "application/json");
    EXPECT_EQ(reg.headers.at("host"), "127.0.0.1:" + std::to_string(agent.port()));
    const auto body = boost::json::parse(reg.body).as_object();
    EXPECT_EQ(body.at("ID").as_string(), "moneta-test-8081");
    EXPECT_EQ(body.at("Name").as_string(), "moneta");
    EXPECT_EQ(body.at("Port").as_int64(), 8081);
    EXPECT_EQ(body.at("Check").at("TTL").as_string(), "1500ms");
    EXPECT_EQ(body.at("Check").at("DeregisterCriticalServiceAfter").as_string(), "10m");

    const auto passes = agent.calls_to("/v1/agent/check/pass/");
    EXPECT_EQ(passes[0].path, "/v1/agent/check/pass/service:moneta-test-8081");
    EXPECT_EQ(passes[0].query, "note=serving");
    EXPECT_EQ(passes[0].headers.at("x-consul-token"), kToken);
    EXPECT_EQ(passes[0].headers.at("content-length"), "0");
    EXPECT_EQ(passes[0].status, 200);
    // The first pass follows the register at once; then TTL/3 apart (500 ms; generous bounds).
    EXPECT_LT(passes[0].at - reg.at, 400ms);
    for (std::size_t i = 1; i < passes.size(); ++i) {
        const auto gap = passes[i].at - passes[i - 1].at;
        EXPECT_GE(gap, 450ms) << "pass " << i;
        EXPECT_LT(gap, 1400ms) << "pass " << i << ": slower than the TTL allows";
    }
    EXPECT_TRUE(client.stats().registered.load());

    EXPECT_TRUE(client.stop(1s));
    const auto dereg = agent.calls_to("/v1/agent/service/deregister/");
    ASSERT_EQ(dereg.size(), 1U);
    EXPECT_EQ(dereg[0].path, "/v1/agent/service/deregister/moneta-test-8081");
    EXPECT_EQ(dereg[0].status, 200);
    EXPECT_EQ(dereg[0].headers.at("x-consul-token"), kToken);
    EXPECT_TRUE(agent.services().empty());
    EXPECT_EQ(agent.calls().back().path, dereg[0].path) << "nothing after the deregister";

    const std::string log = h.log_text();
    EXPECT_NE(log.find("registered with consul agent"), std::string::npos) << log;
    EXPECT_NE(log.find("deregistered from consul agent"), std::string::npos) << log;
    EXPECT_EQ(log.find(kToken), std::string::npos) << "the ACL token leaked into the log";
}

TEST(ConsulClient, AgentThatForgotUsGetsARegisterAgain) {
    for (const bool legacy : {false, true}) {
        SCOPED_TRACE(legacy ? "older agents: 500 does not have associated TTL" : "404 Unknown check ID");
        FakeConsulAgent agent;
        agent.legacy_unknown_check(legacy);
        Harness h(agent.port(), "");
        Client client(h.config, core::SystemClock::instance(), h.logger.get());
        client.start();
        ASSERT_TRUE(wait_until([&] { return client.stats().passes_ok.load() >= 1; }, 10s, "first pass"));
        agent.forget_all();  // the agent restarted without our registration
        ASSERT_TRUE(wait_until([&] { return agent.calls_to("/v1/agent/service/register").size() >= 2; }, 10s,
                               "re-register"));
        EXPECT_EQ(client.stats().lost.load(), 1U);
        const auto passes = agent.calls_to("/v1/agent/check/pass/");
        const bool saw_unknown = std::any_of(passes.begin(), passes.end(), [&](const auto& c) {
            return c.status == (legacy ? 500 : 404);
        });
        EXPECT_TRUE(saw_unknown);
        EXPECT_EQ(agent.calls().front().headers.count("x-consul-token"), 0U) << "no token configured: no header";
        ASSERT_TRUE(wait_until([&] { return agent.services().count("moneta-test-8081") == 1; }, 5s, "registered"));
        EXPECT_NE(h.log_text().find("lost our registration"), std::string::npos);
        client.stop(1s);
    }
}

TEST(ConsulClient, AgentDownAtStartCostsBackoffAndOneLogLineThenRegisters) {
    const std::uint16_t port = testing::free_port();
    Harness h(port);
    Client client(h.config, core::SystemClock::instance(), h.logger.get());
    client.start();
    // Several refused attempts (20, 40, 80, 80 ms ...).
    ASSERT_TRUE(wait_until([&] { return client.stats().failures.load() >= 5; }, 10s, "5 failed attempts"));
    EXPECT_FALSE(client.stats().registered.load());
    std::string log = h.log_text();
    EXPECT_EQ(Harness::count(log, "retrying with backoff"), 1U) << log;

    FakeConsulAgent agent(port);  // the agent comes up
    agent.require_token(kToken);
    ASSERT_TRUE(wait_until([&] { return client.stats().registered.load(); }, 10s, "registered once the agent is up"));
    EXPECT_EQ(agent.calls_to("/v1/agent/service/register").size(), 1U);
    log = h.log_text();
    EXPECT_NE(log.find("consul agent reachable again"), std::string::npos) << log;
    EXPECT_EQ(Harness::count(log, "retrying with backoff"), 1U);
    EXPECT_EQ(log.find(kToken), std::string::npos);
    EXPECT_TRUE(client.stop(1s));
}

TEST(ConsulClient, RefusedTokenAndAgentErrorsBackOffWithoutLeakingTheToken) {
    FakeConsulAgent agent;
    agent.require_token("the-right-token");
    Harness h(agent.port());  // sends kToken: 403
    Client client(h.config, core::SystemClock::instance(), h.logger.get());
    client.start();
    ASSERT_TRUE(wait_until([&] { return agent.calls().size() >= 4; }, 10s, "retries"));
    for (const auto& c : agent.calls()) {
        EXPECT_EQ(c.status, 403);
        EXPECT_EQ(c.path, "/v1/agent/service/register") << "a refused register is retried as a register";
    }
    // The backoff grows: the gap between the 3rd and 4th try is larger than between the 1st and 2nd.
    const auto calls = agent.calls();
    EXPECT_GT(calls[3].at - calls[2].at, calls[1].at - calls[0].at);
    const std::string log = h.log_text();
    EXPECT_NE(log.find("HTTP 403: Permission denied"), std::string::npos) << log;
    EXPECT_EQ(log.find(kToken), std::string::npos) << "the ACL token leaked into the log";

    agent.require_token(kToken);
    ASSERT_TRUE(wait_until([&] { return client.stats().registered.load(); }, 10s, "registered"));
    agent.fail_all(500);
    ASSERT_TRUE(wait_until([&] { return !client.stats().registered.load(); }, 10s, "down on 500"));
    agent.fail_all(std::nullopt);
    ASSERT_TRUE(wait_until([&] { return client.stats().registered.load(); }, 10s, "up again"));
    client.stop(1s);
}

TEST(ConsulClient, StopIsBoundedWhenTheAgentNeverAnswers) {
    // A listener that never accepts: connects succeed (the kernel's backlog), nothing answers.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    Harness h(ntohs(addr.sin_port));
    h.config.request_timeout = 10s;  // a register would hang this long
    Client client(h.config, core::SystemClock::instance(), h.logger.get());
    client.start();
    ASSERT_TRUE(testing::wait_for_tcp(ntohs(addr.sin_port)));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(client.stop(300ms)) << "nothing confirmed the deregister";
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 1500ms) << "a dead agent delayed shutdown";
    ::close(fd);
}

TEST(ConsulClient, StopBeforeAnyRegisterSendsNothing) {
    FakeConsulAgent agent;
    Harness h(agent.port());
    {
        Client client(h.config, core::SystemClock::instance(), h.logger.get());
        EXPECT_FALSE(client.stop(100ms));  // never started
    }
    EXPECT_TRUE(agent.calls().empty());
}

}  // namespace
}  // namespace moneta::consul
