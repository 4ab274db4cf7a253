// NOTE: deliberate simplifications versus Envoy's GradientController
//  * Latency samples go into a bounded vector (the most recent kMaxSamples) and the percentile
//    is an exact nth_element, instead of an HDR histogram.
//  * Timers are deadlines checked lazily (every call and tick()). A late tick closes one sample
//    window, not one per missed interval: Envoy's timer would also fire once, late.
//  * One mutex guards admission and sampling. Envoy admits with an unlocked load+increment that
//    can overshoot the limit under races; ours is exact.
#include "moneta/resilience/adaptive_limit.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "moneta/core/assert.hpp"

namespace moneta::resilience {

namespace {

constexpr std::size_t kMaxSamples = 4096;
// Envoy: five consecutive sample windows pinned at min_concurrency outside a measurement
// suggest a bad minRTT (measured during an incident), so measure again right away.
constexpr std::uint32_t kMaxConsecutiveMinLimit = 5;

}  // namespace

using core::Errc;
using core::make_error;

core::Result<void> AdaptiveLimitConfig::validate() const noexcept {
    const bool ok = sample_percentile > 0.0 && sample_percentile <= 100.0 &&
                    max_concurrency_limit > 0 && min_concurrency > 0 &&
                    min_concurrency <= max_concurrency_limit &&
                    sample_interval > core::Duration::zero() &&
                    min_rtt_interval > core::Duration::zero() && min_rtt_request_count > 0 &&
                    min_rtt_jitter_percent >= 0.0 && min_rtt_jitter_percent <= 100.0 &&
                    min_rtt_buffer_percent >= 0.0;
    if (!ok) {
        return make_error(Errc::kInvalidArgument);
    }
    return {};
}

// ---- LimitPermit ----

LimitPermit::LimitPermit(LimitPermit&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), start_(other.start_) {}

LimitPermit& LimitPermit::operator=(LimitPermit&& other) noexcept {
    if (this != &other) {
        cancel();
        owner_ = std::exchange(other.owner_, nullptr);
        start_ = other.start_;
    }
    return *this;
}

void LimitPermit::complete() noexcept {
    if (AdaptiveLimit* owner = std::exchange(owner_, nullptr)) {
        owner->record_sample(start_);
    }
}

void LimitPermit::cancel() noexcept {
    if (AdaptiveLimit* owner = std::exchange(owner_, nullptr)) {
        owner->cancel_sample();
    }
}

// ---- AdaptiveLimit ----

AdaptiveLimit::AdaptiveLimit(const core::Clock& clock,
                             AdaptiveLimitConfig config,
                             UniformSource uniform)
    : clock_(clock),
      config_(config),
      uniform_(std::move(uniform)),
      limit_(config.min_concurrency) {
    samples_.reserve(std::min<std::size_t>(kMaxSamples, 256));
    // Like Envoy: start by measuring minRTT; the limit to restore afterwards is min_concurrency.
    std::lock_guard lock(mu_);
    enter_min_rtt_window_locked(clock_.steady_now());
}

AdaptiveLimit::~AdaptiveLimit() {
    MONETA_ASSERT(outstanding_ == 0, "AdaptiveLimit destroyed with permits outstanding");
}

core::Result<LimitPermit> AdaptiveLimit::try_acquire() {
    std::lock_guard lock(mu_);
    const auto now = clock_.steady_now();
    tick_locked(now);
    if (outstanding_ >= limit_) {
        ++shed_total_;
        return make_error(Errc::kOverloaded);
    }
    ++outstanding_;
    return LimitPermit(this, now);
}

void AdaptiveLimit::tick() {
    std::lock_guard lock(mu_);
    tick_locked(clock_.steady_now());
}

AdaptiveLimitState AdaptiveLimit::state() const {
    std::lock_guard lock(mu_);
    return AdaptiveLimitState{limit_, outstanding_, measuring_min_rtt_, min_rtt_, sample_rtt_,
                              shed_total_};
}

void AdaptiveLimit::tick_locked(core::SteadyTime now) {
    if (next_sample_close_ && now >= *next_sample_close_) {
        close_sample_window_locked(now);
    }
    if (next_min_rtt_start_ && now >= *next_min_rtt_start_) {
        enter_min_rtt_window_locked(now);
    }
}

void AdaptiveLimit::record_sample(core::SteadyTime start) noexcept {
    std::lock_guard lock(mu_);
    MONETA_ASSERT(outstanding_ > 0, "outstanding count underflow");
    --outstanding_;
    const auto now = clock_.steady_now();
    tick_locked(now);
    if (start < min_rtt_epoch_) {
        // Started before the current minRTT measurement, under a different limit: not a
        // measurement of the idle latency (Envoy MinRTTEpoch).
        return;
    }
    add_sample_locked(now - start);
    if (measuring_min_rtt_ && samples_seen_ >= config_.min_rtt_request_count) {
        finish_min_rtt_window_locked(now);
    }
}

void AdaptiveLimit::cancel_sample() noexcept {
    std::lock_guard lock(mu_);
    MONETA_ASSERT(outstanding_ > 0, "outstanding count underflow");
    --outstanding_;
}

void AdaptiveLimit::enter_min_rtt_window_locked(core::SteadyTime now) {
    if (measuring_min_rtt_) {
        return;
    }
    deferred_limit_ = limit_;
    measuring_min_rtt_ = true;
    set_limit_locked(config_.min_concurrency, now);
    samples_.clear();
    samples_seen_ = 0;
    min_rtt_epoch_ = now;
    next_sample_close_.reset();
    next_min_rtt_start_.reset();
}

void AdaptiveLimit::finish_min_rtt_window_locked(core::SteadyTime now) {
    min_rtt_ = take_percentile_locked();
    // Restore while still "measuring", as Envoy does, so this does not count as a window pinned
    // at min_concurrency.
    set_limit_locked(deferred_limit_, now);
    measuring_min_rtt_ = false;
    deferred_limit_ = 0;
    const double u = std::clamp(uniform_(), 0.0, 1.0);
    const auto jitter = core::Duration(static_cast<core::Duration::rep>(
        static_cast<double>(config_.min_rtt_interval.count()) * config_.min_rtt_jitter_percent /
        100.0 * u));
    next_min_rtt_start_ = now + config_.min_rtt_interval + jitter;
    next_sample_close_ = now + config_.sample_interval;
}

void AdaptiveLimit::close_sample_window_locked(core::SteadyTime now) {
    next_sample_close_ = now + config_.sample_interval;
    if (samples_.empty()) {
        return;  // Envoy NoSamplesTest: an idle window leaves the limit alone
    }
    sample_rtt_ = take_percentile_locked();
    set_limit_locked(calculate_new_limit_locked(), now);
}

std::uint32_t AdaptiveLimit::calculate_new_limit_locked() const noexcept {
    MONETA_ASSERT(min_rtt_ && sample_rtt_, "limit update before minRTT/sampleRTT exist");
    const double min_rtt = static_cast<double>(min_rtt_->count());
    const double buffered = min_rtt + min_rtt * config_.min_rtt_buffer_percent / 100.0;
    // A zero sample (fake clock, same-instant completion) is "infinitely fast": max gradient.
    const double sample = std::max<double>(1.0, static_cast<double>(sample_rtt_->count()));
    const double gradient = std::clamp(buffered / sample, 0.5, 2.0);
    const double limit = static_cast<double>(limit_) * gradient;
    const double headroom = std::sqrt(limit);
    const auto proposed = static_cast<std::uint64_t>(limit + headroom);
    return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
        proposed, config_.min_concurrency, config_.max_concurrency_limit));
}

