/// @file moneta/resilience/adaptive_limit.hpp
/// @brief Adaptive concurrency limit for inbound requests, with the semantics of Envoy's
/// adaptive_concurrency gradient controller: periodically measure minRTT at a small fixed
/// concurrency, then every sample window move the limit by gradient = (minRTT + buffer) /
/// sampleRTT (clamped to [0.5, 2]) plus sqrt(limit) burst headroom. One addition: a latency
/// floor under the tolerated latency (see AdaptiveLimitConfig::latency_floor).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"
#include "moneta/resilience/retry_budget.hpp"

namespace moneta::resilience {

/// Envoy's defaults, except where noted.
struct AdaptiveLimitConfig {
    double sample_percentile = 50.0;                          ///< sampleRTT/minRTT aggregate
    std::uint32_t max_concurrency_limit = 1000;
    core::Duration sample_interval = std::chrono::milliseconds(100);  ///< concurrency_update_interval
    core::Duration min_rtt_interval = std::chrono::seconds(60);      ///< between minRTT measurements
    std::uint32_t min_rtt_request_count = 50;                 ///< samples per minRTT measurement
    double min_rtt_jitter_percent = 10.0;                     ///< added to min_rtt_interval, [0, pct)
    std::uint32_t min_concurrency = 3;                        ///< limit while measuring minRTT; floor
    double min_rtt_buffer_percent = 25.0;                     ///< tolerated latency above minRTT
    /// Not in Envoy (zero keeps its behaviour): the tolerated latency is
    /// max(minRTT x (1 + buffer), latency_floor). With a sub-millisecond minRTT, "twice minRTT" is
    /// queueing no client notices, and a closed population of clients (more connections than
    /// min_concurrency, each sending its next request when the last one returns) settles the
    /// limit below that population and sheds the rest for ever (docs/resilience.md).
    /// With a floor, a due minRTT measurement (limit pinned at min_concurrency, the rest shed)
    /// is skipped while the last sample window x (1 + buffer) is within the floor: minRTT is at
    /// most that sample, so the floor would stay the tolerated latency whatever it measured.
    /// For the same reason a limit with a floor starts at max_concurrency_limit without a
    /// measurement; if its first sample window is not within the floor it measures then and
    /// continues from min_concurrency, as Envoy starts.
    core::Duration latency_floor = core::Duration::zero();

    /// kInvalidArgument on zero counts/intervals, min_concurrency > max_concurrency_limit,
    /// percentages out of range or a negative latency_floor.
    core::Result<void> validate() const noexcept;
};

/// Snapshot for gauges and tests.
struct AdaptiveLimitState {
    std::uint32_t limit = 0;
    std::uint32_t outstanding = 0;
    bool measuring_min_rtt = false;
    std::optional<core::Duration> min_rtt;      ///< nullopt until the first measurement ends
    std::optional<core::Duration> sample_rtt;   ///< last sample window's aggregate
    std::uint64_t shed_total = 0;
};

class AdaptiveLimit;

/// One admitted request. Move-only. complete() feeds its latency to the controller; cancel() or
/// destruction only frees the slot (Envoy's cancelLatencySample: resets/errors are not samples).
class LimitPermit {
public:
    LimitPermit() noexcept = default;
    LimitPermit(LimitPermit&& other) noexcept;
    LimitPermit& operator=(LimitPermit&& other) noexcept;
    LimitPermit(const LimitPermit&) = delete;
    LimitPermit& operator=(const LimitPermit&) = delete;
    ~LimitPermit() { cancel(); }

    /// The request finished normally: record now - start as a latency sample.
    void complete() noexcept;
    /// The request ended without a meaningful latency (error, client reset).
    void cancel() noexcept;
    bool held() const noexcept { return owner_ != nullptr; }

