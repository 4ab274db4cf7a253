/// @file moneta/resilience/circuit_breaker.hpp
/// @brief Circuit breaker for one dependency (or one endpoint of it): count- or time-based
/// window, failure-rate / slow-call-rate / consecutive-failure trips, N-probe half-open with a
/// max wait, exponential open backoff with jitter and a cap, a gradual ramp after closing, and
/// runtime modes (forced open/closed, disabled, metrics-only). See docs/resilience.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <mutex>
#include <string_view>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"
#include "moneta/resilience/sliding_window.hpp"

namespace moneta::resilience {

/// The state machine's position. Modes (below) override what it means for admission.
enum class State : std::uint8_t { kClosed, kOpen, kHalfOpen };

/// Runtime operating mode, switchable with CircuitBreaker::set_mode().
enum class Mode : std::uint8_t {
    kNormal,        ///< the state machine decides
    kForcedOpen,    ///< reject everything (operator kill switch)
    kForcedClosed,  ///< admit everything; lifetime stats only, no window, no trips
    kDisabled,      ///< admit everything and record nothing at all
    kMetricsOnly,   ///< admit everything; windows and trip checks run, trips only counted
};

/// Why try_acquire() refused a call.
enum class Rejection : std::uint8_t {
    kNone,          ///< not rejected (or an empty permit)
    kOpen,          ///< circuit open (waiting for its backoff to end)
    kHalfOpenFull,  ///< half-open and all probe slots are taken
    kRamp,          ///< recently closed and this call fell outside the ramp fraction
    kForcedOpen,    ///< Mode::kForcedOpen
};

enum class WindowKind : std::uint8_t { kCount, kTime };

/// Why the circuit opened (or, in metrics-only mode, would have opened).
enum class TripReason : std::uint8_t {
    kFailureRate,
    kSlowCallRate,
    kConsecutiveFailures,
    kProbeFailed,      ///< half-open probes crossed a threshold
    kHalfOpenTimeout,  ///< half-open lasted longer than half_open_max_wait without a verdict
};

/// Short stable names, usable as metric labels.
std::string_view state_name(State s) noexcept;
std::string_view mode_name(Mode m) noexcept;
std::string_view rejection_name(Rejection r) noexcept;
std::string_view trip_reason_name(TripReason r) noexcept;

/// The error a caller returns for a rejected call (Errc::kUnavailable).
boost::system::error_code to_error(Rejection r) noexcept;

/// Thresholds are fractions in [0, 1]; a trip fires when the observed rate is >= the threshold
/// (compared exactly in parts per million, so 0.3 of 10 calls trips at 3 failures). A threshold
/// of 0 disables that trip. Defaults follow resilience4j except where noted.
struct CircuitBreakerConfig {
    WindowKind window = WindowKind::kCount;
    std::size_t window_calls = 100;                       ///< count window: last N decided calls
    core::Duration bucket_width = std::chrono::seconds{1};  ///< time window bucket
    std::size_t bucket_count = 10;                        ///< time window = count × width
    std::uint32_t minimum_calls = 20;  ///< rate trips need this many calls in the window

    double failure_rate_threshold = 0.5;  ///< failures+timeouts / calls
    double slow_call_rate_threshold = 0;  ///< slow / calls; 0 = off
    core::Duration slow_call_duration = std::chrono::seconds{1};  ///< latency >= this is slow
    /// Trip after this many failures in a row, regardless of minimum_calls; 0 = off. The fast
    /// path for a hard-down dependency (connection refused).
    std::uint32_t consecutive_failures = 0;

    /// Probes admitted in half-open; the verdict uses only their outcomes (failure/slow rates
    /// against the thresholds above; with failure_rate_threshold = 0 any probe failure re-opens).
    /// A probe reported as ignored frees its slot for another probe.
    std::uint32_t half_open_probes = 1;
    /// Re-open if half-open lasts this long without a verdict (stuck probe guard); 0 = never.
    core::Duration half_open_max_wait = std::chrono::seconds{0};

