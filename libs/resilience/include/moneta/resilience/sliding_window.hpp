/// @file moneta/resilience/sliding_window.hpp
/// @brief Lossless, lock-free outcome windows for the circuit breaker: the last N calls
/// (CountWindow) or the last K buckets of width W (TimeWindow), plus a striped counter block for
/// lifetime statistics that are exact without a shared hot cache line.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "moneta/core/clock.hpp"

namespace moneta::resilience {

/// What a window holds right now. `failures` includes timeouts; `slow` counts calls at or above
/// the slow-call threshold whatever their outcome (resilience4j semantics).
struct WindowTotals {
    std::uint64_t calls = 0;
    std::uint64_t failures = 0;
    std::uint64_t slow = 0;
};

/// One recorded, decided outcome (ignored calls never reach a window).
struct WindowSample {
    bool failure = false;
    bool slow = false;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe for record()/totals(); reset() must not race
/// with record() (the breaker resets only on a state transition, when the epoch change already
/// keeps outcomes of the previous epoch out of the window).
class SlidingWindow {
public:
    virtual ~SlidingWindow() = default;
    /// Adds one outcome observed at @p now. Lock-free, allocation-free.
    virtual void record(WindowSample s, core::SteadyTime now) noexcept = 0;
    /// @return the outcomes inside the window at @p now.
    virtual WindowTotals totals(core::SteadyTime now) const noexcept = 0;
    /// Forgets everything.
    virtual void reset() noexcept = 0;
};

/// The last @p size decided calls. Each call takes a ring slot with one fetch_add, swaps its
/// outcome code in with one exchange, and applies the difference to three running totals; so
/// the totals always equal the sum of the slots once writers are quiescent (no lost events).
/// A reader racing writers may see the three totals from slightly different instants.
class CountWindow final : public SlidingWindow {
public:
    explicit CountWindow(std::size_t size);
    void record(WindowSample s, core::SteadyTime now) noexcept override;
    WindowTotals totals(core::SteadyTime now) const noexcept override;
    void reset() noexcept override;
    std::size_t size() const noexcept { return size_; }

private:
    std::size_t size_;
    std::unique_ptr<std::atomic<std::uint8_t>[]> slots_;  // 0 = empty, else kPresent|...
    alignas(64) std::atomic<std::uint64_t> head_{0};
    alignas(64) std::atomic<std::int64_t> calls_{0};
    std::atomic<std::int64_t> failures_{0};
    std::atomic<std::int64_t> slow_{0};
};

/// Outcomes completed in the last `bucket_count` buckets of `bucket_width` (the current,
/// partially filled bucket included), as in resilience4j's SlidingTimeWindowMetrics. Each
/// counter word carries its bucket's interval number in the high 32 bits, so a bucket is
/// recycled by the first writer of a new interval with one CAS and no increment can be wiped by
/// a concurrent reset. An outcome whose bucket has already been recycled for a newer interval
/// (a writer stalled for a whole window) is older than the window and is left out of it.
class TimeWindow final : public SlidingWindow {
public:
    TimeWindow(core::Duration bucket_width, std::size_t bucket_count);
    void record(WindowSample s, core::SteadyTime now) noexcept override;
    WindowTotals totals(core::SteadyTime now) const noexcept override;
    void reset() noexcept override;
    core::Duration bucket_width() const noexcept { return width_; }
    std::size_t bucket_count() const noexcept { return count_; }

private:
    struct alignas(64) Bucket {
        std::atomic<std::uint64_t> calls{0};
        std::atomic<std::uint64_t> failures{0};
        std::atomic<std::uint64_t> slow{0};
    };
    std::uint32_t interval_of(core::SteadyTime now) const noexcept;

    core::Duration width_;
    std::size_t count_;
    std::unique_ptr<Bucket[]> buckets_;
};

/// A fixed set of lifetime counters split over a few cache-line-sized stripes; each thread
/// always adds to "its" stripe (round-robin thread index), reads sum all stripes. Increments are
/// single relaxed fetch_adds: exact, never dropped, and without one cache line bouncing between
/// every core on the hot path.
template <std::size_t N>
class StripedCounters {
public:
    static constexpr std::size_t kStripes = 8;

    void add(std::size_t counter, std::uint64_t n = 1) noexcept {
        stripes_[stripe_index()].values[counter].fetch_add(n, std::memory_order_relaxed);
    }
    std::uint64_t sum(std::size_t counter) const noexcept {
        std::uint64_t total = 0;
        for (const auto& s : stripes_) {
            total += s.values[counter].load(std::memory_order_relaxed);
        }
        return total;
    }

private:
    struct alignas(64) Stripe {
        std::array<std::atomic<std::uint64_t>, N> values{};
    };
    static std::size_t stripe_index() noexcept;

    std::array<Stripe, kStripes> stripes_{};
};

namespace detail {
/// A small per-thread index (assigned round-robin on first use) used to pick a stripe.
std::size_t this_thread_index() noexcept;
}  // namespace detail

template <std::size_t N>
std::size_t StripedCounters<N>::stripe_index() noexcept {
    return detail::this_thread_index() % kStripes;
}

}  // namespace moneta::resilience