    /// The permit as plain values, for a holder that cannot keep a move-only object (the HTTP
    /// server's per-request end hook, http::EndHook). The slot stays taken until adopt() makes a
    /// permit of it again, which must happen exactly once.
    struct Raw {
        AdaptiveLimit* owner = nullptr;
        core::SteadyTime start{};
    };
    [[nodiscard]] Raw release() noexcept { return {std::exchange(owner_, nullptr), start_}; }
    static LimitPermit adopt(Raw raw) noexcept { return LimitPermit(raw.owner, raw.start); }

private:
    friend class AdaptiveLimit;
    LimitPermit(AdaptiveLimit* owner, core::SteadyTime start) noexcept
        : owner_(owner), start_(start) {}
    AdaptiveLimit* owner_ = nullptr;
    core::SteadyTime start_{};
};

/// Sheds inbound requests above an adaptively computed concurrency limit (answer 503
/// OVERLOADED on kOverloaded). Timers are modelled as deadlines checked on every call and by
/// tick(); without traffic nothing needs to move (an empty window changes nothing), so a caller
/// need not tick: the next request closes the overdue window.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: one owner thread (a worker's) calls try_acquire(),
/// tick() and the permits' complete()/cancel(); state() may be called from any thread and reads
/// what the owner last published (each field on its own, with relaxed atomics). No lock on the
/// request path: an uncontended mutex taken twice per request was ~100 instructions of a
/// heartbeat (docs/performance.md, eleventh round).
class AdaptiveLimit {
public:
    AdaptiveLimit(const core::Clock& clock,
                  AdaptiveLimitConfig config,
                  UniformSource uniform = default_uniform);
    AdaptiveLimit(const AdaptiveLimit&) = delete;
    AdaptiveLimit& operator=(const AdaptiveLimit&) = delete;
    ~AdaptiveLimit();

    /// Admits a request if outstanding < limit; kOverloaded otherwise.
    core::Result<LimitPermit> try_acquire();

    /// Runs due "timers": closes the sample window (new limit) and starts a minRTT measurement.
    void tick();

    AdaptiveLimitState state() const;

private:
    friend class LimitPermit;

    void run_due(core::SteadyTime now);
    void record_sample(core::SteadyTime start) noexcept;
    void cancel_sample() noexcept;
    void enter_min_rtt_window(core::SteadyTime now);
    void finish_min_rtt_window(core::SteadyTime now);
    void schedule_min_rtt_window(core::SteadyTime now);
    bool floor_decides() const noexcept;
    /// @p latency x (1 + min_rtt_buffer_percent): the tolerance the gradient and the floor check use.
    double with_buffer(core::Duration latency) const noexcept;
    void close_sample_window(core::SteadyTime now);
    void set_limit(std::uint32_t new_limit, core::SteadyTime now);
    std::uint32_t calculate_new_limit() const noexcept;
    core::Duration take_percentile();
    void add_sample(core::Duration latency);
    /// Stores what state() reports (owner thread, after every change).
    void publish() noexcept;

    const core::Clock& clock_;
    const AdaptiveLimitConfig config_;
    UniformSource uniform_;
    std::uint32_t limit_;
    std::uint32_t outstanding_ = 0;
    std::uint32_t deferred_limit_ = 0;  // limit to restore
    bool measuring_min_rtt_ = false;
    core::SteadyTime min_rtt_epoch_{};
    std::optional<core::Duration> min_rtt_;
    std::optional<core::Duration> sample_rtt_;
    std::optional<core::SteadyTime> next_sample_close_;  // off while measuring
    std::optional<core::SteadyTime> next_min_rtt_start_;  // off while measuring
    std::uint32_t consecutive_min_limit_ = 0;
    std::vector<core::Duration> samples_;
    std::uint64_t samples_seen_ = 0;
    std::uint64_t shed_total_ = 0;

    /// What state() reads from other threads.
    struct Published {
        std::atomic<std::uint32_t> limit{0};
        std::atomic<std::uint32_t> outstanding{0};
        std::atomic<bool> measuring_min_rtt{false};
        std::atomic<std::int64_t> min_rtt_ns{-1};  ///< -1: none yet
        std::atomic<std::int64_t> sample_rtt_ns{-1};
        std::atomic<std::uint64_t> shed_total{0};
    };
    Published published_;
};

}  // namespace moneta::resilience
