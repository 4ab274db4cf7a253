#include "moneta/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>

#include "moneta/core/random.hpp"

namespace moneta::resilience {

// One immutable configuration plus the window it feeds. Published through gen_; a window whose
// shape did not change is shared with the previous generation.
struct CircuitBreaker::Generation {
    CircuitBreakerConfig cfg;
    std::shared_ptr<SlidingWindow> window;
};

namespace {

constexpr unsigned kModeShift = 2;
constexpr unsigned kEpochShift = 5;
constexpr std::uint64_t kStateMask = 0x3;
constexpr std::uint64_t kModeMask = 0x7;

State state_of(std::uint64_t w) noexcept { return static_cast<State>(w & kStateMask); }
Mode mode_of(std::uint64_t w) noexcept { return static_cast<Mode>((w >> kModeShift) & kModeMask); }
std::uint64_t epoch_of(std::uint64_t w) noexcept { return w >> kEpochShift; }
std::uint64_t make_word(std::uint64_t epoch, Mode m, State s) noexcept {
    return (epoch << kEpochShift) | (static_cast<std::uint64_t>(m) << kModeShift) |
           static_cast<std::uint64_t>(s);
}

// Rates are compared in integer parts per million so a boundary like 0.3 × 10 calls is exact
// (3 failures trip) instead of depending on 0.3 * 10 == 3.0000000000000004.
constexpr double kPpm = 1'000'000.0;
std::uint64_t to_ppm(double fraction) noexcept {
    return static_cast<std::uint64_t>(std::llround(fraction * kPpm));
}
bool rate_reached(std::uint64_t n, std::uint64_t total, double threshold) noexcept {
    const std::uint64_t ppm = to_ppm(threshold);
    return ppm > 0 && total > 0 && n * static_cast<std::uint64_t>(kPpm) >= ppm * total;
}

bool is_fraction(double v) noexcept { return std::isfinite(v) && v >= 0.0 && v <= 1.0; }

std::int64_t to_ns(core::SteadyTime t) noexcept { return t.time_since_epoch().count(); }
core::SteadyTime from_ns(std::int64_t ns) noexcept { return core::SteadyTime{core::Duration{ns}}; }

bool same_window_shape(const CircuitBreakerConfig& a, const CircuitBreakerConfig& b) noexcept {
    if (a.window != b.window) {
        return false;
    }
    return a.window == WindowKind::kCount
               ? a.window_calls == b.window_calls
               : a.bucket_width == b.bucket_width && a.bucket_count == b.bucket_count;
}

std::shared_ptr<SlidingWindow> make_window(const CircuitBreakerConfig& cfg) {
    if (cfg.window == WindowKind::kCount) {
        return std::make_shared<CountWindow>(cfg.window_calls);
    }
    return std::make_shared<TimeWindow>(cfg.bucket_width, cfg.bucket_count);
}

}  // namespace

// --- names ---------------------------------------------------------------------------------

std::string_view state_name(State s) noexcept {
    switch (s) {
        case State::kClosed: return "closed";
        case State::kOpen: return "open";
        case State::kHalfOpen: return "half_open";
    }
    return "unknown";
}

std::string_view mode_name(Mode m) noexcept {
    switch (m) {
        case Mode::kNormal: return "normal";
        case Mode::kForcedOpen: return "forced_open";
        case Mode::kForcedClosed: return "forced_closed";
        case Mode::kDisabled: return "disabled";
        case Mode::kMetricsOnly: return "metrics_only";
    }
    return "unknown";
}

std::string_view rejection_name(Rejection r) noexcept {
    switch (r) {
        case Rejection::kNone: return "none";
        case Rejection::kOpen: return "open";
        case Rejection::kHalfOpenFull: return "half_open_full";
        case Rejection::kRamp: return "ramp";
        case Rejection::kForcedOpen: return "forced_open";
    }
    return "unknown";
}

std::string_view trip_reason_name(TripReason r) noexcept {
    switch (r) {
        case TripReason::kFailureRate: return "failure_rate";
        case TripReason::kSlowCallRate: return "slow_call_rate";
        case TripReason::kConsecutiveFailures: return "consecutive_failures";
        case TripReason::kProbeFailed: return "probe_failed";
        case TripReason::kHalfOpenTimeout: return "half_open_timeout";
    }
    return "unknown";
}

boost::system::error_code to_error(Rejection /*r*/) noexcept {
    return core::make_error(core::Errc::kUnavailable);
}

core::Result<void> CircuitBreakerConfig::validate() const noexcept {
    const CircuitBreakerConfig& c = *this;
    const bool ok =
        (c.window == WindowKind::kCount ? c.window_calls > 0 && c.window_calls <= (1U << 24)
                                        : c.bucket_width.count() > 0 && c.bucket_count > 0 &&
                                              c.bucket_count <= 3600) &&
        is_fraction(c.failure_rate_threshold) && is_fraction(c.slow_call_rate_threshold) &&
        c.slow_call_duration.count() >= 0 && c.half_open_probes > 0 &&
        c.half_open_max_wait.count() >= 0 && c.open_base.count() > 0 &&
        c.open_max >= c.open_base && std::isfinite(c.open_multiplier) &&
        c.open_multiplier >= 1.0 && is_fraction(c.open_jitter) && c.ramp_duration.count() >= 0 &&
        is_fraction(c.ramp_start_fraction) && c.ramp_start_fraction > 0.0;
    if (!ok) {
        return core::make_error(core::Errc::kInvalidArgument);
    }
    return {};
}

double SplitMixRandom::next_unit() noexcept {
    std::uint64_t z = state_.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed) +
                      0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    z ^= z >> 31U;
    return static_cast<double>(z >> 11U) * 0x1.0p-53;
}

