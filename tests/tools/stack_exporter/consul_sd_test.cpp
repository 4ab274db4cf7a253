#include "consul_sd.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace moneta::stack_exporter {
namespace {

namespace bj = boost::json;

bj::array groups_of(std::string_view registrations, const SdNode& node = {}) {
    const auto sd = registrations_to_http_sd(registrations, node);
    EXPECT_TRUE(sd) << sd.error();
    if (!sd) {
        return {};
    }
    return bj::parse(*sd).as_array();
}

TEST(ConsulSdTest, MapsARegistrationToConsulSdsTargetAndLabels) {
    const auto groups = groups_of(R"([{"ID": "moneta-8081", "Name": "moneta", "Address": "10.0.0.5", "Port": 8081,
        "Tags": ["prometheus", "playback"], "Meta": {"metrics_port": "9091", "version": "1.2.3"}}])",
                                  {.name = "node-a", .datacenter = "eu1", .address = "10.0.0.1"});
    ASSERT_EQ(groups.size(), 1U);
    const bj::object& g = groups[0].as_object();
    EXPECT_EQ(g.at("targets"), (bj::array{"10.0.0.5:8081"}));
    const bj::object expected{
        {"__meta_consul_service", "moneta"},
        {"__meta_consul_service_id", "moneta-8081"},
        {"__meta_consul_service_address", "10.0.0.5"},
        {"__meta_consul_service_port", "8081"},
        {"__meta_consul_tags", ",prometheus,playback,"},
        {"__meta_consul_node", "node-a"},
        {"__meta_consul_dc", "eu1"},
        {"__meta_consul_address", "10.0.0.1"},
        {"__meta_consul_health", "passing"},
        {"__meta_consul_service_metadata_metrics_port", "9091"},
        {"__meta_consul_service_metadata_version", "1.2.3"},
    };
    EXPECT_EQ(g.at("labels").as_object(), expected);
}

TEST(ConsulSdTest, DefaultsFollowConsul) {
    // No ID: the name. No Address: the node's address is the target, the label stays empty. No
    // tags: ",". Meta keys become label-name characters.
    const auto groups = groups_of(R"([{"Name": "redis", "Port": 6380, "Meta": {"metrics-path": "/x"}},
                                      {"Name": "nginx", "ID": "", "Address": "", "Port": 8080, "Tags": []}])");
    ASSERT_EQ(groups.size(), 2U);
    const bj::object& redis = groups[0].as_object();
    EXPECT_EQ(redis.at("targets"), (bj::array{"127.0.0.1:6380"}));
    const bj::object& labels = redis.at("labels").as_object();
    EXPECT_EQ(labels.at("__meta_consul_service_id"), "redis");
    EXPECT_EQ(labels.at("__meta_consul_service_address"), "");
    EXPECT_EQ(labels.at("__meta_consul_tags"), ",");
    EXPECT_EQ(labels.at("__meta_consul_service_metadata_metrics_path"), "/x");
    EXPECT_EQ(groups[1].as_object().at("labels").as_object().at("__meta_consul_service_id"), "nginx");
}

TEST(ConsulSdTest, AnEmptyListIsNoTargets) { EXPECT_TRUE(groups_of("[]").empty()); }

TEST(ConsulSdTest, MalformedRegistrationsAreRefusedNamingTheEntry) {
    struct Case {
        const char* json;
        const char* message;  // a part of the error
    };
    const Case cases[] = {
        {"{", "not JSON"},
        {R"({"Name": "moneta", "Port": 1})", "expected a JSON array"},
        {R"([1])", "registrations[0]: expected an object"},
        {R"([{"Port": 1}])", "registrations[0]: Name"},
        {R"([{"Name": "", "Port": 1}])", "registrations[0]: Name"},
        {R"([{"Name": "a", "Port": 1}, {"Name": "b", "Port": 0}])", "registrations[1]: Port"},
        {R"([{"Name": "a", "Port": 70000}])", "Port"},
        {R"([{"Name": "a", "Port": "80"}])", "Port"},
        {R"([{"Name": "a", "Port": 1, "Address": 5}])", "Address"},
        {R"([{"Name": "a", "Port": 1, "Tags": "prometheus"}])", "Tags"},
        {R"([{"Name": "a", "Port": 1, "Tags": [1]}])", "Tags"},
        {R"([{"Name": "a", "Port": 1, "Meta": {"k": 1}}])", "Meta"},
        {R"([{"Name": "a", "Port": 1}, {"Name": "a", "Port": 2}])", "registrations[1]: duplicate ID a"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.json);
        const auto sd = registrations_to_http_sd(c.json, {});
        ASSERT_FALSE(sd);
        EXPECT_NE(sd.error().find(c.message), std::string::npos) << sd.error();
    }
}

}  // namespace
}  // namespace moneta::stack_exporter
