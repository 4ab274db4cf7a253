// redis::ClusterClient against a real Redis Cluster (3 masters + 3 replicas of Debian's
// redis-server): routing by slot, pipelines kept whole or split, EVALSHA with NOSCRIPT per
// node, MOVED after a slot moved, ASK while it moves, and a master killed (-9) under calls.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <iostream>
#include <random>
#include <set>
#include <string>

#include "coro_util.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/redis/any_client.hpp"
#include "moneta/redis/cluster_client.hpp"
#include "moneta/testing/redis_cluster.hpp"

namespace moneta::redis::testing {
namespace {

using namespace std::chrono_literals;
using moneta::testing::RedisCluster;

class ClusterClientTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto c = RedisCluster::start();
        if (!c) {
            GTEST_FAIL() << "cluster did not start: " << c.error().message();
        }
        cluster_ = new RedisCluster(std::move(*c));
    }
    static void TearDownTestSuite() {
        delete cluster_;
        cluster_ = nullptr;
    }
    void SetUp() override { ASSERT_NE(cluster_, nullptr); }
    void TearDown() override {
        if (client_) {
            client_->stop();
            run_until(io_, [] { return false; }, 50ms);  // let the stop complete its callbacks
        }
    }

    ClusterConfig config() const {
        ClusterConfig c;
        c.seeds = {{"127.0.0.1", cluster_->port(0)}, {"127.0.0.1", cluster_->port(1)}};
        c.node.command_timeout = 2s;
        return c;
    }
    ClusterClient& connect(ClusterConfig c) {
        client_ = std::make_unique<ClusterClient>(io_.get_executor(), std::move(c), core::SystemClock::instance());
        client_->start();
        auto up = run(io_, client_->async_wait_connected(10s));
        EXPECT_TRUE(up && *up) << "the cluster client did not learn the slot map";
        return *client_;
    }
    core::Result<Reply> call(const std::vector<std::string>& args) {
        std::vector<std::string_view> v(args.begin(), args.end());
        auto r = run(io_, client_->async_command(v, core::Deadline::after(core::SystemClock::instance(), 5s)));
        return r ? std::move(*r) : core::Result<Reply>(core::make_error(core::Errc::kTimeout));
    }

    static RedisCluster* cluster_;
    boost::asio::io_context io_;
    std::unique_ptr<ClusterClient> client_;
};
RedisCluster* ClusterClientTest::cluster_ = nullptr;

TEST_F(ClusterClientTest, KeySlotAgreesWithTheClustersKeyslot) {
    std::mt19937 rng(7);
    std::vector<std::string> keys = {"", "{", "}", "{}", "{}x", "x{}", "a{b}c", "a{{b}}", "{a}{b}", "ent:{a:42}",
                                     "sm:{a:42}:ps_abc", std::string("\xff\x00{z}", 5)};
    for (int i = 0; i < 300; ++i) {
        std::string k;
        const int len = static_cast<int>(rng() % 40);
        for (int j = 0; j < len; ++j) {
            k += static_cast<char>(rng() % 4 == 0 ? "{}"[rng() % 2] : 32 + rng() % 95);
        }
        keys.push_back(k);
    }
    for (const auto& k : keys) {
        const std::string want = cluster_->node(0).command({"CLUSTER", "KEYSLOT", k});
        EXPECT_EQ(std::to_string(key_slot(k)), want) << "key '" << k << "'";
    }
}

TEST_F(ClusterClientTest, CommandsGoToTheMasterOfTheirSlot) {
    auto& c = connect(config());
    for (int i = 0; i < 60; ++i) {
        const std::string key = "route:" + std::to_string(i);
        auto set = call({"SET", key, "v" + std::to_string(i)});
        ASSERT_TRUE(set) << set.error().message();
        ASSERT_FALSE(set->is_error()) << set->to_string();
        // Stored on the master the cluster says owns the slot (asked directly, no client).
        const std::size_t owner = cluster_->master_of_slot(key_slot(key));
        ASSERT_LT(owner, cluster_->size());
        EXPECT_EQ(cluster_->node(owner).command({"GET", key}), "v" + std::to_string(i));
        EXPECT_EQ(c.master_of(key_slot(key))->port, cluster_->port(owner));
    }
    EXPECT_EQ(c.stats().moved_total.load(), 0U) << "the map was right: no redirection";
    EXPECT_EQ(c.stats().masters.load(), 3);
    std::size_t used = 0;
    for (const Client* n : c.nodes()) {
        used += n->stats().commands_total.load() > 0 ? 1 : 0;
    }
    EXPECT_EQ(used, 3U) << "60 keys spread over all three masters";
}