// --- BreakerPermit --------------------------------------------------------------------------------

BreakerPermit::BreakerPermit(BreakerPermit&& other) noexcept
    : breaker_(other.breaker_),
      epoch_(other.epoch_),
      kind_(other.kind_),
      rejection_(other.rejection_),
      reported_(other.reported_.load(std::memory_order_relaxed)) {
    other.breaker_ = nullptr;
}

BreakerPermit& BreakerPermit::operator=(BreakerPermit&& other) noexcept {
    if (this != &other) {
        on_ignored();
        breaker_ = other.breaker_;
        epoch_ = other.epoch_;
        kind_ = other.kind_;
        rejection_ = other.rejection_;
        reported_.store(other.reported_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        other.breaker_ = nullptr;
    }
    return *this;
}

BreakerPermit::~BreakerPermit() { on_ignored(); }

bool BreakerPermit::on_success(core::Duration latency) noexcept { return report(Outcome::kSuccess, latency); }
bool BreakerPermit::on_failure(core::Duration latency) noexcept { return report(Outcome::kFailure, latency); }
bool BreakerPermit::on_timeout(core::Duration latency) noexcept { return report(Outcome::kTimeout, latency); }
bool BreakerPermit::on_ignored() noexcept { return report(Outcome::kIgnored, core::Duration{0}); }

bool BreakerPermit::report(Outcome o, core::Duration latency) noexcept {
    if (breaker_ == nullptr || reported_.exchange(true, std::memory_order_acq_rel)) {
        return false;
    }
    breaker_->complete(*this, o, latency);
    return true;
}

// --- CircuitBreaker: construction and configuration -----------------------------------------

core::Result<std::unique_ptr<CircuitBreaker>> CircuitBreaker::create(
    const CircuitBreakerConfig& cfg,
    core::Clock& clock,
    RandomSource& random
) {
    if (auto v = cfg.validate(); !v) {
        return v.error();
    }
    std::unique_ptr<CircuitBreaker> b(new CircuitBreaker(clock, random, nullptr));
    auto gen = std::make_unique<Generation>(Generation{cfg, make_window(cfg)});
    b->gen_.store(gen.get(), std::memory_order_release);
    b->generations_.push_back(std::move(gen));
    return b;
}

core::Result<std::unique_ptr<CircuitBreaker>> CircuitBreaker::create(
    const CircuitBreakerConfig& cfg,
    core::Clock& clock
) {
    if (auto v = cfg.validate(); !v) {
        return v.error();
    }
    auto owned = std::make_unique<SplitMixRandom>(core::secure_random_u64());
    RandomSource& ref = *owned;
    std::unique_ptr<CircuitBreaker> b(new CircuitBreaker(clock, ref, std::move(owned)));
    auto gen = std::make_unique<Generation>(Generation{cfg, make_window(cfg)});
    b->gen_.store(gen.get(), std::memory_order_release);
    b->generations_.push_back(std::move(gen));
    return b;
}

CircuitBreaker::CircuitBreaker(core::Clock& clock,
                               RandomSource& random,
                               std::unique_ptr<RandomSource> owned)
    : clock_(clock), random_(random), owned_random_(std::move(owned)) {
    state_.store(make_word(0, Mode::kNormal, State::kClosed), std::memory_order_relaxed);
}

CircuitBreaker::~CircuitBreaker() = default;

core::Result<void> CircuitBreaker::update_config(const CircuitBreakerConfig& cfg) {
    if (auto v = cfg.validate(); !v) {
        return v;
    }
    std::lock_guard lock(mu_);
    const Generation* old = gen_.load(std::memory_order_relaxed);
    auto window = same_window_shape(old->cfg, cfg) ? old->window : make_window(cfg);
    auto gen = std::make_unique<Generation>(Generation{cfg, std::move(window)});
    gen_.store(gen.get(), std::memory_order_release);
    // The old generation stays alive: a lock-free reader may still be using it.
    generations_.push_back(std::move(gen));
    return {};
}

void CircuitBreaker::set_mode(Mode m) noexcept {
    std::lock_guard lock(mu_);
    const std::uint64_t word = state_.load(std::memory_order_relaxed);
    gen_.load(std::memory_order_relaxed)->window->reset();
    consecutive_failures_.store(0, std::memory_order_relaxed);
    consecutive_opens_ = 0;
    ramp_until_ns_.store(0, std::memory_order_relaxed);
    probes_admitted_.store(0, std::memory_order_relaxed);
    state_.store(make_word(epoch_of(word) + 1, m, State::kClosed), std::memory_order_release);
    counters_.add(kModeChanges);
}

Mode CircuitBreaker::mode() const noexcept {
    return mode_of(state_.load(std::memory_order_acquire));
}

State CircuitBreaker::state() const noexcept {
    return state_of(state_.load(std::memory_order_acquire));
}

CircuitBreakerConfig CircuitBreaker::config() const noexcept {
    return gen_.load(std::memory_order_acquire)->cfg;
}

std::int64_t CircuitBreaker::now_ns() const noexcept { return to_ns(clock_.steady_now()); }

// --- admission -------------------------------------------------------------------------------

BreakerPermit CircuitBreaker::reject(Rejection r) noexcept {
    switch (r) {
        case Rejection::kOpen: counters_.add(kRejectedOpen); break;
        case Rejection::kHalfOpenFull: counters_.add(kRejectedHalfOpen); break;
        case Rejection::kRamp: counters_.add(kRejectedRamp); break;
        case Rejection::kForcedOpen: counters_.add(kRejectedForced); break;
        case Rejection::kNone: break;
    }
    return BreakerPermit(r);
}

BreakerPermit CircuitBreaker::try_acquire() noexcept {
    for (;;) {
        const std::uint64_t word = state_.load(std::memory_order_acquire);
        switch (mode_of(word)) {
            case Mode::kDisabled: return BreakerPermit(this, epoch_of(word), BreakerPermit::Kind::kDisabled);
            case Mode::kForcedOpen: return reject(Rejection::kForcedOpen);
            case Mode::kForcedClosed:
                counters_.add(kPermitted);
                return BreakerPermit(this, epoch_of(word), BreakerPermit::Kind::kUntracked);
            case Mode::kMetricsOnly:
                counters_.add(kPermitted);
                return BreakerPermit(this, epoch_of(word), BreakerPermit::Kind::kTracked);
            case Mode::kNormal: break;
        }

        switch (state_of(word)) {
            case State::kClosed: {
                if (std::int64_t until = ramp_until_ns_.load(std::memory_order_acquire);
                    until != 0) {
                    const std::int64_t now = now_ns();
                    if (now < until) {
                        const std::int64_t start = ramp_start_ns_.load(std::memory_order_relaxed);
                        const double from =
                            gen_.load(std::memory_order_acquire)->cfg.ramp_start_fraction;
                        const double progress = static_cast<double>(now - start) /
                                                static_cast<double>(std::max<std::int64_t>(1, until - start));
                        if (random_.next_unit() >= from + (1.0 - from) * progress) {
                            return reject(Rejection::kRamp);
                        }
                    } else {
                        // Benign race: a newer ramp is only ever set under a new epoch.
                        ramp_until_ns_.compare_exchange_strong(
                            until, 0, std::memory_order_relaxed
                        );
                    }
                }
                counters_.add(kPermitted);
                return BreakerPermit(this, epoch_of(word), BreakerPermit::Kind::kTracked);
            }
            case State::kOpen: {
                const std::int64_t now = now_ns();
                if (now < open_until_ns_.load(std::memory_order_acquire)) {
                    return reject(Rejection::kOpen);
                }
                std::lock_guard lock(mu_);
                if (state_.load(std::memory_order_relaxed) != word) {
                    continue;  // someone else moved it; decide again
                }
                enter_half_open_locked(word, now);
                return admit_probe_locked(state_.load(std::memory_order_relaxed));
            }
            case State::kHalfOpen: {
                const std::int64_t deadline =
                    half_open_deadline_ns_.load(std::memory_order_acquire);
                const std::int64_t now = deadline != 0 ? now_ns() : 0;
                const bool expired = deadline != 0 && now >= deadline;
                const std::uint32_t limit =
                    gen_.load(std::memory_order_acquire)->cfg.half_open_probes;
                if (!expired && probes_admitted_.load(std::memory_order_acquire) >= limit) {
                    return reject(Rejection::kHalfOpenFull);
                }
                std::lock_guard lock(mu_);
                if (state_.load(std::memory_order_relaxed) != word) {
                    continue;
                }
                if (expired) {
                    open_locked(word, TripReason::kHalfOpenTimeout, now);
                    return reject(Rejection::kOpen);
                }
                return admit_probe_locked(word);
            }
        }
        return reject(Rejection::kOpen);  // unreachable: every state returns above
    }
}

BreakerPermit CircuitBreaker::admit_probe_locked(std::uint64_t word) noexcept {
    const std::uint32_t limit = gen_.load(std::memory_order_relaxed)->cfg.half_open_probes;
    const std::uint32_t admitted = probes_admitted_.load(std::memory_order_relaxed);
    if (admitted >= limit) {
        return reject(Rejection::kHalfOpenFull);
    }
    probes_admitted_.store(admitted + 1, std::memory_order_release);
    counters_.add(kPermitted);
    return BreakerPermit(this, epoch_of(word), BreakerPermit::Kind::kProbe);
}

// --- outcomes --------------------------------------------------------------------------------

void CircuitBreaker::complete(const BreakerPermit& p, BreakerPermit::Outcome o, core::Duration latency) noexcept {
    using Kind = BreakerPermit::Kind;
    using Outcome = BreakerPermit::Outcome;
    if (p.kind_ == Kind::kDisabled) {
        return;
    }
    const Generation& g = *gen_.load(std::memory_order_acquire);
    const bool failure = o == Outcome::kFailure || o == Outcome::kTimeout;
    const bool slow = o != Outcome::kIgnored && latency >= g.cfg.slow_call_duration;
    switch (o) {
        case Outcome::kSuccess: counters_.add(kSuccesses); break;
        case Outcome::kFailure: counters_.add(kFailures); break;
        case Outcome::kTimeout: counters_.add(kTimeouts); break;
        case Outcome::kIgnored: counters_.add(kIgnored); break;
    }
    if (slow) {
        counters_.add(kSlow);
    }
    if (p.kind_ == Kind::kUntracked) {
        return;
    }
    if (o == Outcome::kIgnored) {
        if (p.kind_ == Kind::kProbe) {
            release_probe(p.epoch_);
        }
        return;
    }
    const std::uint64_t word = state_.load(std::memory_order_acquire);
    if (epoch_of(word) != p.epoch_) {
        counters_.add(kStale);  // a straggler from before a state change: never moves state
        return;
    }
    if (p.kind_ == Kind::kProbe) {
        on_probe_outcome(p.epoch_, failure, slow);
        return;
    }

    const core::SteadyTime now = clock_.steady_now();
    g.window->record(WindowSample{failure, slow}, now);
    if (failure) {
        consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
    } else if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
        consecutive_failures_.store(0, std::memory_order_relaxed);
    }
    if (!failure && !slow) {
        return;  // a fast success cannot raise any rate
    }
    TripReason reason{};
    if (trip_check(g, now, reason)) {
        on_closed_trip(word, to_ns(now));
    }
}

