/// @file services/moneta/src/store/scripts.hpp
/// @brief The compiled scripts without settings (SHA1s computed once per process). The scripts
/// that write progress carry their settings in their source and belong to the store that runs
/// them (SessionStore: heartbeat, stop; ProgressStore: progress_put). Single calls
/// (`async_eval`) and pipelines (`Pipeline::add_eval`) recover NOSCRIPT in libs/redis
/// (docs/redis_client.md).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "moneta/core/deadline.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/script.hpp"

namespace moneta::store {

/// @par Thread safety
/// Immutable after construction: share freely.
struct Scripts {
    redis::Script session_start;
    redis::Script session_list;
    redis::Script session_kick;
    redis::Script progress_load;
    redis::Script continue_watching;
    redis::Script flush_snapshot;
    redis::Script flush_clear;
    redis::Script due_take;

    /// The process-wide instance (built on first use).
    static const Scripts& get();
};

/// Decimal text of an integer in a small stack buffer (Redis arguments are strings).
class IntArg {
public:
    explicit IntArg(std::int64_t v) noexcept;
    std::string_view view() const noexcept { return {buf_, len_}; }

private:
    char buf_[24];
    std::size_t len_ = 0;
};

/// Shortest round-trip decimal text of a position or duration in seconds (as
/// domain::format_seconds, without its std::string) in a small stack buffer.
class SecondsArg {
public:
    explicit SecondsArg(double v) noexcept;
    std::string_view view() const noexcept { return {buf_, len_}; }

private:
    char buf_[32];
    std::size_t len_ = 0;
};

/// `redis.async_eval(script, keys, args, deadline)`, with the call built outside the calling
/// coroutine. Why: a direct call's two CommandArgs temporaries (288 bytes each) live in the
/// caller's coroutine frame for the whole call and pushed the store calls' frames past the
/// 1,020 bytes Asio recycles: one malloc per Redis call. A CommandArgs made from a span only
/// views the span's elements; the caller keeps those alive until the call returns.
boost::asio::awaitable<core::Result<redis::Reply>> eval_script(redis::Commands& redis,
                                                               const redis::Script& script,
                                                               std::span<const std::string_view> keys,
                                                               std::span<const std::string_view> args,
                                                               core::Deadline deadline);

}  // namespace moneta::store