TEST_F(ClusterClientTest, AOneSlotPipelineIsOneRoundTripAndAMixedOneIsSplitInOrder) {
    auto& c = connect(config());
    Pipeline same;
    same.add({"SET", "{acct:1}:a", "1"}).add({"SET", "{acct:1}:b", "2"}).add({"MGET", "{acct:1}:a", "{acct:1}:b"});
    auto r = run(io_, c.async_pipeline(same, core::Deadline::never()));
    ASSERT_TRUE(r && *r);
    ASSERT_EQ((*r)->size(), 3U);
    EXPECT_EQ((**r)[2][1].as_string_view(), "2");
    EXPECT_EQ(c.stats().split_pipelines_total.load(), 0U);

    // Keys on three different masters, interleaved: replies come back in the caller's order.
    std::vector<std::string> keys;
    for (int i = 0; keys.size() < 9; ++i) {
        keys.push_back("mix:" + std::to_string(i));
    }
    Pipeline mixed;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        mixed.add({"SET", keys[i], "val" + std::to_string(i)});
    }
    for (const auto& k : keys) {
        mixed.add({"GET", k});
    }
    std::set<std::uint16_t> owners;
    for (const auto& k : keys) {
        owners.insert(c.master_of(key_slot(k))->port);
    }
    ASSERT_GE(owners.size(), 2U) << "the test needs keys on more than one master";
    auto m = run(io_, c.async_pipeline(mixed, core::Deadline::never()));
    ASSERT_TRUE(m && *m);
    ASSERT_EQ((*m)->size(), 2 * keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ((**m)[i].as_string_view(), "OK");
        EXPECT_EQ((**m)[keys.size() + i].as_string_view(), "val" + std::to_string(i)) << keys[i];
    }
    EXPECT_EQ(c.stats().split_pipelines_total.load(), 1U);
    // One part per master, all sent at once: the parts beyond the first add exchanges, no wait.
    EXPECT_EQ(c.stats().parallel_sends_total.load(), owners.size() - 1);
    std::uint64_t exchanges = 0;
    for (const Client* n : c.nodes()) {
        exchanges += n->stats().round_trips_total.load();
    }
    EXPECT_GE(exchanges, 1 + owners.size()) << "the one-slot pipeline, then one per master";
}

// What moneta's metrics read: a split pipeline is one round trip (one wait), however many
// masters it went to.
TEST_F(ClusterClientTest, AnyClientCountsASplitPipelineAsOneRoundTrip) {
    AnyClient any(io_.get_executor(), config().node, config().seeds, core::SystemClock::instance());
    any.start();
    ASSERT_TRUE(run_until(io_, [&] { return any.connected(); }, 10s));
    const std::uint64_t before = any.totals().round_trips;
    Pipeline mixed;
    for (int i = 0; i < 12; ++i) {
        mixed.add({"SET", "rt:" + std::to_string(i), "x"});
    }
    auto m = run(io_, any.async_pipeline(mixed, core::Deadline::never()));
    ASSERT_TRUE(m && *m);
    EXPECT_EQ(any.totals().round_trips - before, 1U);
    any.stop();
    run_until(io_, [] { return false; }, 50ms);
}

