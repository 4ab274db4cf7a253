/// @file moneta/testing/wait.hpp
/// @brief Bounded polling of a real condition (integration tests only; unit tests use FakeClock).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string_view>

namespace moneta::testing {

/// Evaluates @p cond until it returns true or @p timeout passes, sleeping 1 ms growing to 20 ms
/// between tries. @p cond is always evaluated at least once, and once more at the end.
/// Use as `ASSERT_TRUE(wait_until([&] { return x.connected(); }, 5s, "client connected"));`
/// @return success, or a failure naming @p what and the time waited.
[[nodiscard]] ::testing::AssertionResult wait_until(
    std::function<bool()> cond,
    std::chrono::milliseconds timeout,
    std::string_view what = "condition");

}  // namespace moneta::testing
