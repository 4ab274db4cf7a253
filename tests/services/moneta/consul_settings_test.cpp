// The `consul` section of moneta.json (docs/config.md), CONSUL_HTTP_ADDR/CONSUL_HTTP_TOKEN read
// by load_settings, and what moneta registers (consul_registration.hpp).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "consul_registration.hpp"
#include "settings_fixture.hpp"

namespace moneta {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

class ConsulSettingsTest : public testing::SettingsFileTest {
protected:
    static std::function<void(bj::object&)> set(const char* key, bj::value v) {
        return [key, v](bj::object& o) { o["consul"].as_object()[key] = v; };
    }
};

TEST_F(ConsulSettingsTest, ShippedFileMatchesTheCodeDefaultsAndRegistrationIsOffWithoutTheVariable) {
    const auto s = load();
    ASSERT_TRUE(s) << s.error();
    EXPECT_FALSE(s->consul.agent.has_value()) << "CONSUL_HTTP_ADDR unset: registration off";
    const auto bare = load([](bj::object& o) { o.erase("consul"); });
    ASSERT_TRUE(bare) << bare.error();
    const ConsulSettings& a = s->consul;
    const ConsulSettings& b = bare->consul;
    EXPECT_EQ(a.service_name, b.service_name);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.tags, b.tags);
    EXPECT_EQ(a.ttl, b.ttl);
    EXPECT_EQ(a.deregister_critical_after, b.deregister_critical_after);
    EXPECT_EQ(a.deregister_timeout, b.deregister_timeout);
    EXPECT_EQ(a.backoff_max, b.backoff_max);
    EXPECT_EQ(a.ttl, 15s);
    EXPECT_EQ(a.deregister_timeout, 1s);
}

TEST_F(ConsulSettingsTest, AgentAndTokenComeFromTheEnvironment) {
    ::setenv("CONSUL_HTTP_ADDR", "http://127.0.0.1:18500", 1);
    ::setenv("CONSUL_HTTP_TOKEN", "acl-token-abc", 1);
    ::setenv("MONETA_CONSUL_TTL_MS", "3000", 1);
    const auto s = load();
    ASSERT_TRUE(s) << s.error();
    ASSERT_TRUE(s->consul.agent.has_value());
    EXPECT_EQ(s->consul.agent->host, "127.0.0.1");
    EXPECT_EQ(s->consul.agent->port, 18500);
    EXPECT_EQ(s->consul.agent->token, "acl-token-abc");
    EXPECT_EQ(s->consul.ttl, 3s);
    ::setenv("MONETA_CONSUL_BACKOFF_MAX_MS", "200", 1);
    const auto low = load();
    ASSERT_TRUE(low) << low.error();
    EXPECT_EQ(low->consul.backoff_max, 200ms);
    EXPECT_EQ(low->consul.backoff_initial, 200ms) << "a cap below the initial delay lowers it";
}

TEST_F(ConsulSettingsTest, HttpsAgentIsAStartupErrorNamingTheVariable) {
    ::setenv("CONSUL_HTTP_ADDR", "https://127.0.0.1:8501", 1);
    const auto s = load();
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("CONSUL_HTTP_ADDR"), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("https is not supported"), std::string::npos) << s.error();
}

TEST_F(ConsulSettingsTest, BadKeysAndValuesAreRefusedByName) {
    const struct {
        std::function<void(bj::object&)> edit;
        const char* expect;
    } cases[] = {
        {set("token", "inline"), "consul.token: unknown key"},
        {set("ttl_ms", 500), "consul.ttl_ms"},
        {set("pass_interval_ms", 15000), "consul.pass_interval_ms"},
        {set("deregister_critical_after_ms", 30000), "consul.deregister_critical_after_ms"},
        {set("deregister_timeout_ms", 10000), "consul.deregister_timeout_ms"},
        {set("backoff_max_ms", 0), "backoff_max_ms"},
        {set("service_name", ""), "consul.service_name"},
        {set("tags", bj::array{"prometheus", ""}), "consul.tags"},
    };
    for (const auto& c : cases) {
        const auto s = load(c.edit);
        ASSERT_FALSE(s) << c.expect;
        EXPECT_NE(s.error().find(c.expect), std::string::npos) << s.error();
    }
}

TEST(ConsulRegistration, IdTemplateAndBody) {
    EXPECT_EQ(expand_service_id("{name}-{host}-{port}", "moneta", "web1", 8081), "moneta-web1-8081");
    EXPECT_EQ(expand_service_id("x{port}{port}{other}", "n", "h", 1), "x11{other}");

    Settings s;
    s.server.address = "0.0.0.0";
    s.consul.agent = consul::AgentConfig{"127.0.0.1", 8500, "tok"};
    s.consul.ttl = 9s;
    auto c = consul_client_config(s, 8081, 9091, "web1");
    EXPECT_EQ(c.service.id, "moneta-web1-8081");
    EXPECT_EQ(c.service.address, "") << "a wildcard bind is not an address: the agent's own is advertised";
    EXPECT_EQ(c.service.port, 8081);
    EXPECT_EQ(c.service.meta.at("metrics_port"), "9091");
    EXPECT_EQ(c.service.meta.at("metrics_path"), "/metrics");
    EXPECT_FALSE(c.service.meta.at("version").empty());
    EXPECT_EQ(c.service.ttl, 9s);
    EXPECT_EQ(c.agent.token, "tok");
    s.server.address = "10.1.2.3";
    EXPECT_EQ(consul_client_config(s, 8081, 9091, "web1").service.address, "10.1.2.3");
    s.consul.address = "moneta.example";
    EXPECT_EQ(consul_client_config(s, 8081, 9091, "web1").service.address, "moneta.example");
}

}  // namespace
}  // namespace moneta
