/// @file moneta/redis/stats.hpp
/// @brief Counters and gauges of one redis::Client, exported by the app as metrics.
#pragma once

#include <atomic>
#include <cstdint>

namespace moneta::redis {

/// Written on the client's thread (relaxed atomics), readable from any thread (metrics scrape).
/// Counters only grow. Sum over the per-thread clients for process-wide totals.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe.
struct ClientStats {
    // Counters, sorted.
    std::atomic<std::uint64_t> commands_total{0};        ///< commands written (a pipeline of N counts N)
    std::atomic<std::uint64_t> connect_failures_total{0};  ///< failed connect/handshake attempts
    std::atomic<std::uint64_t> error_replies_total{0};   ///< Redis error replies (-ERR ...) delivered
    std::atomic<std::uint64_t> errors_total{0};          ///< calls that returned a transport error
    std::atomic<std::uint64_t> late_replies_total{0};    ///< replies discarded after their caller timed out
    std::atomic<std::uint64_t> noscript_reloads_total{0};  ///< EVALSHA retried as EVAL after NOSCRIPT
    std::atomic<std::uint64_t> reconnects_total{0};      ///< successful connects after a lost connection
    std::atomic<std::uint64_t> round_trips_total{0};     ///< request/response exchanges: 1 per
                                                         ///< async_command, async_pipeline, EVALSHA try
    std::atomic<std::uint64_t> timeouts_total{0};        ///< calls that ended in kTimeout/kDeadlineExceeded
                                                         ///< while waiting for their reply
    std::atomic<std::uint64_t> writes_total{0};          ///< socket writes (less than commands: coalescing)
    // Gauges.
    std::atomic<std::int64_t> connected{0};  ///< 1 while a connection is up and authenticated
    std::atomic<std::int64_t> pending{0};    ///< commands sent or queued, not yet answered
};

}  // namespace moneta::redis