bool CircuitBreaker::trip_check(const Generation& g,
                                core::SteadyTime now,
                                TripReason& reason) const noexcept {
    const CircuitBreakerConfig& c = g.cfg;
    if (c.consecutive_failures > 0 &&
        consecutive_failures_.load(std::memory_order_relaxed) >= c.consecutive_failures) {
        reason = TripReason::kConsecutiveFailures;
        return true;
    }
    const WindowTotals t = g.window->totals(now);
    if (t.calls < c.minimum_calls) {
        return false;
    }
    if (rate_reached(t.failures, t.calls, c.failure_rate_threshold)) {
        reason = TripReason::kFailureRate;
        return true;
    }
    if (rate_reached(t.slow, t.calls, c.slow_call_rate_threshold)) {
        reason = TripReason::kSlowCallRate;
        return true;
    }
    return false;
}

void CircuitBreaker::on_closed_trip(std::uint64_t word, std::int64_t now) noexcept {
    std::lock_guard lock(mu_);
    if (state_.load(std::memory_order_relaxed) != word) {
        return;  // another reporter already acted on this epoch
    }
    // Re-check under the lock so two racing reporters produce one trip, not two.
    const Generation& g = *gen_.load(std::memory_order_relaxed);
    TripReason reason{};
    if (!trip_check(g, from_ns(now), reason)) {
        return;
    }
    if (mode_of(word) == Mode::kMetricsOnly) {
        counters_.add(kShadowTrips);
        count_trip(reason);
        g.window->reset();
        consecutive_failures_.store(0, std::memory_order_relaxed);
        return;
    }
    open_locked(word, reason, now);
}

