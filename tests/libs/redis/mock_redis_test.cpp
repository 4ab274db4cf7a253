#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "coro_util.hpp"
#include "moneta/testing/mock_redis.hpp"

namespace moneta::redis {
namespace {

using ::testing::_;
using ::testing::StrictMock;
using moneta::testing::CommandArgsAre;
using moneta::testing::MockRedisCommands;

// What a store built on redis::Commands looks like: it only sees the interface.
boost::asio::awaitable<std::string> lookup(Commands& redis, std::string key) {
    auto r = co_await redis.async_command({"GET", key}, core::Deadline::never());
    if (!r) {
        co_return "error:" + std::string(core::errc_name(static_cast<core::Errc>(r.error().value())));
    }
    co_return r->is_nil() ? "miss" : r->as_string();
}

TEST(MockRedisCommandsTest, ServesScriptedRepliesThroughThePublicWrappers) {
    StrictMock<MockRedisCommands> redis;
    EXPECT_CALL(redis, do_async_command(CommandArgsAre(std::vector<std::string>{"GET", "a"}), _, _))
        .WillOnce([](auto, auto, auto) { return moneta::testing::redis_reply("$2\r\nhi\r\n"); });
    EXPECT_CALL(redis, do_async_command(CommandArgsAre(std::vector<std::string>{"GET", "b"}), _, _))
        .WillOnce([](auto, auto, auto) { return moneta::testing::redis_reply("$-1\r\n"); });
    EXPECT_CALL(redis, do_async_command(CommandArgsAre(std::vector<std::string>{"GET", "c"}), _, _))
        .WillOnce([](auto, auto, auto) { return moneta::testing::redis_error(core::Errc::kTimeout); });

    boost::asio::io_context io;
    EXPECT_EQ(testing::run(io, lookup(redis, "a")), "hi");
    EXPECT_EQ(testing::run(io, lookup(redis, "b")), "miss");
    EXPECT_EQ(testing::run(io, lookup(redis, "c")), "error:timeout");
}

TEST(MockRedisCommandsTest, ScriptsPipelines) {
    StrictMock<MockRedisCommands> redis;
    EXPECT_CALL(redis, do_async_pipeline(_, _, _)).WillOnce([](const Pipeline& p, auto, auto) {
        EXPECT_EQ(p.size(), 2U);
        return moneta::testing::redis_replies({":1\r\n", "+OK\r\n"});
    });
    Pipeline p;
    p.add({"INCR", "n"}).add({"SET", "k", "v"});
    boost::asio::io_context io;
    auto r = testing::run(io, redis.async_pipeline(p, core::Deadline::never()));
    ASSERT_TRUE(r && *r);
    ASSERT_EQ((*r)->size(), 2U);
    EXPECT_EQ((**r)[0].as_integer(), 1);
    EXPECT_TRUE((**r)[1].is_status());
}

}  // namespace
}  // namespace moneta::redis
