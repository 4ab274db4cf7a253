// The register body, the request paths and the agent address/token from the environment.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>

#include <boost/json.hpp>

#include "moneta/consul/registration.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::consul {
namespace {

using namespace std::chrono_literals;

ServiceRegistration sample() {
    ServiceRegistration r;
    r.id = "moneta-host1-8081";
    r.name = "moneta";
    r.address = "10.0.0.5";
    r.port = 8081;
    r.tags = {"prometheus", "playback"};
    r.meta = {{"version", "0.1.0"}, {"metrics_port", "9091"}};
    r.ttl = 15s;
    r.deregister_critical_after = 10min;
    return r;
}

TEST(RegisterBody, IsExactlyTheAgentShape) {
    EXPECT_EQ(encode_register_body(sample()),
              R"({"ID":"moneta-host1-8081","Name":"moneta","Address":"10.0.0.5","Port":8081,)"
              R"("Tags":["prometheus","playback"],"Meta":{"metrics_port":"9091","version":"0.1.0"},)"
              R"("Check":{"CheckID":"service:moneta-host1-8081","Name":"moneta TTL","TTL":"15s",)"
              R"("DeregisterCriticalServiceAfter":"10m"}})");
}

TEST(RegisterBody, OmitsAnEmptyAddressAndEscapesStrings) {
    ServiceRegistration r = sample();
    r.address.clear();
    r.tags = {"a\"b", "c\\d"};
    r.meta = {{"k", "line\nbreak"}};
    const auto body = encode_register_body(r);
    const auto v = boost::json::parse(body).as_object();
    EXPECT_EQ(v.if_contains("Address"), nullptr) << "the agent then uses its node address";
    EXPECT_EQ(v.at("Tags").as_array().at(0).as_string(), "a\"b");
    EXPECT_EQ(v.at("Tags").as_array().at(1).as_string(), "c\\d");
    EXPECT_EQ(v.at("Meta").at("k").as_string(), "line\nbreak");
    EXPECT_EQ(v.at("Port").as_int64(), 8081);
    EXPECT_EQ(v.at("Check").at("CheckID").as_string(), "service:moneta-host1-8081");
}

TEST(GoDuration, UsesTheLargestExactUnit) {
    EXPECT_EQ(go_duration(15000ms), "15s");
    EXPECT_EQ(go_duration(600000ms), "10m");
    EXPECT_EQ(go_duration(3600000ms), "1h");
    EXPECT_EQ(go_duration(1500ms), "1500ms");
    EXPECT_EQ(go_duration(90000ms), "90s");
    EXPECT_EQ(go_duration(0ms), "0s");
}

TEST(Paths, ArePercentEncoded) {
    EXPECT_EQ(pass_path("service:moneta-h-8081", "serving"), "/v1/agent/check/pass/service:moneta-h-8081?note=serving");
    EXPECT_EQ(pass_path("service:a b/c", "all good"), "/v1/agent/check/pass/service:a%20b%2Fc?note=all%20good");
    EXPECT_EQ(pass_path("x", ""), "/v1/agent/check/pass/x");
    EXPECT_EQ(deregister_path("moneta-h-8081"), "/v1/agent/service/deregister/moneta-h-8081");
    EXPECT_EQ(deregister_path("a?b"), "/v1/agent/service/deregister/a%3Fb");
}

TEST(AgentAddress, AcceptsTheConsulCliForms) {
    const struct {
        const char* in;
        const char* host;
        std::uint16_t port;
    } good[] = {
        {"127.0.0.1:8500", "127.0.0.1", 8500}, {"http://127.0.0.1:18500", "127.0.0.1", 18500},
        {"localhost", "localhost", 8500},      {"http://consul.service:8500/", "consul.service", 8500},
        {"[::1]:8501", "::1", 8501},           {"http://[::1]", "::1", 8500},
    };
    for (const auto& g : good) {
        auto a = parse_agent_address(g.in);
        ASSERT_TRUE(a) << g.in << ": " << a.error();
        EXPECT_EQ(a->host, g.host) << g.in;
        EXPECT_EQ(a->port, g.port) << g.in;
    }
}

TEST(AgentAddress, RefusesWhatItCannotReachByName) {
    const auto https = parse_agent_address("https://127.0.0.1:8501");
    ASSERT_FALSE(https);
    EXPECT_NE(https.error().find("https is not supported"), std::string::npos) << https.error();
    EXPECT_NE(https.error().find("CONSUL_HTTP_ADDR"), std::string::npos);
    for (const char* bad : {"unix:///var/run/consul.sock", "ftp://x:1", "", "http://", "host:", "host:0", "host:65536",
                            "host:80x", "user@host:8500", "host:8500/v1", "[::1", "[::1]8500", "[zz]:1", ":8500"}) {
        EXPECT_FALSE(parse_agent_address(bad)) << bad;
    }
}

TEST(AgentAddress, ArbitraryBytesNeverCrashAndAcceptedOnesAreSane) {
    std::mt19937 rng(12);  // deterministic
    const std::string alphabet = "hts:/[]0123456789.:@?#%aAzZ- \x01\xff";
    for (int i = 0; i < 20000; ++i) {
        std::string in;
        const int n = static_cast<int>(rng() % 24);
        for (int j = 0; j < n; ++j) {
            in += alphabet[rng() % alphabet.size()];
        }
        const auto a = parse_agent_address(in);
        if (a) {
            EXPECT_FALSE(a->host.empty()) << in;
            EXPECT_NE(a->port, 0) << in;
            EXPECT_EQ(a->host.find_first_of("/@?# \x01"), std::string::npos) << in;
        } else {
            EXPECT_EQ(a.error().rfind("CONSUL_HTTP_ADDR=", 0), 0U) << in;
        }
    }
}

struct Env {
    std::map<std::string, std::string> vars;
    Getenv fn() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

TEST(AgentEnvironment, UnsetAddressMeansOff) {
    Env env;
    auto a = agent_from_environment(env.fn());
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->has_value());
    env.vars["CONSUL_HTTP_ADDR"] = "";
    env.vars["CONSUL_HTTP_TOKEN"] = "t";
    a = agent_from_environment(env.fn());
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->has_value());
}

