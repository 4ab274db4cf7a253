/// @file moneta/metrics/local.hpp
/// @brief Per-thread metric cells for the request path: each worker owns its own instance and
/// is its only writer; the scrape (another thread) reads them and sums over the workers.
///
/// Why not metrics::Counter: a shared atomic that every worker `fetch_add`s bounces its cache
/// line between cores and costs a locked instruction per bump. A single writer needs neither:
/// `store(load() + 1)` with relaxed order is a plain load and store on x86, and still an atomic
/// access, so a concurrent scrape reads a value that was really there (no data race, no torn
/// read). The catch is the contract: exactly one thread writes a cell at a time.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace moneta::metrics {

/// Monotonic count with one writer thread. Keeps `++stats.foo`, `stats.foo.load()` and
/// `fetch_add` working, so code written for std::atomic compiles unchanged.
class LocalCounter {
public:
    void inc(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    LocalCounter& operator++() noexcept {
        inc();
        return *this;
    }
    void operator++(int) noexcept { inc(); }
    LocalCounter& operator+=(std::uint64_t n) noexcept {
        inc(n);
        return *this;
    }
    std::uint64_t fetch_add(std::uint64_t n, std::memory_order = std::memory_order_relaxed) noexcept {
        const std::uint64_t old = v_.load(std::memory_order_relaxed);
        v_.store(old + n, std::memory_order_relaxed);
        return old;
    }
    std::uint64_t load(std::memory_order = std::memory_order_relaxed) const noexcept {
        return v_.load(std::memory_order_relaxed);
    }
    operator std::uint64_t() const noexcept { return load(); }  // NOLINT: drop-in for atomic

private:
    std::atomic<std::uint64_t> v_{0};
};

/// A value that goes up and down, one writer thread (summed over workers at scrape).
class LocalGauge {
public:
    void add(std::int64_t n) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    LocalGauge& operator++() noexcept {
        add(1);
        return *this;
    }
    LocalGauge& operator--() noexcept {
        add(-1);
        return *this;
    }
    void operator++(int) noexcept { add(1); }
    void operator--(int) noexcept { add(-1); }
    LocalGauge& operator+=(std::int64_t n) noexcept {
        add(n);
        return *this;
    }
    LocalGauge& operator-=(std::int64_t n) noexcept {
        add(-n);
        return *this;
    }
    std::int64_t fetch_add(std::int64_t n, std::memory_order = std::memory_order_relaxed) noexcept {
        const std::int64_t old = v_.load(std::memory_order_relaxed);
        v_.store(old + n, std::memory_order_relaxed);
        return old;
    }
    std::int64_t fetch_sub(std::int64_t n, std::memory_order o = std::memory_order_relaxed) noexcept {
        return fetch_add(-n, o);
    }
    void store(std::int64_t v, std::memory_order = std::memory_order_relaxed) noexcept {
        v_.store(v, std::memory_order_relaxed);
    }
    std::int64_t load(std::memory_order = std::memory_order_relaxed) const noexcept {
        return v_.load(std::memory_order_relaxed);
    }
    operator std::int64_t() const noexcept { return load(); }  // NOLINT: drop-in for atomic

private:
    std::atomic<std::int64_t> v_{0};
};

/// Fixed-bound histogram with one writer thread and no heap: the upper bounds are the static
/// array @p Bounds (ascending), with Bounds.size() + 1 buckets (the last is +Inf) and a sum.
/// observe() is a short scan and two single-writer stores.
template <const auto& Bounds>
class LocalHistogram {
public:
    static constexpr std::size_t kBounds = Bounds.size();

    void observe(double v) noexcept {
        std::size_t i = 0;
        while (i < kBounds && v > Bounds[i]) {
            ++i;
        }
        counts_[i].inc();
        sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
    }
    static constexpr const auto& bounds() noexcept { return Bounds; }
    /// Non-cumulative count of bucket @p i (i == kBounds is +Inf).
    std::uint64_t bucket(std::size_t i) const noexcept { return counts_[i].load(); }
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

private:
    std::array<LocalCounter, kBounds + 1> counts_{};
    std::atomic<double> sum_{0};
};

}  // namespace moneta::metrics
