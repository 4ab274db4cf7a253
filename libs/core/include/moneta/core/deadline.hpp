/// @file moneta/core/deadline.hpp
/// @brief A point on the monotonic clock after which work for a request is pointless.
#pragma once

#include <algorithm>
#include <chrono>

#include "moneta/core/clock.hpp"

namespace moneta::core {

/// Value type, cheap to copy. Outbound calls use `clamp(clock, per_call_timeout)`: the smaller of
/// their own timeout and the time this request has left; an expired deadline means "do not send".
class Deadline {
public:
    /// A deadline that never expires.
    constexpr Deadline() noexcept = default;

    static constexpr Deadline never() noexcept { return Deadline{}; }
    static Deadline after(const Clock& clock, Duration d) noexcept {
        return Deadline{clock.steady_now() + d};
    }
    static constexpr Deadline at(SteadyTime tp) noexcept { return Deadline{tp}; }

    /// False for never().
    constexpr bool is_reachable() const noexcept { return tp_ != SteadyTime::max(); }
    bool expired(const Clock& clock) const noexcept {
        return is_reachable() && clock.steady_now() >= tp_;
    }
    /// Time left, zero when expired, Duration::max() when never.
    Duration time_left(const Clock& clock) const noexcept {
        if (!is_reachable()) {
            return Duration::max();
        }
        const auto now = clock.steady_now();
        return now >= tp_ ? Duration::zero() : tp_ - now;
    }
    /// min(per_call, time_left()): the timeout to put on an outbound call.
    Duration clamp(const Clock& clock, Duration per_call) const noexcept {
        return std::min(per_call, time_left(clock));
    }
    /// The earlier of two deadlines.
    constexpr Deadline min(Deadline other) const noexcept {
        return tp_ <= other.tp_ ? *this : other;
    }
    constexpr SteadyTime time_point() const noexcept { return tp_; }

    friend constexpr bool operator==(Deadline, Deadline) noexcept = default;

private:
    constexpr explicit Deadline(SteadyTime tp) noexcept : tp_(tp) {}
    SteadyTime tp_ = SteadyTime::max();
};

}  // namespace moneta::core
