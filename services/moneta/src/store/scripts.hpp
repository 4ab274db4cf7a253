/// @file services/moneta/src/store/scripts.hpp
/// @brief The compiled scripts without settings (SHA1s computed once per process). The scripts
/// that write progress carry their settings in their source and belong to the store that runs
/// them (SessionStore: heartbeat, stop; ProgressStore: progress_put). Single calls
/// (`async_eval`) and pipelines (`Pipeline::add_eval`) recover NOSCRIPT in libs/redis
/// (docs/redis_client.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

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

}  // namespace moneta::store
