/// @file moneta/testing/mock_redis.hpp
/// @brief gmock of moneta::redis::Commands, for unit tests of code that talks to Redis.
/// Header-only: the test target must also link moneta::redis.
#pragma once

#include <gmock/gmock.h>

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/redis/commands.hpp"

namespace moneta::testing {

/// Mocks the private virtual hooks of redis::Commands; the public async_* wrappers forward to
/// them. Prefer StrictMock<MockRedisCommands>.
/// @code
///   StrictMock<MockRedisCommands> redis;
///   EXPECT_CALL(redis, do_async_command(CommandArgsAre({"GET", "k"}), _, _))
///       .WillOnce([](auto, auto, auto) { return redis_reply("$1\r\nv\r\n"); });
/// @endcode
class MockRedisCommands : public redis::Commands {
public:
    MOCK_METHOD(bool, connected, (), (const, noexcept, override));
    MOCK_METHOD(boost::asio::awaitable<core::Result<redis::Reply>>,
                do_async_command,
                (std::span<const std::string_view> args,
                 core::Deadline deadline,
                 redis::CommandControl control),
                (override));
    MOCK_METHOD(boost::asio::awaitable<core::Result<redis::Replies>>,
                do_async_pipeline,
                (const redis::Pipeline& pipeline, core::Deadline deadline, redis::CommandControl control),
                (override));
    MOCK_METHOD(boost::asio::awaitable<core::Result<redis::Reply>>,
                do_async_eval,
                (const redis::Script& script,
                 std::span<const std::string_view> keys,
                 std::span<const std::string_view> args,
                 core::Deadline deadline,
                 redis::CommandControl control),
                (override));
};

/// An awaitable yielding the reply encoded as RESP (e.g. ":1\r\n", "$-1\r\n", "-ERR x\r\n");
/// a malformed @p resp yields kProtocolError.
inline boost::asio::awaitable<core::Result<redis::Reply>> redis_reply(std::string resp) {
    co_return redis::Reply::from_resp(resp);
}

/// An awaitable yielding a transport error (kTimeout, kUnavailable, ...).
inline boost::asio::awaitable<core::Result<redis::Reply>> redis_error(core::Errc e) {
    co_return core::make_error(e);
}

/// An awaitable yielding one reply per RESP string (for do_async_pipeline).
inline boost::asio::awaitable<core::Result<redis::Replies>> redis_replies(
    std::vector<std::string> resps) {
    redis::Replies out;
    for (const auto& r : resps) {
        auto reply = redis::Reply::from_resp(r);
        if (!reply) {
            co_return reply.error();
        }
        out.push_back(std::move(*reply));
    }
    co_return out;
}

/// Matches a command's argument span against @p expected exactly.
MATCHER_P(CommandArgsAre, expected, "command arguments are " + ::testing::PrintToString(expected)) {
    const std::vector<std::string> want(expected);
    if (arg.size() != want.size()) {
        return false;
    }
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (arg[i] != want[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace moneta::testing
