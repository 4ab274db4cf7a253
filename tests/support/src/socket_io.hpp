#pragma once

// Blocking loopback socket helpers with poll()-based timeouts, shared by the HTTP and Redis
// helpers. Every call is bounded by an absolute steady-clock deadline.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace moneta::testing::detail {

using Clock = std::chrono::steady_clock;

/// Connected socket to 127.0.0.1:port (CLOEXEC, TCP_NODELAY), or -1 with @p error filled.
/// @param source local IPv4 address to bind first (e.g. "127.0.0.2": any 127/8 address works on
/// Linux loopback); empty = the kernel's choice (127.0.0.1).
int connect_loopback(std::uint16_t port, Clock::time_point deadline, std::string& error,
                     std::string_view source = {});

/// Writes all of @p data; false with @p error on failure or timeout.
bool send_all(int fd, std::string_view data, Clock::time_point deadline, std::string& error);

/// Appends what is available (waiting until @p deadline for at least one byte) to @p out.
/// @return bytes read, 0 on orderly EOF, -1 on error or timeout (see @p error).
long recv_some(int fd, std::string& out, Clock::time_point deadline, std::string& error);

void close_fd(int fd) noexcept;

}  // namespace moneta::testing::detail
