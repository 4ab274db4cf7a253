// The pure parts of cluster routing: slots, the key a command routes by, MOVED/ASK, CLUSTER
// SLOTS replies, and cutting an encoded pipeline into its commands. (cluster_client_redis_test
// checks key_slot against a real cluster's CLUSTER KEYSLOT.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "moneta/redis/cluster.hpp"
#include "moneta/redis/pipeline.hpp"

namespace moneta::redis {
namespace {

TEST(KeySlotTest, MatchesRedisDocumentedValues) {
    // CRC16/XMODEM check value of "123456789" is 0x31C3 (Redis's crc16.c test).
    EXPECT_EQ(key_slot("123456789"), 0x31C3 & 0x3FFF);
    EXPECT_EQ(key_slot("foo"), 12182);
    EXPECT_EQ(key_slot("somekey"), 11058);
    EXPECT_EQ(key_slot(""), 0);
}

TEST(KeySlotTest, HashTagsFollowTheFirstBraceRule) {
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
    EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));       // the first tag only
    EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));      // from the first '{' to the next '}'
    EXPECT_EQ(key_slot("foo{}{bar}"), key_slot("foo{}{bar}"));   // empty tag: the whole key
    EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
    EXPECT_NE(key_slot("{}foo"), key_slot(""));
    EXPECT_EQ(key_slot("no{close"), key_slot(std::string("no{close")));
    // moneta's account keys: every key of one account in one slot.
    EXPECT_EQ(key_slot("ent:{a:42}"), key_slot("sm:{a:42}:ps_1"));
    EXPECT_EQ(key_slot("prog:{a:42}:p1"), key_slot("dirty:{a:42}"));
}

TEST(CommandKeyTest, FindsTheKeyCommandsRouteBy) {
    using V = std::vector<std::string_view>;
    EXPECT_EQ(command_key(V{"GET", "k"}), "k");
    EXPECT_EQ(command_key(V{"hmget", "h", "a", "b"}), "h");
    EXPECT_EQ(command_key(V{"EVALSHA", "abc", "2", "k1", "k2", "arg"}), "k1");
    EXPECT_EQ(command_key(V{"eval", "return 1", "0"}), std::nullopt);  // numkeys 0: any node
    EXPECT_EQ(command_key(V{"EVALSHA", "abc", "x", "k1"}), std::nullopt);  // not a number
    EXPECT_EQ(command_key(V{"XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s", ">"}), "s");
    EXPECT_EQ(command_key(V{"XREAD", "COUNT", "1", "streams", "s", "0"}), "s");
    EXPECT_EQ(command_key(V{"XREADGROUP", "GROUP", "g", "c"}), std::nullopt);
    EXPECT_EQ(command_key(V{"PING"}), std::nullopt);
    EXPECT_EQ(command_key(V{"SCAN", "0"}), std::nullopt);
    EXPECT_EQ(command_key(V{"CLUSTER", "SLOTS"}), std::nullopt);
    EXPECT_EQ(command_key(V{}), std::nullopt);
}

TEST(RedirectTest, ParsesMovedAndAsk) {
    auto m = parse_redirect("MOVED 3999 127.0.0.1:6381");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, Redirect::Kind::kMoved);
    EXPECT_EQ(m->slot, 3999);
    EXPECT_EQ(m->node, (NodeAddress{"127.0.0.1", 6381}));
    auto a = parse_redirect("ASK 16383 10.0.0.7:7005");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, Redirect::Kind::kAsk);
    EXPECT_EQ(a->slot, 16383);
    EXPECT_EQ(a->node.port, 7005);
    // An IPv6 host keeps its colons; the port is after the last one.
    auto v6 = parse_redirect("MOVED 1 ::1:7000");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->node.host, "::1");
    // An empty host means "the node you asked".
    auto empty = parse_redirect("MOVED 5 :7001", "127.0.0.9");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->node, (NodeAddress{"127.0.0.9", 7001}));
}

TEST(RedirectTest, RefusesAnythingElse) {
    for (const char* bad : {"MOVED", "MOVED 3999", "MOVED 16384 h:1", "MOVED -1 h:1", "MOVED x h:1", "MOVED 1 h:0",
                            "MOVED 1 h:65536", "MOVED 1 h", "MOVED 1 :1", "ASK 1 h:1x", "MOVED 1 h:1 extra",
                            "ERR MOVED 1 h:1", "TRYAGAIN Multiple keys request during rehashing of slot",
                            "CLUSTERDOWN The cluster is down", "moved 1 h:1", "MOVED 01234567890 h:1"}) {
        EXPECT_FALSE(parse_redirect(bad)) << bad;
    }
}

