// NOTE: deliberate simplifications versus Envoy's GradientController
//  * Latency samples go into a bounded vector (the most recent kMaxSamples) and the percentile
//    is an exact nth_element, instead of an HDR histogram.
//  * Timers are deadlines checked lazily (every call and tick()). A late tick closes one sample
//    window, not one per missed interval: Envoy's timer would also fire once, late.
//  * latency_floor (zero = Envoy): the tolerated latency never falls below it (the header says
//    why), and a due minRTT measurement is skipped while the last sample window, buffered, is
//    within the floor (it could not change anything; its pinned limit would only shed). With a
//    floor the limit starts at its maximum and the first sample window decides whether the
//    first measurement is needed.
//  * One owner thread (a worker's) admits and samples, so admission is exact without a lock
//    (Envoy admits with an unlocked load+increment that can overshoot under races); other
//    threads read a published snapshot.
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
                    min_rtt_buffer_percent >= 0.0 && latency_floor >= core::Duration::zero();
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
    const auto now = clock_.steady_now();
    if (config_.latency_floor > core::Duration::zero()) {
        // With a floor, the first sample window decides whether a measurement could matter
        // (close_sample_window): a worker that starts under load sheds nothing it need not.
        limit_ = config_.max_concurrency_limit;
        next_sample_close_ = now + config_.sample_interval;
    } else {
        // Like Envoy: start by measuring minRTT; the limit to restore afterwards is min_concurrency.
        enter_min_rtt_window(now);
    }
    publish();
}

AdaptiveLimit::~AdaptiveLimit() {
    MONETA_ASSERT(outstanding_ == 0, "AdaptiveLimit destroyed with permits outstanding");
}

core::Result<LimitPermit> AdaptiveLimit::try_acquire() {
    const auto now = clock_.steady_now();
    run_due(now);
    if (outstanding_ >= limit_) {
        ++shed_total_;
        publish();
        return make_error(Errc::kOverloaded);
    }
    ++outstanding_;
    publish();
    return LimitPermit(this, now);
}

void AdaptiveLimit::tick() {
    run_due(clock_.steady_now());
    publish();
}

AdaptiveLimitState AdaptiveLimit::state() const {
    const auto duration = [](const std::atomic<std::int64_t>& ns) -> std::optional<core::Duration> {
        const std::int64_t v = ns.load(std::memory_order_relaxed);
        return v < 0 ? std::nullopt : std::optional<core::Duration>(core::Duration(v));
    };
    return AdaptiveLimitState{published_.limit.load(std::memory_order_relaxed),
                              published_.outstanding.load(std::memory_order_relaxed),
                              published_.measuring_min_rtt.load(std::memory_order_relaxed),
                              duration(published_.min_rtt_ns),
                              duration(published_.sample_rtt_ns),
                              published_.shed_total.load(std::memory_order_relaxed)};
}

void AdaptiveLimit::publish() noexcept {
    // Plain stores on x86 (relaxed): what a metrics scrape reads, not a synchronisation point.
    published_.limit.store(limit_, std::memory_order_relaxed);
    published_.outstanding.store(outstanding_, std::memory_order_relaxed);
    published_.measuring_min_rtt.store(measuring_min_rtt_, std::memory_order_relaxed);
    published_.min_rtt_ns.store(min_rtt_ ? min_rtt_->count() : -1, std::memory_order_relaxed);
    published_.sample_rtt_ns.store(sample_rtt_ ? sample_rtt_->count() : -1, std::memory_order_relaxed);
    published_.shed_total.store(shed_total_, std::memory_order_relaxed);
}

void AdaptiveLimit::run_due(core::SteadyTime now) {
    if (next_sample_close_ && now >= *next_sample_close_) {
        close_sample_window(now);
    }
    if (next_min_rtt_start_ && now >= *next_min_rtt_start_) {
        if (floor_decides()) {
            // A measurement could not change the tolerated latency: skip its 503s.
            min_rtt_ = min_rtt_ ? std::min(*min_rtt_, *sample_rtt_) : *sample_rtt_;
            schedule_min_rtt_window(now);
        } else {
            enter_min_rtt_window(now);
        }
    }
}

bool AdaptiveLimit::floor_decides() const noexcept {
    // minRTT (latency at min_concurrency in flight) is at most the latency measured at any
    // higher concurrency, so once a sample window with its buffer is within the floor, a fresh
    // minRTT would be too and the tolerated latency stays the floor.
    if (config_.latency_floor <= core::Duration::zero() || !sample_rtt_) {
        return false;
    }
    return with_buffer(*sample_rtt_) <= static_cast<double>(config_.latency_floor.count());
}

double AdaptiveLimit::with_buffer(core::Duration latency) const noexcept {
    return static_cast<double>(latency.count()) * (1.0 + config_.min_rtt_buffer_percent / 100.0);
}

