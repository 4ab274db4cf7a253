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

#include "moneta/core/hex.hpp"

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

/// The latest exemplar of one histogram bucket (a sampled request's trace id, the observed value
/// and when), with one writer thread and readers on any thread.
///
/// A seqlock without a lock: the writer makes the sequence odd, stores the fields, makes it even
/// again. Every field is an atomic (relaxed), so a concurrent read is never a data race; the
/// reader copies the fields between two loads of the sequence and keeps the copy only when
/// both loads saw the same even value, so it never returns a trace id of one request with the
/// value or timestamp of another. A reader that keeps losing (the writer recording in a tight
/// loop) gives up after a few tries and reports no exemplar: harmless, the next scrape gets one.
/// The writer never waits. record() is ~6 relaxed stores and two fences: no allocation.
class ExemplarCell {
public:
    /// @param trace_id the 16 bytes of a W3C trace id; @param wall_seconds seconds since the epoch.
    void record(const std::array<std::uint8_t, 16>& trace_id, double value, double wall_seconds) noexcept {
        const std::uint64_t seq = seq_.load(std::memory_order_relaxed);
        seq_.store(seq + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        std::uint64_t hi = 0;
        std::uint64_t lo = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            hi = (hi << 8) | trace_id[i];
            lo = (lo << 8) | trace_id[8 + i];
        }
        hi_.store(hi, std::memory_order_relaxed);
        lo_.store(lo, std::memory_order_relaxed);
        value_.store(value, std::memory_order_relaxed);
        when_.store(wall_seconds, std::memory_order_relaxed);
        seq_.store(seq + 2, std::memory_order_release);
    }

    struct Snapshot {
        bool present = false;
        std::uint64_t hi = 0;  ///< trace id bytes 0..7, big-endian
        std::uint64_t lo = 0;  ///< trace id bytes 8..15
        double value = 0;
        double wall_seconds = 0;
    };

    /// A consistent copy of the last record(), or present == false (none yet, or the writer kept
    /// writing during every try).
    Snapshot read() const noexcept {
        for (int attempt = 0; attempt < 4; ++attempt) {
            const std::uint64_t before = seq_.load(std::memory_order_acquire);
            if (before == 0) {
                return {};
            }
            if ((before & 1U) != 0) {
                continue;
            }
            Snapshot s{true, hi_.load(std::memory_order_relaxed), lo_.load(std::memory_order_relaxed),
                       value_.load(std::memory_order_relaxed), when_.load(std::memory_order_relaxed)};
            std::atomic_thread_fence(std::memory_order_acquire);
            if (seq_.load(std::memory_order_relaxed) == before) {
                return s;
            }
        }
        return {};
    }

private:
    std::atomic<std::uint64_t> seq_{0};  ///< even: stable; odd: being written; 0: never written
    std::atomic<std::uint64_t> hi_{0};
    std::atomic<std::uint64_t> lo_{0};
    std::atomic<double> value_{0};
    std::atomic<double> when_{0};
};

/// A LocalHistogram with an ExemplarCell per bucket: observe() as before; observe(v, trace, wall)
/// also records the exemplar of v's bucket (callers do it for sampled requests only).
template <const auto& Bounds>
class LocalExemplarHistogram {
public:
    static constexpr std::size_t kBounds = Bounds.size();

    static constexpr std::size_t bucket_of(double v) noexcept {
        std::size_t i = 0;
        while (i < kBounds && v > Bounds[i]) {
            ++i;
        }
        return i;
    }
    void observe(double v) noexcept { add(bucket_of(v), v); }
    void observe(double v, const std::array<std::uint8_t, 16>& trace_id, double wall_seconds) noexcept {
        const std::size_t i = bucket_of(v);
        add(i, v);
        exemplars_[i].record(trace_id, v, wall_seconds);
    }
    static constexpr const auto& bounds() noexcept { return Bounds; }
    std::uint64_t bucket(std::size_t i) const noexcept { return counts_[i].load(); }
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
    const ExemplarCell& exemplar(std::size_t i) const noexcept { return exemplars_[i]; }

private:
    void add(std::size_t i, double v) noexcept {
        counts_[i].inc();
        sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
    }

    std::array<LocalCounter, kBounds + 1> counts_{};
    std::atomic<double> sum_{0};
    std::array<ExemplarCell, kBounds + 1> exemplars_{};
};

/// Fills @p out (an Exemplar of registry.hpp) from @p s when @p s is newer than what @p out
/// holds: how per-worker exemplars are merged at scrape (the most recent one wins).
template <class ExemplarT>
void merge_exemplar(ExemplarT& out, const ExemplarCell::Snapshot& s) noexcept {
    if (!s.present || (out.present && out.timestamp >= s.wall_seconds)) {
        return;
    }
    core::write_hex(s.hi, out.trace_id.data());
    core::write_hex(s.lo, out.trace_id.data() + 16);
    out.present = true;
    out.value = s.value;
    out.timestamp = s.wall_seconds;
}

}  // namespace moneta::metrics
