/// @file moneta/testing/load.hpp
/// @brief A small closed-loop HTTP load generator and a /proc sampler, for resilience tests that
/// put a service under load while a fault is injected and then check status counts, latency
/// and resource bounds (fds, RSS, CPU).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "moneta/testing/http.hpp"

namespace moneta::testing {

/// One request as the load generator sends it (Host and Content-Length are added).
struct LoadRequest {
    std::string method = "GET";
    std::string target = "/";
    std::string body;
    HttpHeaders headers;
};

struct LoadSpec {
    std::uint16_t port = 0;  ///< 127.0.0.1:port
    /// Concurrent keep-alive connections, one thread each: 1..kMaxConnections.
    std::size_t connections = 1;
    static constexpr std::size_t kMaxConnections = 32;
    /// Bounds: stop at the first one reached. At least one must be set (non-zero).
    std::chrono::milliseconds duration{0};  ///< wall time from the start
    std::uint64_t max_requests = 0;         ///< over all connections
    /// Per request (send + response). A timeout counts as status 0 and the connection is
    /// replaced, as is a connection the server closed or reset.
    std::chrono::milliseconds timeout{2000};
    /// Pause after a failed connect (e.g. ECONNREFUSED), so a down server does not turn the run
    /// into a busy loop of millions of status-0 entries. Not a wait for state: a pacing bound.
    std::chrono::milliseconds connect_retry_pause{5};
    /// The request to send as request @p seq (0, 1, ...) of connection @p conn. Required.
    /// Called concurrently from the connection threads.
    std::function<LoadRequest(std::size_t conn, std::uint64_t seq)> request;
    /// Optional: sees every outcome (status 0 with reply.error on transport failure). Called
    /// concurrently from the connection threads: must be thread-safe.
    std::function<void(std::size_t conn, std::uint64_t seq, const HttpReply& reply)> on_response;
};

/// Latency percentiles (nearest rank) of a set of requests; zero when it is empty.
struct LatencyStats {
    std::uint64_t count = 0;
    std::chrono::microseconds p50{0};
    std::chrono::microseconds p99{0};
    std::chrono::microseconds max{0};
};

struct LoadResult {
    std::uint64_t total = 0;                 ///< requests attempted (incl. failed connects)
    std::map<int, std::uint64_t> by_status;  ///< 0 = timeout, reset, refused, closed
    LatencyStats all;                        ///< every request, failures included
    LatencyStats ok;                         ///< 2xx only
    std::chrono::milliseconds elapsed{0};
    std::uint64_t connects = 0;  ///< successful connects (1 per conn when healthy)
    std::string error;           ///< non-empty: the spec was invalid, nothing ran

    /// Requests that got @p status (0 for transport failures).
    std::uint64_t count(int status) const {
        const auto it = by_status.find(status);
        return it == by_status.end() ? 0 : it->second;
    }
    /// Requests with a status in [lo, hi].
    std::uint64_t count_range(int lo, int hi) const;
};

/// Runs the load described by @p spec and blocks until a bound is reached and every connection
/// thread has finished (at most one request timeout past the bound).
LoadResult run_load(const LoadSpec& spec);

/// Resource use of a process from /proc.
struct ProcSample {
    bool ok = false;              ///< false: the process is gone or /proc is unreadable
    std::size_t open_fds = 0;     ///< entries of /proc/<pid>/fd
    std::uint64_t rss_kb = 0;     ///< VmRSS of /proc/<pid>/status
    std::uint64_t cpu_ticks = 0;  ///< utime + stime of /proc/<pid>/stat
    long ticks_per_second = 0;    ///< sysconf(_SC_CLK_TCK)

    double cpu_seconds() const noexcept {
        return ticks_per_second > 0
                   ? static_cast<double>(cpu_ticks) / static_cast<double>(ticks_per_second)
                   : 0.0;
    }
};

ProcSample sample_process(pid_t pid);

}  // namespace moneta::testing
