/// @file moneta/resilience/client_throttle.hpp
/// @brief Google SRE client-side adaptive throttling: reject locally with probability
/// max(0, (requests - K*accepts) / (requests + 1)) over a rolling window.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"
#include "moneta/resilience/retry_budget.hpp"

namespace moneta::resilience {

/// SRE book ("Handling Overload"): K = 2, history of about two minutes.
struct ClientThrottleConfig {
    double k = 2.0;                                          ///< accepts multiplier; lower = more aggressive
    core::Duration window = std::chrono::seconds(120);       ///< rolling history
    std::uint32_t buckets = 24;                              ///< window granularity (5 s each)

    /// kInvalidArgument unless k >= 1, window > 0 and buckets >= 1.
    core::Result<void> validate() const noexcept;
};

/// Windowed totals (tests read them; the exported figure is the reject probability).
struct ClientThrottleCounts {
    std::uint64_t requests = 0;  ///< ended attempts, including locally rejected ones
    std::uint64_t accepts = 0;   ///< attempts the backend accepted
};

/// Throttles calls to one dependency on the client side, so a failing internal API costs us a
/// random draw instead of a socket, a timeout and CPU. Usage per call: `admit()`; if it fails
/// answer 503 OVERLOADED; otherwise send, and when the call has ended report it: `on_accepted()`
/// (any answer other than overload / unavailable) or `on_refused()` (429, 503, a transport
/// failure or timeout). A call that was admitted but never reached the backend (our own
/// bulkhead or queue, the caller's deadline, cancellation) is reported as neither.
///
/// A call is counted as a request when it ends, not when it is admitted. Counted at admission,
/// calls still in flight are requests without accepts: a cold client that sends a burst of N
/// concurrent calls sees p = (N-1)/N for the N-th, and sheds most of a burst to a healthy
/// dependency (found as a 1-in-12 flake: 10 concurrent starts of one account, two answered 503).
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (small mutex around the bucket ring).
class ClientThrottle {
public:
    ClientThrottle(const core::Clock& clock,
                   ClientThrottleConfig config,
                   UniformSource uniform = default_uniform);
    ClientThrottle(const ClientThrottle&) = delete;
    ClientThrottle& operator=(const ClientThrottle&) = delete;

    /// Decides one request with the current reject probability: kOverloaded (shed locally, and
    /// counted as a request the backend did not accept) or admitted (counted when it ends).
    core::Result<void> admit();

    /// A request admitted earlier ended with an answer the backend accepted.
    void on_accepted() noexcept;

    /// A request admitted earlier ended without an accept: refused (429/503), failed or timed out.
    void on_refused() noexcept;

    /// Current probability, max(0, (requests - k*accepts) / (requests + 1)).
    double reject_probability() const noexcept;

    ClientThrottleCounts counts() const noexcept;

private:
    struct Bucket {
        std::int64_t index = -1;  ///< absolute bucket number; stale when outside the window
        std::uint64_t requests = 0;
        std::uint64_t accepts = 0;
    };

    std::int64_t bucket_index(core::SteadyTime now) const noexcept;
    Bucket& current_locked(core::SteadyTime now) noexcept;
    ClientThrottleCounts sum_locked(core::SteadyTime now) const noexcept;
    double probability_locked(core::SteadyTime now) const noexcept;

    const core::Clock& clock_;
    const ClientThrottleConfig config_;
    const core::Duration bucket_width_;
    UniformSource uniform_;
    mutable std::mutex mu_;
    std::vector<Bucket> ring_;  // guarded by mu_
};

}  // namespace moneta::resilience