void CircuitBreaker::on_probe_outcome(std::uint64_t epoch, bool failure, bool slow) noexcept {
    std::lock_guard lock(mu_);
    const std::uint64_t word = state_.load(std::memory_order_relaxed);
    if (epoch_of(word) != epoch || state_of(word) != State::kHalfOpen) {
        counters_.add(kStale);
        return;
    }
    const std::int64_t now = now_ns();
    const std::int64_t deadline = half_open_deadline_ns_.load(std::memory_order_relaxed);
    if (deadline != 0 && now >= deadline) {
        open_locked(word, TripReason::kHalfOpenTimeout, now);
        return;
    }
    ++probe_done_;
    probe_failures_ += failure ? 1 : 0;
    probe_slow_ += slow ? 1 : 0;
    const CircuitBreakerConfig& c = gen_.load(std::memory_order_relaxed)->cfg;
    const std::uint32_t n = c.half_open_probes;
    // Rates over all n probes: once the outcomes so far reach a threshold the verdict cannot
    // change, so re-open without waiting for the rest.
    const bool failed = c.failure_rate_threshold > 0
                            ? rate_reached(probe_failures_, n, c.failure_rate_threshold)
                            : probe_failures_ > 0;
    if (failed || rate_reached(probe_slow_, n, c.slow_call_rate_threshold)) {
        open_locked(word, TripReason::kProbeFailed, now);
        return;
    }
    if (probe_done_ >= n) {
        close_locked(word, now);
    }
}

