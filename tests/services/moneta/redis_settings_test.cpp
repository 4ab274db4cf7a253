// `redis.mode` / `redis.nodes` (docs/config.md): single by default, cluster with 1..16
// "host:port" seeds, and every malformed value refused by name.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "settings_fixture.hpp"

namespace moneta {
namespace {

namespace bj = boost::json;

class RedisSettingsTest : public testing::SettingsFileTest {
protected:
    static std::function<void(bj::object&)> redis(bj::value mode, bj::value nodes) {
        return [mode, nodes](bj::object& o) {
            bj::object& r = o["redis"].as_object();
            if (!mode.is_null()) {
                r["mode"] = mode;
            }
            if (!nodes.is_null()) {
                r["nodes"] = nodes;
            }
        };
    }
};

TEST_F(RedisSettingsTest, SingleIsTheDefaultAndClusterTakesItsSeeds) {
    const auto single = load();
    ASSERT_TRUE(single) << single.error();
    EXPECT_FALSE(single->redis_cluster);
    EXPECT_TRUE(single->redis_nodes.empty());

    const auto cluster = load(redis("cluster", bj::array{"10.0.0.1:7000", "redis-2.internal:7001", "::1:7002"}));
    ASSERT_TRUE(cluster) << cluster.error();
    EXPECT_TRUE(cluster->redis_cluster);
    ASSERT_EQ(cluster->redis_nodes.size(), 3U);
    EXPECT_EQ(cluster->redis_nodes[0], (redis::NodeAddress{"10.0.0.1", 7000}));
    EXPECT_EQ(cluster->redis_nodes[1], (redis::NodeAddress{"redis-2.internal", 7001}));
    EXPECT_EQ(cluster->redis_nodes[2], (redis::NodeAddress{"::1", 7002}));  // the port after the last colon
}

TEST_F(RedisSettingsTest, TheEnvironmentSelectsClusterModeAndItsSeeds) {
    // What `./dev up --cluster` sets (scripts/stack.sh).
    ::setenv("MONETA_REDIS_MODE", "cluster", 1);
    ::setenv("MONETA_REDIS_NODES", "127.0.0.1:7000,127.0.0.1:7001", 1);
    const auto cluster = load();
    ASSERT_TRUE(cluster) << cluster.error();
    EXPECT_TRUE(cluster->redis_cluster);
    ASSERT_EQ(cluster->redis_nodes.size(), 2U);
    EXPECT_EQ(cluster->redis_nodes[1], (redis::NodeAddress{"127.0.0.1", 7001}));

    ::setenv("MONETA_REDIS_NODES", "127.0.0.1:7000,", 1);
    const auto trailing = load();
    ASSERT_FALSE(trailing);
    EXPECT_NE(trailing.error().find("MONETA_REDIS_NODES"), std::string::npos) << trailing.error();

    ::unsetenv("MONETA_REDIS_NODES");
    const auto no_seeds = load();
    ASSERT_FALSE(no_seeds);
    EXPECT_NE(no_seeds.error().find("redis.nodes: cluster mode needs"), std::string::npos) << no_seeds.error();
}

TEST_F(RedisSettingsTest, MalformedModesAndNodesAreRefusedByName) {
    bj::array seventeen;
    for (int i = 0; i < 17; ++i) {
        seventeen.push_back(bj::value("h:" + std::to_string(7000 + i)));
    }
    const struct {
        std::function<void(bj::object&)> edit;
        const char* expect;
    } cases[] = {
        {redis("sentinel", nullptr), "redis.mode"},
        {redis("", nullptr), "redis.mode"},
        {redis("cluster", nullptr), "redis.nodes: cluster mode needs"},
        {redis("cluster", bj::array{}), "redis.nodes: cluster mode needs"},
        {redis("cluster", seventeen), "redis.nodes: cluster mode needs"},
        {redis("single", bj::array{"h:1"}), "redis.nodes: only for"},
        {redis(nullptr, bj::array{"h:1"}), "redis.nodes: only for"},
        {redis("cluster", bj::array{"nohost"}), "is not host:port"},
        {redis("cluster", bj::array{":7000"}), "is not host:port"},
        {redis("cluster", bj::array{"h:0"}), "is not host:port"},
        {redis("cluster", bj::array{"h:65536"}), "is not host:port"},
        {redis("cluster", bj::array{"h:70x"}), "is not host:port"},
        {redis("cluster", bj::array{"h:"}), "is not host:port"},
        {redis("cluster", bj::array{"h:-1"}), "is not host:port"},
        {redis("cluster", bj::array{"h:+7000"}), "is not host:port"},
        {redis("cluster", bj::array{"h: 7000"}), "is not host:port"},
        {redis("cluster", bj::array{7000}), "redis.nodes"},
    };
    for (const auto& c : cases) {
        const auto s = load(c.edit);
        ASSERT_FALSE(s) << c.expect;
        EXPECT_NE(s.error().find(c.expect), std::string::npos) << s.error();
    }
}

}  // namespace
}  // namespace moneta