void AdaptiveLimit::set_limit_locked(std::uint32_t new_limit, core::SteadyTime now) {
    const std::uint32_t old_limit = limit_;
    limit_ = new_limit;
    if (!measuring_min_rtt_ && old_limit == config_.min_concurrency &&
        new_limit == config_.min_concurrency) {
        ++consecutive_min_limit_;
    } else {
        consecutive_min_limit_ = 0;
    }
    if (!measuring_min_rtt_ && consecutive_min_limit_ >= kMaxConsecutiveMinLimit) {
        next_min_rtt_start_ = now;  // picked up by tick_locked right after the sample window
    }
}

core::Duration AdaptiveLimit::take_percentile_locked() {
    MONETA_ASSERT(!samples_.empty(), "percentile of no samples");
    const double rank = std::ceil(config_.sample_percentile / 100.0 *
                                  static_cast<double>(samples_.size()));
    const auto idx = static_cast<std::size_t>(std::max(1.0, rank)) - 1;
    std::nth_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(idx),
                     samples_.end());
    const core::Duration result = samples_[idx];
    samples_.clear();
    samples_seen_ = 0;
    return result;
}

void AdaptiveLimit::add_sample_locked(core::Duration latency) {
    if (samples_.size() < kMaxSamples) {
        samples_.push_back(latency);
    } else {
        samples_[samples_seen_ % kMaxSamples] = latency;  // keep the most recent kMaxSamples
    }
    ++samples_seen_;
}

}  // namespace moneta::resilience
