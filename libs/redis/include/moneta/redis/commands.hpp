/// @file moneta/redis/commands.hpp
/// @brief The command surface of a Redis client as an interface, so callers can be unit-tested
/// with a mock (redis::Client is the real implementation).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string_view>
#include <vector>

#include "moneta/core/deadline.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/command_args.hpp"
#include "moneta/redis/config.hpp"
#include "moneta/redis/pipeline.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"

namespace moneta::redis {

/// Error contract of every call (transport errors; a Redis error reply is a *successful* Result
/// holding an error Reply):
/// - kDeadlineExceeded: the deadline had passed before sending (nothing is sent), or it passed
///   while waiting for the reply;
/// - kTimeout: the per-call timeout (CommandControl/ClientConfig) fired first;
/// - kUnavailable: not connected (fails fast, never queued);
/// - kOverloaded: max_pending unanswered commands already;
/// - kConnectionClosed: the connection was lost while waiting;
/// - kProtocolError: Redis sent bytes that are not RESP;
/// - kCancelled: the client was stopped, or the awaiting coroutine was cancelled.
///
/// Arguments are referenced, not copied, until the call returns: always `co_await` the call in
/// the same full expression (`co_await c.async_command({"GET", key}, dl)`).
///
/// Every call must run on the implementation's thread (see Client).
class Commands {
public:
    virtual ~Commands() = default;

    /// One command, one round trip: `co_await c.async_command({"GET", key}, dl)`.
    boost::asio::awaitable<core::Result<Reply>> async_command(const CommandArgs& args,
                                                              core::Deadline deadline,
                                                              CommandControl control = {}) {
        return do_async_command(args.span(), deadline, control);
    }

    /// All commands of @p pipeline in ONE round trip; replies in order (error replies included).
    /// An empty pipeline returns an empty vector without touching the network.
    boost::asio::awaitable<core::Result<Replies>> async_pipeline(
        const Pipeline& pipeline, core::Deadline deadline, CommandControl control = {}) {
        return do_async_pipeline(pipeline, deadline, control);
    }

    /// EVALSHA @p script; on a NOSCRIPT error reply retries once with EVAL (which also caches
    /// the script), within the same deadline. A script runtime error is an error Reply.
    /// `co_await c.async_eval(script, {key1, key2}, {arg}, dl)`; `{}` for none.
    boost::asio::awaitable<core::Result<Reply>> async_eval(const Script& script,
                                                           const CommandArgs& keys,
                                                           const CommandArgs& args,
                                                           core::Deadline deadline,
                                                           CommandControl control = {}) {
        return do_async_eval(script, keys.span(), args.span(), deadline, control);
    }

    /// True while a connection is up and answered its handshake.
    virtual bool connected() const noexcept = 0;

private:
    virtual boost::asio::awaitable<core::Result<Reply>> do_async_command(
        std::span<const std::string_view> args, core::Deadline deadline, CommandControl control) = 0;
    virtual boost::asio::awaitable<core::Result<Replies>> do_async_pipeline(
        const Pipeline& pipeline, core::Deadline deadline, CommandControl control) = 0;
    virtual boost::asio::awaitable<core::Result<Reply>> do_async_eval(
        const Script& script,
        std::span<const std::string_view> keys,
        std::span<const std::string_view> args,
        core::Deadline deadline,
        CommandControl control) = 0;
};

}  // namespace moneta::redis
