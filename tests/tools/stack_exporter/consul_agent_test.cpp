// The exporter's Consul agent endpoints (consul_agent.hpp) on a fake clock: what is accepted and
// refused as the agent would, TTL health, the reaper, and the http_sd health label.
#include "consul_agent.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

#include "consul_sd.hpp"

namespace moneta::stack_exporter {
namespace {

using namespace std::chrono_literals;
namespace bj = boost::json;

constexpr std::string_view kBody =
    R"({"ID":"moneta-h-8081","Name":"moneta","Address":"127.0.0.1","Port":8081,"Tags":["prometheus"],)"
    R"("Meta":{"metrics_port":"9091"},"Check":{"CheckID":"service:moneta-h-8081","Name":"moneta TTL",)"
    R"("TTL":"15s","DeregisterCriticalServiceAfter":"1m"}})";

std::map<std::string, std::string, std::less<>> health_of(LocalAgent& agent, bj::array* out = nullptr) {
    bj::array all;
    std::map<std::string, std::string, std::less<>> health;
    agent.collect(all, health);
    if (out != nullptr) {
        *out = all;
    }
    return health;
}

TEST(GoDuration, ParsesWhatConsulAccepts) {
    EXPECT_EQ(parse_go_duration("15s"), core::Duration(15s));
    EXPECT_EQ(parse_go_duration("1500ms"), core::Duration(1500ms));
    EXPECT_EQ(parse_go_duration("1m30s"), core::Duration(90s));
    EXPECT_EQ(parse_go_duration("0.5s"), core::Duration(500ms));
    EXPECT_EQ(parse_go_duration("2h"), core::Duration(2h));
    EXPECT_EQ(parse_go_duration("0"), core::Duration(0));
    for (const char* bad : {"", "15", "s", "1x", "-1s", "1.2.3s", "1s2"}) {
        EXPECT_FALSE(parse_go_duration(bad)) << bad;
    }
}

TEST(LocalAgent, RegisterPassDeregisterAsTheAgentAnswers) {
    core::FakeClock clock;
    LocalAgent agent(clock);
    EXPECT_EQ(agent.pass("service:moneta-h-8081").status, 404);
    const auto reg = agent.register_service(kBody);
    EXPECT_EQ(reg.status, 200);
    EXPECT_TRUE(reg.body.empty());
    EXPECT_EQ(health_of(agent).at("moneta-h-8081"), "critical") << "a TTL check starts critical";
    EXPECT_EQ(agent.pass("service%3Amoneta-h-8081").status, 200) << "the path segment is percent-decoded";
    EXPECT_EQ(health_of(agent).at("moneta-h-8081"), "passing");
    clock.advance(16s);
    EXPECT_EQ(health_of(agent).at("moneta-h-8081"), "critical") << "no pass within the TTL";
    EXPECT_EQ(agent.pass("service:moneta-h-8081").status, 200);
    EXPECT_EQ(health_of(agent).at("moneta-h-8081"), "passing");

    const auto unknown = agent.pass("service:other");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.body.rfind("Unknown check ID \"service:other\"", 0), 0U) << unknown.body;

    EXPECT_EQ(agent.deregister("moneta-h-8081").status, 200);
    EXPECT_EQ(agent.size(), 0U);
    const auto again = agent.deregister("moneta-h-8081");
    EXPECT_EQ(again.status, 404);
    EXPECT_NE(again.body.find("Unknown service ID"), std::string::npos);
}

TEST(LocalAgent, RefusesWhatIsNotARegistration) {
    core::FakeClock clock;
    LocalAgent agent(clock);
    for (const char* bad : {"", "nope", "[]", R"({"Port":1})", R"({"Name":"x"})", R"({"Name":"x","Port":0})",
                            R"({"Name":"x","Port":1,"Tags":"a"})", R"({"Name":"x","Port":1,"Meta":{"k":1}})",
                            R"({"Name":"x","Port":1,"Check":{"HTTP":"http://x/"}})",
                            R"({"Name":"x","Port":1,"Check":{"TTL":"15"}})",
                            R"({"Name":"x","Port":1,"Check":{"TTL":"1s","DeregisterCriticalServiceAfter":7}})"}) {
        const auto a = agent.register_service(bad);
        EXPECT_EQ(a.status, 400) << bad;
        EXPECT_FALSE(a.body.empty()) << bad;
    }
    EXPECT_EQ(agent.size(), 0U);
}

TEST(LocalAgent, MutatedBodiesAreAnsweredNeverCrash) {
    // A deterministic mutation run over a valid body: each answer is a 200 or a 400 with a text.
    core::FakeClock clock;
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) {
        LocalAgent agent(clock);  // one registration at a time: the check below stays O(1)
        std::string body(kBody);
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % body.size();
            switch (rng() % 3) {
                case 0: body[at] = static_cast<char>(rng() % 256); break;
                case 1: body.erase(at, 1 + rng() % 8); break;
                default: body.insert(at, 1, "{}[]\",:0\\"[rng() % 8]); break;
            }
            if (body.empty()) {
                body = "{";
            }
        }
        const auto a = agent.register_service(body);
        EXPECT_TRUE(a.status == 200 || (a.status == 400 && !a.body.empty())) << body;
        std::map<std::string, std::string, std::less<>> health;
        bj::array all;
        agent.collect(all, health);  // what was accepted must still map
        EXPECT_TRUE(registrations_to_http_sd(bj::serialize(all), SdNode{}, &health)) << body;
    }
}

TEST(LocalAgent, ReapsAServiceCriticalForDeregisterCriticalServiceAfter) {
    core::FakeClock clock;
    LocalAgent agent(clock);
    ASSERT_EQ(agent.register_service(kBody).status, 200);
    ASSERT_EQ(agent.pass("service:moneta-h-8081").status, 200);
    clock.advance(15s + 59s);  // critical for 59 s
    EXPECT_EQ(health_of(agent).count("moneta-h-8081"), 1U);
    clock.advance(2s);  // critical for 61 s > 1m
    EXPECT_EQ(health_of(agent).count("moneta-h-8081"), 0U) << "the reaper removed it";
    EXPECT_EQ(agent.pass("service:moneta-h-8081").status, 404) << "a pass now tells the service to re-register";
}

TEST(LocalAgent, LiveRegistrationsMapToHttpSdWithTheirHealth) {
    core::FakeClock clock;
    LocalAgent agent(clock);
    ASSERT_EQ(agent.register_service(kBody).status, 200);
    bj::array all;
    auto health = health_of(agent, &all);
    all.push_back(bj::parse(R"({"ID":"redis-1","Name":"redis","Port":6380,"Tags":["prometheus"]})"));
    const auto sd = registrations_to_http_sd(bj::serialize(all), SdNode{}, &health);
    ASSERT_TRUE(sd) << sd.error();
    const auto groups = bj::parse(*sd).as_array();
    ASSERT_EQ(groups.size(), 2U);
    EXPECT_EQ(groups[0].at("labels").at("__meta_consul_service_id").as_string(), "moneta-h-8081");
    EXPECT_EQ(groups[0].at("labels").at("__meta_consul_health").as_string(), "critical");
    EXPECT_EQ(groups[1].at("labels").at("__meta_consul_health").as_string(), "passing") << "static entries";
    const auto services = bj::parse(agent.services_json()).as_object();
    EXPECT_EQ(services.at("moneta-h-8081").at("Service").as_string(), "moneta");
    EXPECT_EQ(services.at("moneta-h-8081").at("Port").as_int64(), 8081);
}

}  // namespace
}  // namespace moneta::stack_exporter
