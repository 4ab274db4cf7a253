#include "redis_info.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::stack_exporter {
namespace {

// Excerpts of Redis 7.0's `INFO` and `INFO commandstats` replies (CRLF, as on the wire).
constexpr std::string_view kInfo =
    "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:60\r\n\r\n"
    "# Clients\r\nconnected_clients:4\r\nblocked_clients:0\r\nmaxclients:10000\r\n\r\n"
    "# Memory\r\nused_memory:1194152\r\nused_memory_human:1.14M\r\nmaxmemory:0\r\n"
    "total_system_memory:25276194816\r\nmem_fragmentation_ratio:11.05\r\n\r\n"
    "# Persistence\r\naof_enabled:1\r\naof_last_write_status:err\r\naof_last_bgrewrite_status:ok\r\n"
    "rdb_last_bgsave_status:ok\r\n\r\n"
    "# Stats\r\ntotal_commands_processed:2485\r\ninstantaneous_ops_per_sec:39\r\nkeyspace_hits:4724\r\n\r\n"
    "# Replication\r\nrole:master\r\n\r\n"
    "# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=0\r\n";
constexpr std::string_view kCommandstats =
    "# Commandstats\r\n"
    "cmdstat_evalsha:calls=52,usec=865,usec_per_call=16.63,rejected_calls=1,failed_calls=4\r\n"
    "cmdstat_script|load:calls=1,usec=50,usec_per_call=50.00,rejected_calls=0,failed_calls=0\r\n";

std::string rendered() {
    const auto info = parse_redis_info(std::string(kInfo) + "\n" + std::string(kCommandstats));
    EXPECT_TRUE(info);
    metrics::Registry registry;
    if (info) {
        add_redis_info(registry, *info);
    }
    return registry.render_text();
}

TEST(RedisInfoTest, ParsesFieldsCommandstatsAndKeyspace) {
    const auto info = parse_redis_info(std::string(kInfo) + "\n" + std::string(kCommandstats));
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->fields.at("used_memory"), "1194152");
    EXPECT_EQ(info->fields.at("role"), "master");
    ASSERT_EQ(info->commands.size(), 2U);
    EXPECT_EQ(info->commands[0].command, "evalsha");
    EXPECT_EQ(info->commands[0].calls, 52);
    EXPECT_EQ(info->commands[0].usec, 865);
    EXPECT_EQ(info->commands[0].rejected_calls, 1);
    EXPECT_EQ(info->commands[0].failed_calls, 4);
    EXPECT_EQ(info->commands[1].command, "script|load");
    ASSERT_EQ(info->keyspace.size(), 1U);
    EXPECT_EQ(info->keyspace[0].db, "db0");
    EXPECT_EQ(info->keyspace[0].keys, 4);
    EXPECT_EQ(info->keyspace[0].expires, 1);
}

TEST(RedisInfoTest, NotAnInfoReplyIsRefused) {
    EXPECT_FALSE(parse_redis_info(""));
    EXPECT_FALSE(parse_redis_info("-NOAUTH Authentication required.\r\n"));
    EXPECT_FALSE(parse_redis_info(kCommandstats));  // commandstats alone: no redis_version
}

TEST(RedisInfoTest, MapsFieldsToNamedSeries) {
    const std::string text = rendered();
    for (const char* line :
         {"redis_memory_used_bytes 1194152\n", "redis_memory_max_bytes 0\n",
          "redis_total_system_memory_bytes 25276194816\n", "redis_connected_clients 4\n",
          "redis_instantaneous_operations_per_second 39\n", "redis_commands_processed_total 2485\n",
          "redis_keyspace_hits_total 4724\n", "redis_aof_enabled 1\n",
          // "err" is 0, "ok" is 1: the alert compares with 0.
          "redis_aof_last_write_ok 0\n", "redis_aof_last_bgrewrite_ok 1\n", "redis_rdb_last_bgsave_ok 1\n",
          "redis_instance_info{redis_version=\"7.0.15\",role=\"master\"} 1\n",
          "redis_commands_total{cmd=\"evalsha\"} 52\n", "redis_commands_total{cmd=\"script|load\"} 1\n",
          "redis_commands_duration_seconds_total{cmd=\"evalsha\"} 0.000865\n",
          "redis_commands_rejected_calls_total{cmd=\"evalsha\"} 1\n",
          "redis_commands_failed_calls_total{cmd=\"evalsha\"} 4\n", "redis_db_keys{db=\"db0\"} 4\n",
          "redis_db_keys_expiring{db=\"db0\"} 1\n", "# TYPE redis_commands_total counter\n",
          "# TYPE redis_memory_used_bytes gauge\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\n" << text;
    }
}

TEST(RedisInfoTest, AbsentFieldsAreLeftOutNotZero) {
    const auto info = parse_redis_info("redis_version:6.0.0\r\nused_memory:10\r\n");
    ASSERT_TRUE(info);
    metrics::Registry registry;
    add_redis_info(registry, *info);
    const std::string text = registry.render_text();
    EXPECT_NE(text.find("redis_memory_used_bytes 10\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("redis_aof_last_write_ok"), std::string::npos) << text;
    EXPECT_EQ(text.find("redis_memory_max_bytes"), std::string::npos) << text;
}

// What Prometheus itself will parse and lint (ops.md §0.2: exit 0 = clean, 3 = lint findings).
TEST(RedisInfoTest, OutputPassesPromtoolCheckMetrics) {
    testing::TempDir dir("redis-info-");
    {
        std::ofstream out(dir.file("metrics.txt"));
        out << rendered();
    }
    auto promtool = testing::Process::spawn(
        {"bash", "-c", "promtool check metrics < \"$1\"", "promtool", dir.file("metrics.txt").string()}, {},
        dir.file("promtool.log"));
    ASSERT_TRUE(promtool) << promtool.error().message();
    EXPECT_EQ(promtool->wait_exit(std::chrono::seconds(30)), 0) << promtool->read_log();
}

}  // namespace
}  // namespace moneta::stack_exporter