void CircuitBreaker::release_probe(std::uint64_t epoch) noexcept {
    std::lock_guard lock(mu_);
    const std::uint64_t word = state_.load(std::memory_order_relaxed);
    if (epoch_of(word) != epoch || state_of(word) != State::kHalfOpen) {
        return;
    }
    const std::uint32_t admitted = probes_admitted_.load(std::memory_order_relaxed);
    if (admitted > 0) {
        probes_admitted_.store(admitted - 1, std::memory_order_release);
    }
}

// --- transitions (mu_ held) ------------------------------------------------------------------

core::Duration CircuitBreaker::backoff_locked() noexcept {
    const CircuitBreakerConfig& c = gen_.load(std::memory_order_relaxed)->cfg;
    const auto base = static_cast<double>(c.open_base.count());
    const auto cap = static_cast<double>(c.open_max.count());
    const double exp = std::pow(c.open_multiplier, static_cast<double>(consecutive_opens_ - 1));
    double d = std::min(base * exp, cap);
    if (c.open_jitter > 0) {
        d *= 1.0 + c.open_jitter * (2.0 * random_.next_unit() - 1.0);
    }
    d = std::clamp(d, 0.0, cap);
    return core::Duration{static_cast<core::Duration::rep>(d)};
}

void CircuitBreaker::open_locked(std::uint64_t word, TripReason reason, std::int64_t now) noexcept {
    ++consecutive_opens_;
    open_until_ns_.store(now + backoff_locked().count(), std::memory_order_relaxed);
    ramp_until_ns_.store(0, std::memory_order_relaxed);
    probes_admitted_.store(0, std::memory_order_relaxed);
    // Release: a reader that sees Open also sees open_until_ns_.
    state_.store(make_word(epoch_of(word) + 1, Mode::kNormal, State::kOpen),
                 std::memory_order_release);
    counters_.add(kToOpen);
    count_trip(reason);
}

