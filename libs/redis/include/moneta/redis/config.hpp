/// @file moneta/redis/config.hpp
/// @brief Connection settings of a redis::Client and per-call knobs (CommandControl).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"

namespace moneta::redis {

using core::Duration;

/// One connection's settings. The app builds one Client per worker thread from the same config.
struct ClientConfig {
    std::string host = "127.0.0.1";  ///< IP literal or name (resolved asynchronously)
    std::uint16_t port = 6379;
    std::string username;  ///< Redis 6 ACL user; only used together with password
    std::string password;  ///< AUTH [username] password on every (re)connect when non-empty
    int database = 0;      ///< SELECT when non-zero

    /// TCP connect plus the AUTH/PING handshake. The PING matters: a SIGSTOPped Redis still
    /// completes TCP handshakes, so "connected" must mean "answers".
    Duration connect_timeout = std::chrono::milliseconds(500);
    /// Default per-command timeout (CommandControl::timeout overrides it, the deadline caps it).
    Duration command_timeout = std::chrono::milliseconds(250);
    /// Reconnect delay after a failure: min * 2^attempt capped at max, with jitter in [d/2, d].
    Duration reconnect_backoff_min = std::chrono::milliseconds(50);
    Duration reconnect_backoff_max = std::chrono::seconds(2);
    /// Commands sent or queued but not yet answered (timed-out ones included until their late
    /// reply arrives). Above this, calls fail with kOverloaded.
    std::size_t max_pending = 10000;

    /// Drop and reconnect after this many timeouts in a row with no reply in between (0 = never).
    std::uint32_t max_consecutive_timeouts = 32;
    /// Drop and reconnect when the oldest unanswered command is older than this (0 = never).
    Duration stuck_timeout = std::chrono::seconds(2);
    /// Size of the per-connection socket read buffer (allocated once per connection).
    std::size_t read_buffer_size = 16 * 1024;
};

/// Checks ranges (positive timeouts, min <= max backoff, max_pending > 0, port != 0, ...).
/// @return kInvalidArgument on a bad config.
core::Result<void> validate(const ClientConfig& config);

/// Per-call knobs; unset fields take the ClientConfig default.
struct CommandControl {
    /// Timeout of this call. The effective timeout is min(timeout, deadline time left).
    std::optional<Duration> timeout;
};

}  // namespace moneta::redis