    /// Open wait for the k-th consecutive opening: min(base × multiplier^(k-1), max), then
    /// multiplied by a uniform factor in [1 - jitter, 1 + jitter] and capped at max again.
    core::Duration open_base = std::chrono::seconds{5};
    double open_multiplier = 2.0;
    core::Duration open_max = std::chrono::seconds{300};
    double open_jitter = 0.1;

    /// After half-open closes, admit a fraction of calls rising linearly from ramp_start_fraction
    /// to 1 over ramp_duration (the rest are rejected with Rejection::kRamp); 0 = off.
    core::Duration ramp_duration = std::chrono::seconds{0};
    double ramp_start_fraction = 0.1;

    /// @return kInvalidArgument when a field is out of range.
    core::Result<void> validate() const noexcept;
};

/// Uniform randomness for jitter and the ramp, injectable so tests are deterministic.
/// @par Thread safety
/// Implementations must be safe to call from many threads at once.
class RandomSource {
public:
    virtual ~RandomSource() = default;
    /// @return a value in [0, 1).
    virtual double next_unit() noexcept = 0;
};

/// SplitMix64 over one atomic counter: lock-free, allocation-free, not for secrets.
class SplitMixRandom final : public RandomSource {
public:
    explicit SplitMixRandom(std::uint64_t seed) noexcept : state_(seed) {}
    double next_unit() noexcept override;

private:
    std::atomic<std::uint64_t> state_;
};

/// A point-in-time view for metrics. Lifetime counters are exact once callers are quiescent;
/// successes + failures + timeouts + ignored == permitted (disabled-mode calls are not counted).
struct CircuitBreakerStats {
    State state = State::kClosed;
    Mode mode = Mode::kNormal;
    std::uint64_t epoch = 0;
    bool open = false;  ///< state open or forced open: the `_open` gauge
    WindowTotals window;
    std::uint64_t consecutive_failures = 0;
    std::uint32_t consecutive_opens = 0;  ///< drives the backoff; reset on close

    std::uint64_t permitted = 0;
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;  ///< excluding timeouts
    std::uint64_t timeouts = 0;
    std::uint64_t slow_calls = 0;  ///< of successes, failures and timeouts
    std::uint64_t ignored = 0;
    std::uint64_t stale_outcomes = 0;  ///< outcomes of permits from an earlier epoch
    std::uint64_t short_circuits = 0;  ///< sum of the four rejected_* below
    std::uint64_t rejected_open = 0;
    std::uint64_t rejected_half_open = 0;
    std::uint64_t rejected_ramp = 0;
    std::uint64_t rejected_forced = 0;

    std::uint64_t transitions = 0;  ///< sum of the three to_* below plus mode changes
    std::uint64_t to_open = 0;
    std::uint64_t to_half_open = 0;
    std::uint64_t to_closed = 0;
    std::uint64_t mode_changes = 0;
    std::uint64_t shadow_trips = 0;  ///< trips counted but not acted on (metrics-only)
    std::uint64_t trips_failure_rate = 0;
    std::uint64_t trips_slow_call_rate = 0;
    std::uint64_t trips_consecutive = 0;
    std::uint64_t trips_probe_failed = 0;
    std::uint64_t trips_half_open_timeout = 0;
};

class CircuitBreaker;

/// The right to make one call, or the reason it was refused. Move-only. An admitted permit must
/// be reported exactly once; the first report wins (later ones return false), so a success
/// racing a timeout records one outcome. Destroying an unreported permit reports it as ignored,
/// so a cancelled probe frees its slot instead of leaving the breaker stuck half-open. The permit
/// carries the breaker's epoch: outcomes from before a state change are counted but never move
/// the state machine.
/// @par Thread safety
/// The on_*() calls may race each other; moving or destroying may not race anything.
class BreakerPermit {
public:
    BreakerPermit() noexcept = default;
    BreakerPermit(BreakerPermit&& other) noexcept;
    BreakerPermit& operator=(BreakerPermit&& other) noexcept;
    BreakerPermit(const BreakerPermit&) = delete;
    BreakerPermit& operator=(const BreakerPermit&) = delete;
    ~BreakerPermit();