void CircuitBreaker::enter_half_open_locked(std::uint64_t word, std::int64_t now) noexcept {
    const CircuitBreakerConfig& c = gen_.load(std::memory_order_relaxed)->cfg;
    probes_admitted_.store(0, std::memory_order_relaxed);
    probe_done_ = 0;
    probe_failures_ = 0;
    probe_slow_ = 0;
    half_open_deadline_ns_.store(
        c.half_open_max_wait.count() > 0 ? now + c.half_open_max_wait.count() : 0,
        std::memory_order_relaxed
    );
    state_.store(make_word(epoch_of(word) + 1, Mode::kNormal, State::kHalfOpen),
                 std::memory_order_release);
    counters_.add(kToHalfOpen);
}

void CircuitBreaker::close_locked(std::uint64_t word, std::int64_t now) noexcept {
    const Generation& g = *gen_.load(std::memory_order_relaxed);
    g.window->reset();
    consecutive_failures_.store(0, std::memory_order_relaxed);
    consecutive_opens_ = 0;
    probes_admitted_.store(0, std::memory_order_relaxed);
    half_open_deadline_ns_.store(0, std::memory_order_relaxed);
    const std::int64_t ramp = g.cfg.ramp_duration.count();
    ramp_start_ns_.store(now, std::memory_order_relaxed);
    ramp_until_ns_.store(ramp > 0 ? now + ramp : 0, std::memory_order_relaxed);
    state_.store(make_word(epoch_of(word) + 1, Mode::kNormal, State::kClosed),
                 std::memory_order_release);
    counters_.add(kToClosed);
}

void CircuitBreaker::count_trip(TripReason r) noexcept {
    switch (r) {
        case TripReason::kFailureRate: counters_.add(kTripFailureRate); break;
        case TripReason::kSlowCallRate: counters_.add(kTripSlowRate); break;
        case TripReason::kConsecutiveFailures: counters_.add(kTripConsecutive); break;
        case TripReason::kProbeFailed: counters_.add(kTripProbeFailed); break;
        case TripReason::kHalfOpenTimeout: counters_.add(kTripHalfOpenTimeout); break;
    }
}

// --- stats -----------------------------------------------------------------------------------

