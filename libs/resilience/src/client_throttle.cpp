// NOTE: deliberate simplifications
//  * A ring of fixed buckets: history drops out one bucket at a time, so the effective window
//    is between window - bucket_width and window.
//  * The random draw happens under the lock only to keep the UniformSource single-threaded;
//    injected sources need not be thread-safe.
#include "moneta/resilience/client_throttle.hpp"

#include <algorithm>

namespace moneta::resilience {

using core::Errc;
using core::make_error;

core::Result<void> ClientThrottleConfig::validate() const noexcept {
    if (!(k >= 1.0) || window <= core::Duration::zero() || buckets == 0 ||
        window < core::Duration(buckets)) {
        return make_error(Errc::kInvalidArgument);
    }
    return {};
}

ClientThrottle::ClientThrottle(const core::Clock& clock,
                               ClientThrottleConfig config,
                               UniformSource uniform)
    : clock_(clock),
      config_(config),
      bucket_width_(std::max(core::Duration(1), config.window / std::max(1U, config.buckets))),
      uniform_(std::move(uniform)),
      ring_(std::max(1U, config.buckets)) {}

std::int64_t ClientThrottle::bucket_index(core::SteadyTime now) const noexcept {
    return now.time_since_epoch() / bucket_width_;
}

ClientThrottle::Bucket& ClientThrottle::current_locked(core::SteadyTime now) noexcept {
    const std::int64_t idx = bucket_index(now);
    Bucket& b = ring_[static_cast<std::size_t>(idx % static_cast<std::int64_t>(ring_.size()))];
    if (b.index != idx) {
        b = Bucket{idx, 0, 0};
    }
    return b;
}

ClientThrottleCounts ClientThrottle::sum_locked(core::SteadyTime now) const noexcept {
    const std::int64_t idx = bucket_index(now);
    const auto n = static_cast<std::int64_t>(ring_.size());
    ClientThrottleCounts c;
    for (const Bucket& b : ring_) {
        if (b.index > idx - n && b.index <= idx) {
            c.requests += b.requests;
            c.accepts += b.accepts;
        }
    }
    return c;
}

double ClientThrottle::probability_locked(core::SteadyTime now) const noexcept {
    const ClientThrottleCounts c = sum_locked(now);
    const double requests = static_cast<double>(c.requests);
    const double accepts = static_cast<double>(c.accepts);
    return std::max(0.0, (requests - config_.k * accepts) / (requests + 1.0));
}

core::Result<void> ClientThrottle::admit() {
    std::lock_guard lock(mu_);
    const auto now = clock_.steady_now();
    const double p = probability_locked(now);
    // p == 0 short-circuits the draw: a healthy dependency costs no randomness.
    if (p > 0.0 && uniform_() < p) {
        ++current_locked(now).requests;  // shed: a request the backend never accepted
        return make_error(Errc::kOverloaded);
    }
    return {};  // counted when it ends (on_accepted / on_refused)
}

void ClientThrottle::on_accepted() noexcept {
    std::lock_guard lock(mu_);
    Bucket& b = current_locked(clock_.steady_now());
    ++b.requests;
    ++b.accepts;
}

void ClientThrottle::on_refused() noexcept {
    std::lock_guard lock(mu_);
    ++current_locked(clock_.steady_now()).requests;
}

double ClientThrottle::reject_probability() const noexcept {
    std::lock_guard lock(mu_);
    return probability_locked(clock_.steady_now());
}

ClientThrottleCounts ClientThrottle::counts() const noexcept {
    std::lock_guard lock(mu_);
    return sum_locked(clock_.steady_now());
}

}  // namespace moneta::resilience