TEST(AgentEnvironment, TokenFromVariableOrFile) {
    testing::TempDir dir;
    const auto file = dir.path() / "token";
    std::ofstream(file) << "file-token-123\n";
    Env env;
    env.vars["CONSUL_HTTP_ADDR"] = "127.0.0.1:8500";
    env.vars["CONSUL_HTTP_TOKEN_FILE"] = file.string();
    auto a = agent_from_environment(env.fn());
    ASSERT_TRUE(a) << a.error();
    ASSERT_TRUE(a->has_value());
    EXPECT_EQ((*a)->token, "file-token-123");
    env.vars["CONSUL_HTTP_TOKEN"] = "env-token";
    a = agent_from_environment(env.fn());
    ASSERT_TRUE(a);
    EXPECT_EQ((*a)->token, "env-token") << "the variable wins, as in Consul's CLI";
}

TEST(AgentEnvironment, BadTokenSourcesAreStartupErrors) {
    testing::TempDir dir;
    Env env;
    env.vars["CONSUL_HTTP_ADDR"] = "127.0.0.1:8500";
    env.vars["CONSUL_HTTP_TOKEN_FILE"] = (dir.path() / "missing").string();
    auto a = agent_from_environment(env.fn());
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().find("CONSUL_HTTP_TOKEN_FILE"), std::string::npos);
    const auto empty = dir.path() / "empty";
    std::ofstream(empty) << "\n";
    env.vars["CONSUL_HTTP_TOKEN_FILE"] = empty.string();
    EXPECT_FALSE(agent_from_environment(env.fn()));
    env.vars["CONSUL_HTTP_TOKEN"] = "abc\r\nX-Evil: 1";
    a = agent_from_environment(env.fn());
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().find("abc"), std::string::npos) << "the message never echoes the token";
    env.vars["CONSUL_HTTP_TOKEN"] = "ok";
    env.vars["CONSUL_HTTP_ADDR"] = "https://127.0.0.1:8501";
    EXPECT_FALSE(agent_from_environment(env.fn()));
}

}  // namespace
}  // namespace moneta::consul
