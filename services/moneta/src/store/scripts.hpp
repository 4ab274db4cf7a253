/// @file services/moneta/src/store/scripts.hpp
/// @brief The compiled scripts (SHA1s computed once per process) and EVALSHA inside pipelines:
/// a pipeline answering NOSCRIPT (Redis restarted or flushed) loads the scripts and runs once more.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string_view>
#include <vector>

#include "moneta/core/deadline.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/pipeline.hpp"
#include "moneta/redis/script.hpp"

namespace moneta::store {

/// @par Thread safety
/// Immutable after construction: share freely.
struct Scripts {
    redis::Script session_start;
    redis::Script session_heartbeat;
    redis::Script session_stop;
    redis::Script session_list;
    redis::Script session_kick;
    redis::Script progress_put;
    redis::Script progress_load;
    redis::Script continue_watching;
    redis::Script flush_snapshot;
    redis::Script flush_clear;

    /// The process-wide instance (built on first use).
    static const Scripts& get();
};

/// Appends `EVALSHA sha numkeys keys... args...` to @p p.
void add_evalsha(redis::Pipeline& p, const redis::Script& script, std::span<const std::string_view> keys,
                 std::span<const std::string_view> args);

/// Runs @p p (one round trip). When any reply is NOSCRIPT, SCRIPT LOADs @p scripts and runs
/// @p p once more (callers make their pipelines safe to repeat).
boost::asio::awaitable<core::Result<std::vector<redis::Reply>>> async_run_scripted(
    redis::Commands& redis, const redis::Pipeline& p, std::span<const redis::Script* const> scripts,
    core::Deadline deadline);

/// Decimal text of an integer in a small stack buffer (Redis arguments are strings).
class IntArg {
public:
    explicit IntArg(std::int64_t v) noexcept;
    std::string_view view() const noexcept { return {buf_, len_}; }

private:
    char buf_[24];
    std::size_t len_ = 0;
};

}  // namespace moneta::store
