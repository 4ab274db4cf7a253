/// @file moneta/testing/net.hpp
/// @brief Ports and socket readiness for tests (everything binds 127.0.0.1).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace moneta::testing {

/// A port that was free a moment ago: binds 127.0.0.1:0, reads the port, closes. There is a
/// small race with other processes; servers that can bind port 0 themselves should do that.
std::uint16_t free_port();

/// Polls connect() to 127.0.0.1:@p port until it succeeds or @p timeout passes (bounded).
[[nodiscard]] ::testing::AssertionResult wait_for_tcp(
    std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// True when something accepts connections on 127.0.0.1:@p port right now.
bool tcp_port_open(std::uint16_t port);

}  // namespace moneta::testing