    /// @return true if the call may proceed.
    explicit operator bool() const noexcept { return breaker_ != nullptr; }
    Rejection rejection() const noexcept { return rejection_; }
    bool is_probe() const noexcept { return kind_ == Kind::kProbe; }
    std::uint64_t epoch() const noexcept { return epoch_; }

    /// Report the call's outcome with its latency. @return true if this report was recorded.
    bool on_success(core::Duration latency) noexcept;
    bool on_failure(core::Duration latency) noexcept;
    /// A failure that was a timeout (counts as a failure for trips, separately in stats).
    bool on_timeout(core::Duration latency) noexcept;
    /// The caller cancelled or its deadline passed: neither success nor failure.
    bool on_ignored() noexcept;

private:
    friend class CircuitBreaker;
    enum class Kind : std::uint8_t { kDisabled, kUntracked, kTracked, kProbe };
    enum class Outcome : std::uint8_t { kSuccess, kFailure, kTimeout, kIgnored };

    BreakerPermit(CircuitBreaker* b, std::uint64_t epoch, Kind kind) noexcept
        : breaker_(b), epoch_(epoch), kind_(kind) {}
    explicit BreakerPermit(Rejection r) noexcept : rejection_(r) {}
    bool report(Outcome o, core::Duration latency) noexcept;

    CircuitBreaker* breaker_ = nullptr;
    std::uint64_t epoch_ = 0;
    Kind kind_ = Kind::kDisabled;
    Rejection rejection_ = Rejection::kNone;
    std::atomic<bool> reported_{false};
};

/// NOTE: deliberate simplifications.
/// - Time-driven transitions (open → half-open, half-open max wait, ramp end) happen lazily on
///   the next try_acquire() or report; with no traffic the reported state can lag the clock.
/// - A window-shape change in update_config() keeps the old window alive until the breaker is
///   destroyed (racing writers may still hold it); thresholds-only changes allocate one small
///   config block each. Reconfiguration is an admin action, not a per-request one.
/// - Closed-state outcomes go to one shared window (a few relaxed atomics), not per-core
///   windows; lifetime counters are striped.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe. The admit/short-circuit path and closed-state
/// reporting are lock-free; a small mutex serialises transitions and half-open probe
/// bookkeeping (at most half_open_probes admissions per cycle).
class CircuitBreaker {
public:
    /// @param clock must outlive the breaker; @param random likewise (for jitter and the ramp).
    static core::Result<std::unique_ptr<CircuitBreaker>> create(const CircuitBreakerConfig& cfg,
                                                                core::Clock& clock,
                                                                RandomSource& random);
    /// As above with an internal SplitMixRandom seeded from the kernel CSPRNG.
    static core::Result<std::unique_ptr<CircuitBreaker>> create(const CircuitBreakerConfig& cfg,
                                                                core::Clock& clock);
    CircuitBreaker(const CircuitBreaker&) = delete;
    CircuitBreaker& operator=(const CircuitBreaker&) = delete;
    ~CircuitBreaker();

    /// Admit or refuse one call. Never allocates; lock-free unless it performs a transition or
    /// admits a half-open probe.
    BreakerPermit try_acquire() noexcept;

    /// Swap thresholds at runtime. In-flight permits stay valid; a changed window shape starts
    /// an empty window. @return kInvalidArgument (and no change) for an invalid config.
    core::Result<void> update_config(const CircuitBreakerConfig& cfg);
    /// Switch mode at runtime. Always starts a new epoch in State::kClosed with an empty window.
    void set_mode(Mode m) noexcept;