Reply resp(std::string_view wire) {
    auto r = Reply::from_resp(wire);
    EXPECT_TRUE(r) << wire;
    return r ? std::move(*r) : Reply{};
}

TEST(ClusterSlotsTest, DecodesRangesAndMasters) {
    // Two ranges; the second master's host is empty ("the node you asked"); replicas ignored;
    // Redis 7 adds the node id as a third field.
    const Reply r = resp(
        "*2\r\n"
        "*4\r\n:0\r\n:8191\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$3\r\nid1\r\n*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$3\r\nid4\r\n"
        "*3\r\n:8192\r\n:16383\r\n*2\r\n$0\r\n\r\n:7001\r\n");
    auto ranges = parse_cluster_slots(r.view(), "10.1.1.1");
    ASSERT_TRUE(ranges) << ranges.error().message();
    ASSERT_EQ(ranges->size(), 2U);
    EXPECT_EQ((*ranges)[0].first, 0);
    EXPECT_EQ((*ranges)[0].last, 8191);
    EXPECT_EQ((*ranges)[0].master, (NodeAddress{"127.0.0.1", 7000}));
    EXPECT_EQ((*ranges)[1].master, (NodeAddress{"10.1.1.1", 7001}));
}

TEST(ClusterSlotsTest, RefusesMalformedReplies) {
    for (const char* bad : {
             ":1\r\n",                                                  // not an array
             "*1\r\n*2\r\n:0\r\n:1\r\n",                                // no master
             "*1\r\n*3\r\n:5\r\n:4\r\n*2\r\n$1\r\nh\r\n:1\r\n",         // last < first
             "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n",     // beyond the last slot
             "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:0\r\n",         // port 0
             "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:70000\r\n",     // port > 65535
             "*1\r\n*3\r\n:0\r\n:1\r\n*1\r\n$1\r\nh\r\n",               // master without port
             "*1\r\n*3\r\n$1\r\n0\r\n:1\r\n*2\r\n$1\r\nh\r\n:1\r\n",    // slot as a string
         }) {
        const Reply r = resp(bad);
        EXPECT_FALSE(parse_cluster_slots(r.view(), "")) << bad;
    }
    // An empty host with no fallback address cannot be used.
    const Reply r = resp("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$0\r\n\r\n:1\r\n");
    EXPECT_FALSE(parse_cluster_slots(r.view(), ""));
}

TEST(ForEachCommandTest, CutsAPipelineIntoItsCommands) {
    Script script("return 1");
    Pipeline p;
    p.add({"GET", "a"}).add_eval(script, {"k1"}, {"x"}).add({"HSET", "h", "f", std::string_view("v\r\nw", 4)});
    std::vector<std::string> names;
    std::vector<std::string> keys;
    std::string joined;
    ASSERT_TRUE(for_each_command(p.wire(), [&](std::string_view bytes, std::span<const std::string_view> args) {
        names.emplace_back(args[0]);
        keys.emplace_back(command_key(args).value_or("-"));
        joined += bytes;
    }));
    EXPECT_EQ(names, (std::vector<std::string>{"GET", "EVALSHA", "HSET"}));
    EXPECT_EQ(keys, (std::vector<std::string>{"a", "k1", "h"}));
    EXPECT_EQ(joined, p.wire());  // the pieces are the whole, in order
    // Re-encoding the pieces gives the same bytes.
    Pipeline q;
    ASSERT_TRUE(for_each_command(p.wire(), [&](std::string_view bytes, auto) { q.add_encoded(bytes); }));
    EXPECT_EQ(q.wire(), p.wire());
    EXPECT_EQ(q.size(), 3U);
}

TEST(ForEachCommandTest, StopsAtBytesThatAreNotACommand) {
    for (const char* bad : {"*1\r\n$3\r\nGET\r", "*0\r\n", "*1\r\n$4\r\nGET\r\n", "+OK\r\n", "*1\r\n$-1\r\n",
                            "*1\r\n$3\r\nGETxx", "*2\r\n$3\r\nGET\r\n", "*x\r\n"}) {
        int calls = 0;
        EXPECT_FALSE(for_each_command(bad, [&](auto, auto) { ++calls; })) << bad;
        EXPECT_EQ(calls, 0) << bad;
    }
}

}  // namespace
}  // namespace moneta::redis