void AdaptiveLimit::schedule_min_rtt_window(core::SteadyTime now) {
    const double u = std::clamp(uniform_(), 0.0, 1.0);
    const auto jitter = core::Duration(static_cast<core::Duration::rep>(
        static_cast<double>(config_.min_rtt_interval.count()) * config_.min_rtt_jitter_percent /
        100.0 * u));
    next_min_rtt_start_ = now + config_.min_rtt_interval + jitter;
}

void AdaptiveLimit::record_sample(core::SteadyTime start) noexcept {
    MONETA_ASSERT(outstanding_ > 0, "outstanding count underflow");
    --outstanding_;
    const auto now = clock_.steady_now();
    run_due(now);
    if (start >= min_rtt_epoch_) {
        // (One that started before the current minRTT measurement, under a different limit, is
        // not a measurement of the idle latency: Envoy MinRTTEpoch.)
        add_sample(now - start);
        if (measuring_min_rtt_ && samples_seen_ >= config_.min_rtt_request_count) {
            finish_min_rtt_window(now);
        }
    }
    publish();
}

void AdaptiveLimit::cancel_sample() noexcept {
    MONETA_ASSERT(outstanding_ > 0, "outstanding count underflow");
    --outstanding_;
    publish();
}

void AdaptiveLimit::enter_min_rtt_window(core::SteadyTime now) {
    if (measuring_min_rtt_) {
        return;
    }
    deferred_limit_ = limit_;
    measuring_min_rtt_ = true;
    set_limit(config_.min_concurrency, now);
    samples_.clear();
    samples_seen_ = 0;
    min_rtt_epoch_ = now;
    next_sample_close_.reset();
    next_min_rtt_start_.reset();
}

void AdaptiveLimit::finish_min_rtt_window(core::SteadyTime now) {
    min_rtt_ = take_percentile();
    // Restore while still "measuring", as Envoy does, so this does not count as a window pinned
    // at min_concurrency.
    set_limit(deferred_limit_, now);
    measuring_min_rtt_ = false;
    deferred_limit_ = 0;
    schedule_min_rtt_window(now);
    next_sample_close_ = now + config_.sample_interval;
}

void AdaptiveLimit::close_sample_window(core::SteadyTime now) {
    next_sample_close_ = now + config_.sample_interval;
    if (samples_.empty()) {
        return;  // Envoy NoSamplesTest: an idle window leaves the limit alone
    }
    sample_rtt_ = take_percentile();
    if (!min_rtt_) {  // the first window of a limit with a floor (constructor)
        if (floor_decides()) {
            min_rtt_ = sample_rtt_;  // an upper bound of minRTT, and the floor decides anyway
            schedule_min_rtt_window(now);
        } else {
            // Latency is already near the floor: from here on exactly as Envoy starts.
            limit_ = config_.min_concurrency;
            enter_min_rtt_window(now);
            return;
        }
    }
    set_limit(calculate_new_limit(), now);
}

std::uint32_t AdaptiveLimit::calculate_new_limit() const noexcept {
    MONETA_ASSERT(min_rtt_ && sample_rtt_, "limit update before minRTT/sampleRTT exist");
    const double buffered = std::max(with_buffer(*min_rtt_), static_cast<double>(config_.latency_floor.count()));
    // A zero sample (fake clock, same-instant completion) is "infinitely fast": max gradient.
    const double sample = std::max<double>(1.0, static_cast<double>(sample_rtt_->count()));
    const double gradient = std::clamp(buffered / sample, 0.5, 2.0);
    const double limit = static_cast<double>(limit_) * gradient;
    const double headroom = std::sqrt(limit);
    const auto proposed = static_cast<std::uint64_t>(limit + headroom);
    return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
        proposed, config_.min_concurrency, config_.max_concurrency_limit));
}

void AdaptiveLimit::set_limit(std::uint32_t new_limit, core::SteadyTime now) {
    const std::uint32_t old_limit = limit_;
    limit_ = new_limit;
    if (!measuring_min_rtt_ && old_limit == config_.min_concurrency &&
        new_limit == config_.min_concurrency) {
        ++consecutive_min_limit_;
    } else {
        consecutive_min_limit_ = 0;
    }
    if (!measuring_min_rtt_ && consecutive_min_limit_ >= kMaxConsecutiveMinLimit) {
        next_min_rtt_start_ = now;  // picked up by run_due right after the sample window
    }
}

core::Duration AdaptiveLimit::take_percentile() {
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

void AdaptiveLimit::add_sample(core::Duration latency) {
    if (samples_.size() < kMaxSamples) {
        samples_.push_back(latency);
    } else {
        samples_[samples_seen_ % kMaxSamples] = latency;  // keep the most recent kMaxSamples
    }
    ++samples_seen_;
}

}  // namespace moneta::resilience