CircuitBreakerStats CircuitBreaker::stats() const noexcept {
    CircuitBreakerStats s;
    const std::uint64_t word = state_.load(std::memory_order_acquire);
    s.state = state_of(word);
    s.mode = mode_of(word);
    s.epoch = epoch_of(word);
    s.open = s.state == State::kOpen || s.mode == Mode::kForcedOpen;
    s.window = gen_.load(std::memory_order_acquire)->window->totals(clock_.steady_now());
    s.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
    {
        std::lock_guard lock(mu_);
        s.consecutive_opens = consecutive_opens_;
    }
    s.permitted = counters_.sum(kPermitted);
    s.successes = counters_.sum(kSuccesses);
    s.failures = counters_.sum(kFailures);
    s.timeouts = counters_.sum(kTimeouts);
    s.slow_calls = counters_.sum(kSlow);
    s.ignored = counters_.sum(kIgnored);
    s.stale_outcomes = counters_.sum(kStale);
    s.rejected_open = counters_.sum(kRejectedOpen);
    s.rejected_half_open = counters_.sum(kRejectedHalfOpen);
    s.rejected_ramp = counters_.sum(kRejectedRamp);
    s.rejected_forced = counters_.sum(kRejectedForced);
    s.short_circuits = s.rejected_open + s.rejected_half_open + s.rejected_ramp + s.rejected_forced;
    s.to_open = counters_.sum(kToOpen);
    s.to_half_open = counters_.sum(kToHalfOpen);
    s.to_closed = counters_.sum(kToClosed);
    s.mode_changes = counters_.sum(kModeChanges);
    s.transitions = s.to_open + s.to_half_open + s.to_closed + s.mode_changes;
    s.shadow_trips = counters_.sum(kShadowTrips);
    s.trips_failure_rate = counters_.sum(kTripFailureRate);
    s.trips_slow_call_rate = counters_.sum(kTripSlowRate);
    s.trips_consecutive = counters_.sum(kTripConsecutive);
    s.trips_probe_failed = counters_.sum(kTripProbeFailed);
    s.trips_half_open_timeout = counters_.sum(kTripHalfOpenTimeout);
    return s;
}

CircuitBreakerStats merged_stats(std::span<const CircuitBreaker* const> members) noexcept {
    CircuitBreakerStats m;
    bool first = true;
    const auto rank = [](State st) { return st == State::kOpen ? 2 : st == State::kHalfOpen ? 1 : 0; };
    for (const CircuitBreaker* b : members) {
        const CircuitBreakerStats s = b->stats();
        if (first) {
            m.mode = s.mode;
            first = false;
        }
        if (rank(s.state) > rank(m.state)) {
            m.state = s.state;
        }
        m.open = m.open || s.open;
        m.epoch = std::max(m.epoch, s.epoch);
        m.consecutive_failures = std::max(m.consecutive_failures, s.consecutive_failures);
        m.consecutive_opens = std::max(m.consecutive_opens, s.consecutive_opens);
        m.window.calls += s.window.calls;
        m.window.failures += s.window.failures;
        m.window.slow += s.window.slow;
        for (auto member : {&CircuitBreakerStats::permitted, &CircuitBreakerStats::successes,
                            &CircuitBreakerStats::failures, &CircuitBreakerStats::timeouts,
                            &CircuitBreakerStats::slow_calls, &CircuitBreakerStats::ignored,
                            &CircuitBreakerStats::stale_outcomes, &CircuitBreakerStats::short_circuits,
                            &CircuitBreakerStats::rejected_open, &CircuitBreakerStats::rejected_half_open,
                            &CircuitBreakerStats::rejected_ramp, &CircuitBreakerStats::rejected_forced,
                            &CircuitBreakerStats::transitions, &CircuitBreakerStats::to_open,
                            &CircuitBreakerStats::to_half_open, &CircuitBreakerStats::to_closed,
                            &CircuitBreakerStats::mode_changes, &CircuitBreakerStats::shadow_trips,
                            &CircuitBreakerStats::trips_failure_rate, &CircuitBreakerStats::trips_slow_call_rate,
                            &CircuitBreakerStats::trips_consecutive, &CircuitBreakerStats::trips_probe_failed,
                            &CircuitBreakerStats::trips_half_open_timeout}) {
            m.*member += s.*member;
        }
    }
    return m;
}

}  // namespace moneta::resilience
