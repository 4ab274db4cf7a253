/// @file moneta/http/fd_limit.hpp
/// @brief The process's file-descriptor budget: raise RLIMIT_NOFILE's soft limit at startup and
/// derive the per-worker connection cap from it (docs/http_server.md "File descriptors").
#pragma once

#include <cstddef>
#include <cstdint>

namespace moneta::http {

struct FdLimit {
    std::uint64_t previous_soft = 0;  ///< the soft limit before raise_fd_limit()
    std::uint64_t soft = 0;           ///< the soft limit now
    std::uint64_t hard = 0;           ///< RLIM_INFINITY is reported as the kernel's fs.nr_open
    int error = 0;                    ///< errno of a failed getrlimit/setrlimit (0 = fine)
};

/// Raises RLIMIT_NOFILE's soft limit to the hard limit (an unlimited hard limit means
/// /proc/sys/fs/nr_open, which is what the kernel accepts). Call once at startup, before any
/// thread opens sockets; the caller logs the result.
FdLimit raise_fd_limit() noexcept;

/// The current RLIMIT_NOFILE soft limit (0 when getrlimit fails).
std::uint64_t fd_soft_limit() noexcept;

/// Per-worker connection cap: min(@p configured, (@p soft - @p reserve) / @p workers), at least 1.
/// @p reserve covers everything that is not a client connection: Redis and upstream pools, the
/// flusher, log files, the admin port, each io_context's epoll/eventfd/timerfd.
std::size_t connection_cap(std::uint64_t soft, std::size_t reserve, std::size_t workers,
                           std::size_t configured) noexcept;

}  // namespace moneta::http