TEST_F(ClusterClientTest, ScriptsRunOnEveryMasterAndNoscriptIsRecoveredPerNode) {
    auto& c = connect(config());
    Script incr("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    std::vector<std::string> keys;
    std::set<std::uint16_t> owners;
    for (int i = 0; owners.size() < 3; ++i) {
        keys.push_back("script:" + std::to_string(i));
        owners.insert(c.master_of(key_slot(keys.back()))->port);
    }
    for (const auto& k : keys) {
        auto r = run(io_, c.async_eval(incr, {k}, {"5"}, core::Deadline::never()));
        ASSERT_TRUE(r && *r);
        EXPECT_EQ((*r)->as_integer(), 5) << (*r)->to_string();
    }
    const auto reloads = [&] {
        std::uint64_t n = 0;
        for (const Client* node : c.nodes()) {
            n += node->stats().noscript_reloads_total.load();
        }
        return n;
    };
    const std::uint64_t first = reloads();
    EXPECT_GE(first, 3U) << "each master learned the script on its first EVALSHA";
    // Every master forgets its scripts (a restart, a failover to a replica without them).
    for (std::size_t m = 0; m < 3; ++m) {
        EXPECT_EQ(cluster_->node(m).command({"SCRIPT", "FLUSH"}), "OK");
    }
    for (const auto& k : keys) {
        auto r = run(io_, c.async_eval(incr, {k}, {"1"}, core::Deadline::never()));
        ASSERT_TRUE(r && *r);
        EXPECT_EQ((*r)->as_integer(), 6) << (*r)->to_string();
    }
    EXPECT_EQ(reloads() - first, 3U) << "one EVAL per master, then EVALSHA again";
}

/// Moves @p slot from master @p from to master @p to the way redis-cli --cluster reshard does,
/// stopping after the keys moved when @p finish is false (the slot is still "migrating").
void move_slot(RedisCluster& cl, std::uint16_t slot, std::size_t from, std::size_t to, bool finish) {
    const std::string s = std::to_string(slot);
    const std::string from_id = cl.node(from).command({"CLUSTER", "MYID"});
    const std::string to_id = cl.node(to).command({"CLUSTER", "MYID"});
    ASSERT_EQ(cl.node(to).command({"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}), "OK");
    ASSERT_EQ(cl.node(from).command({"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}), "OK");
    for (const auto& key : cl.node(from).command_list({"CLUSTER", "GETKEYSINSLOT", s, "1000"})) {
        ASSERT_EQ(cl.node(from).command({"MIGRATE", "127.0.0.1", std::to_string(cl.port(to)), key, "0", "5000"}), "OK");
    }
    if (finish) {
        ASSERT_EQ(cl.node(to).command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "OK");
        ASSERT_EQ(cl.node(from).command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "OK");
    }
}

TEST_F(ClusterClientTest, AMovedSlotIsFollowedAndTheMapUpdated) {
    auto& c = connect(config());
    const std::string key = "moving:{m1}";
    const std::uint16_t slot = key_slot(key);
    ASSERT_TRUE(call({"SET", key, "before"}));
    const std::size_t from = cluster_->master_of_slot(slot);
    const std::size_t to = (from + 1) % 3;
    move_slot(*cluster_, slot, from, to, true);
    // The client still maps the slot to the old master, which answers MOVED.
    EXPECT_EQ(c.master_of(slot)->port, cluster_->port(from));
    auto get = call({"GET", key});
    ASSERT_TRUE(get) << get.error().message();
    EXPECT_EQ(get->as_string_view(), "before") << get->to_string();
    EXPECT_GE(c.stats().moved_total.load(), 1U);
    EXPECT_EQ(c.master_of(slot)->port, cluster_->port(to));
    // A pipeline to the moved slot is redirected too.
    move_slot(*cluster_, slot, to, from, true);
    Pipeline p;
    p.add({"SET", key, "after"}).add({"GET", key});
    auto r = run(io_, c.async_pipeline(p, core::Deadline::never()));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((**r)[1].as_string_view(), "after") << (**r)[1].to_string();
    EXPECT_EQ(cluster_->node(from).command({"GET", key}), "after");
}

TEST_F(ClusterClientTest, AnAskDuringAMigrationGoesToTheTargetWithAsking) {
    auto& c = connect(config());
    const std::string key = "asking:{q7}";
    const std::uint16_t slot = key_slot(key);
    ASSERT_TRUE(call({"SET", key, "here"}));
    const std::size_t from = cluster_->master_of_slot(slot);
    const std::size_t to = (from + 2) % 3;
    move_slot(*cluster_, slot, from, to, false);  // keys moved, slot still migrating
    auto get = call({"GET", key});
    ASSERT_TRUE(get) << get.error().message();
    EXPECT_EQ(get->as_string_view(), "here") << get->to_string();
    EXPECT_GE(c.stats().ask_total.load(), 1U);
    EXPECT_EQ(c.master_of(slot)->port, cluster_->port(from)) << "an ASK does not change the map";
    // Finish the move so later tests see a stable cluster.
    const std::string to_id = cluster_->node(to).command({"CLUSTER", "MYID"});
    EXPECT_EQ(cluster_->node(to).command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", to_id}), "OK");
    EXPECT_EQ(cluster_->node(from).command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", to_id}), "OK");
}

TEST_F(ClusterClientTest, AnyClientWithSeedsIsTheClusterClient) {
    // What moneta's workers hold: redis.mode "cluster" gives the seeds, "single" none.
    AnyClient any(io_.get_executor(), config().node, config().seeds, core::SystemClock::instance());
    ASSERT_TRUE(any.is_cluster());
    any.start();
    ASSERT_TRUE(run_until(io_, [&] { return any.connected(); }, 10s));
    for (int i = 0; i < 10; ++i) {
        const std::string key = "any:" + std::to_string(i);
        auto r = run(io_, any.async_command({"SET", key, "x"}, core::Deadline::never()));
        ASSERT_TRUE(r && *r && !(*r)->is_error());
        EXPECT_EQ(cluster_->node(cluster_->master_of_slot(key_slot(key))).command({"GET", key}), "x");
    }
    const ClientTotals t = any.totals();
    EXPECT_GE(t.commands, 10U);
    EXPECT_EQ(t.expected, 3U) << "one connection per master";
    EXPECT_EQ(t.connected, 3U) << "the masters' connections (seeds' others do not count)";
    any.stop();
    run_until(io_, [] { return false; }, 50ms);

    AnyClient single(io_.get_executor(), config().node, {}, core::SystemClock::instance());
    EXPECT_FALSE(single.is_cluster());
}

TEST_F(ClusterClientTest, BadConfigsAreRefused) {
    ClusterConfig c = config();
    EXPECT_TRUE(validate(c));
    c.seeds.clear();
    EXPECT_FALSE(validate(c));
    c = config();
    c.seeds.push_back({"", 1});
    EXPECT_FALSE(validate(c));
    c = config();
    c.seeds.assign(17, {"127.0.0.1", 7000});  // a bound on the node clients a config can ask for
    EXPECT_FALSE(validate(c));
    c = config();
    c.max_redirects = 0;
    EXPECT_FALSE(validate(c));
    c = config();
    c.refresh_interval = 1ms;
    c.refresh_min_gap = 1s;
    EXPECT_FALSE(validate(c));
}

// Last (and on its own cluster): a master is killed under calls; its replica takes over and the
// client follows within the node timeout plus a few refreshes.
TEST(ClusterFailoverTest, AKilledMastersReplicaTakesOverAndTheClientFollows) {
    auto cl = RedisCluster::start();
    ASSERT_TRUE(cl) << cl.error().message();
    boost::asio::io_context io;
    ClusterConfig cfg;
    cfg.seeds = {{"127.0.0.1", cl->port(0)}, {"127.0.0.1", cl->port(1)}, {"127.0.0.1", cl->port(2)}};
    cfg.node.command_timeout = 500ms;
    ClusterClient c(io.get_executor(), cfg, core::SystemClock::instance());
    c.start();
    auto up = run(io, c.async_wait_connected(10s));
    ASSERT_TRUE(up && *up);
    const std::string key = "failover:{f}";
    const std::uint16_t slot = key_slot(key);
    const std::size_t victim = cl->master_of_slot(slot);
    ASSERT_LT(victim, 3U);
    auto set = run(io, c.async_command({"SET", key, "kept"}, core::Deadline::never()));
    ASSERT_TRUE(set && *set);
    // WAIT: the replica has the write before its master dies.
    ASSERT_EQ(cl->node(victim).command({"WAIT", "1", "2000"}), "1");
    EXPECT_EQ(c.master_connections().connected, 3U);
    cl->node(victim).kill9();
    const auto killed = std::chrono::steady_clock::now();
    // The dead master's connection drops: 2 of 3 up until the map names its replica.
    ASSERT_TRUE(run_until(io, [&] { return c.master_connections().connected < 3; }, 10s));
    std::optional<std::string> got;
    int failures = 0;
    while (std::chrono::steady_clock::now() - killed < 20s) {
        auto r = run(io, c.async_command({"GET", key}, core::Deadline::after(core::SystemClock::instance(), 1s)));
        if (r && *r && (*r)->is_string()) {
            got = std::string((*r)->as_string_view());
            break;
        }
        ++failures;
        run_until(io, [] { return false; }, 100ms);  // the calls fail fast while nothing serves the slot
    }
    const auto window = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
    ASSERT_TRUE(got) << "no answer for the slot 20 s after its master died";
    EXPECT_EQ(*got, "kept") << "the acknowledged, replicated write survived";
    EXPECT_GT(failures, 0) << "the first calls after the kill did fail (the test saw the window)";
    const auto now_master = c.master_of(slot);
    ASSERT_TRUE(now_master);
    EXPECT_NE(now_master->port, cl->port(victim));
    EXPECT_EQ(cl->index_of_port(now_master->port), 3 + victim) << "its own replica took over";
    EXPECT_EQ(c.master_connections().masters, 3U);
    EXPECT_TRUE(run_until(io, [&] { return c.master_connections().connected == 3; }, 5s)) << "the promoted replica's";
    // cluster-node-timeout 1 s + election + refresh: well under 10 s on this machine.
    EXPECT_LT(window, 10s) << window.count() << " ms without the slot";
    std::cout << "failover window: " << window.count() << " ms, " << failures << " failed calls\n";
    c.stop();
    run_until(io, [] { return false; }, 50ms);
}

}  // namespace
}  // namespace moneta::redis::testing
