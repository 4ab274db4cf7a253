/// @file moneta/core/clock.hpp
/// @brief Injectable clock: production uses SystemClock, unit tests FakeClock (no sleeps).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace moneta::core {

using SteadyTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

/// Two time sources: a monotonic one for timeouts/deadlines/windows and the wall clock (epoch
/// milliseconds) for anything that leaves the process (leases, tokens, server_time_ms).
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe.
class Clock {
public:
    virtual ~Clock() = default;
    /// Monotonic now.
    virtual SteadyTime steady_now() const noexcept = 0;
    /// Wall-clock now in milliseconds since the Unix epoch.
    virtual std::int64_t wall_ms() const noexcept = 0;
};

/// The real clocks.
class SystemClock final : public Clock {
public:
    SteadyTime steady_now() const noexcept override { return std::chrono::steady_clock::now(); }
    std::int64_t wall_ms() const noexcept override;
    /// A process-wide instance (stateless, so sharing it is not mutable global state).
    static SystemClock& instance() noexcept;
};

/// A clock that moves only when told to. Both time sources advance together.
class FakeClock final : public Clock {
public:
    explicit FakeClock(std::int64_t wall_ms = 1'764'000'000'000) noexcept : wall_ms_(wall_ms) {}
    SteadyTime steady_now() const noexcept override {
        return SteadyTime{} + Duration{steady_ns_.load(std::memory_order_relaxed)};
    }
    std::int64_t wall_ms() const noexcept override {
        return wall_ms_.load(std::memory_order_relaxed);
    }
    /// Moves both clocks forward by @p d.
    void advance(Duration d) noexcept {
        steady_ns_.fetch_add(d.count(), std::memory_order_relaxed);
        wall_ms_.fetch_add(std::chrono::duration_cast<std::chrono::milliseconds>(d).count(),
                           std::memory_order_relaxed);
    }
    /// Sets only the wall clock (e.g. to a token's issue time); the steady clock is untouched.
    void set_wall_ms(std::int64_t ms) noexcept { wall_ms_.store(ms, std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> steady_ns_{1'000'000'000};
    std::atomic<std::int64_t> wall_ms_;
};

}  // namespace moneta::core