    Mode mode() const noexcept;
    State state() const noexcept;
    CircuitBreakerConfig config() const noexcept;
    CircuitBreakerStats stats() const noexcept;

private:
    friend class BreakerPermit;
    struct Generation;
    enum Counter : std::size_t {
        kPermitted,
        kSuccesses,
        kFailures,
        kTimeouts,
        kSlow,
        kIgnored,
        kStale,
        kRejectedOpen,
        kRejectedHalfOpen,
        kRejectedRamp,
        kRejectedForced,
        kToOpen,
        kToHalfOpen,
        kToClosed,
        kModeChanges,
        kShadowTrips,
        kTripFailureRate,
        kTripSlowRate,
        kTripConsecutive,
        kTripProbeFailed,
        kTripHalfOpenTimeout,
        kCounterCount,
    };

    CircuitBreaker(core::Clock& clock, RandomSource& random, std::unique_ptr<RandomSource> owned);
    std::int64_t now_ns() const noexcept;
    BreakerPermit reject(Rejection r) noexcept;
    void complete(const BreakerPermit& p, BreakerPermit::Outcome o, core::Duration latency) noexcept;
    bool trip_check(const Generation& g, core::SteadyTime now, TripReason& reason) const noexcept;
    void on_closed_trip(std::uint64_t word, std::int64_t now) noexcept;
    void on_probe_outcome(std::uint64_t epoch, bool failure, bool slow) noexcept;
    void release_probe(std::uint64_t epoch) noexcept;
    // The *_locked helpers require mu_ held.
    void open_locked(std::uint64_t word, TripReason reason, std::int64_t now) noexcept;
    void enter_half_open_locked(std::uint64_t word, std::int64_t now) noexcept;
    void close_locked(std::uint64_t word, std::int64_t now) noexcept;
    BreakerPermit admit_probe_locked(std::uint64_t word) noexcept;
    core::Duration backoff_locked() noexcept;
    void count_trip(TripReason r) noexcept;

    core::Clock& clock_;
    RandomSource& random_;
    std::unique_ptr<RandomSource> owned_random_;

    // epoch << 5 | mode << 2 | state: one load gives a consistent admission decision.
    alignas(64) std::atomic<std::uint64_t> state_{0};
    std::atomic<const Generation*> gen_{nullptr};
    std::atomic<std::int64_t> open_until_ns_{0};
    std::atomic<std::int64_t> half_open_deadline_ns_{0};  // 0 = no max wait
    std::atomic<std::int64_t> ramp_start_ns_{0};
    std::atomic<std::int64_t> ramp_until_ns_{0};  // 0 = no ramp in progress
    std::atomic<std::uint32_t> probes_admitted_{0};  // written under mu_, read lock-free
    alignas(64) std::atomic<std::uint64_t> consecutive_failures_{0};

    StripedCounters<kCounterCount> counters_;

    mutable std::mutex mu_;
    std::vector<std::unique_ptr<const Generation>> generations_;  // guarded by mu_
    std::uint32_t consecutive_opens_ = 0;                        // guarded by mu_
    std::uint32_t probe_done_ = 0;                               // guarded by mu_
    std::uint32_t probe_failures_ = 0;                           // guarded by mu_
    std::uint32_t probe_slow_ = 0;                               // guarded by mu_
};

/// One view of the same breaker kept once per worker (each worker's calls feed and consult only
/// its own, so no cache line is shared between workers on the request path; docs/resilience.md
/// "Per worker"): counters and window totals summed, the worst state (open > half-open >
/// closed), `open` when any member refuses calls, the highest epoch and backoff step, the first
/// member's mode (modes are set on every member together). Empty span: default stats.
CircuitBreakerStats merged_stats(std::span<const CircuitBreaker* const> members) noexcept;

}  // namespace moneta::resilience
