#include "moneta/resilience/sliding_window.hpp"

#include <algorithm>

#include "moneta/core/assert.hpp"

namespace moneta::resilience {
namespace {

constexpr std::uint8_t kPresent = 1;
constexpr std::uint8_t kFailed = 2;
constexpr std::uint8_t kSlow = 4;

std::uint8_t encode(WindowSample s) noexcept {
    return static_cast<std::uint8_t>(kPresent | (s.failure ? kFailed : 0) | (s.slow ? kSlow : 0));
}

std::int64_t bit(std::uint8_t code, std::uint8_t mask) noexcept {
    return (code & mask) != 0 ? 1 : 0;
}

// A reader racing two writers of the same slot can see a total one step below zero for an
// instant (the later writer subtracted what the earlier one had not added yet); clamp it.
std::uint64_t clamp_total(std::int64_t v) noexcept {
    return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

constexpr unsigned kTagShift = 32;
constexpr std::uint64_t kCountMask = 0xFFFF'FFFFULL;

// Adds one to a tagged counter word for interval @p tag, recycling the word if it still holds
// an older interval. Returns without counting if the word already belongs to a newer interval.
void bump(std::atomic<std::uint64_t>& word, std::uint32_t tag) noexcept {
    std::uint64_t cur = word.load(std::memory_order_relaxed);
    for (;;) {
        const auto cur_tag = static_cast<std::uint32_t>(cur >> kTagShift);
        std::uint64_t next = 0;
        if (cur_tag == tag) {
            next = cur + 1;
        } else if ((cur & kCountMask) == 0 || static_cast<std::int32_t>(tag - cur_tag) > 0) {
            // Empty (fresh or reset) or an older interval: this writer recycles the bucket.
            next = (static_cast<std::uint64_t>(tag) << kTagShift) | 1U;
        } else {
            return;
        }
        if (word.compare_exchange_weak(cur, next, std::memory_order_relaxed)) {
            return;
        }
    }
}

std::uint64_t count_if_recent(const std::atomic<std::uint64_t>& word,
                              std::uint32_t now_tag,
                              std::size_t buckets) noexcept {
    const std::uint64_t v = word.load(std::memory_order_relaxed);
    const auto age = now_tag - static_cast<std::uint32_t>(v >> kTagShift);
    return age < buckets ? (v & kCountMask) : 0;
}

}  // namespace

// --- CountWindow ---------------------------------------------------------------------------

CountWindow::CountWindow(std::size_t size)
    : size_(size), slots_(std::make_unique<std::atomic<std::uint8_t>[]>(size)) {
    MONETA_RELEASE_ASSERT(size > 0, "CountWindow needs at least one slot");
    reset();
}

void CountWindow::record(WindowSample s, core::SteadyTime /*now*/) noexcept {
    const std::uint8_t code = encode(s);
    const std::uint64_t seq = head_.fetch_add(1, std::memory_order_relaxed);
    const std::uint8_t old = slots_[seq % size_].exchange(code, std::memory_order_relaxed);
    calls_.fetch_add(bit(code, kPresent) - bit(old, kPresent), std::memory_order_relaxed);
    if (const std::int64_t d = bit(code, kFailed) - bit(old, kFailed); d != 0) {
        failures_.fetch_add(d, std::memory_order_relaxed);
    }
    if (const std::int64_t d = bit(code, kSlow) - bit(old, kSlow); d != 0) {
        slow_.fetch_add(d, std::memory_order_relaxed);
    }
}

WindowTotals CountWindow::totals(core::SteadyTime /*now*/) const noexcept {
    WindowTotals t;
    t.calls = std::min<std::uint64_t>(clamp_total(calls_.load(std::memory_order_relaxed)), size_);
    t.failures = std::min(clamp_total(failures_.load(std::memory_order_relaxed)), t.calls);
    t.slow = std::min(clamp_total(slow_.load(std::memory_order_relaxed)), t.calls);
    return t;
}

void CountWindow::reset() noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
        slots_[i].store(0, std::memory_order_relaxed);
    }
    head_.store(0, std::memory_order_relaxed);
    calls_.store(0, std::memory_order_relaxed);
    failures_.store(0, std::memory_order_relaxed);
    slow_.store(0, std::memory_order_relaxed);
}

// --- TimeWindow ----------------------------------------------------------------------------

TimeWindow::TimeWindow(core::Duration bucket_width, std::size_t bucket_count)
    : width_(bucket_width), count_(bucket_count), buckets_(std::make_unique<Bucket[]>(bucket_count)) {
    MONETA_RELEASE_ASSERT(bucket_width.count() > 0, "TimeWindow bucket width must be positive");
    MONETA_RELEASE_ASSERT(bucket_count > 0 && bucket_count < (1U << 20), "bad TimeWindow size");
    reset();
}

std::uint32_t TimeWindow::interval_of(core::SteadyTime now) const noexcept {
    // Truncation to 32 bits is intended: tags compare modulo 2^32 (see bump()).
    return static_cast<std::uint32_t>(now.time_since_epoch().count() / width_.count());
}

void TimeWindow::record(WindowSample s, core::SteadyTime now) noexcept {
    const std::uint32_t tag = interval_of(now);
    Bucket& b = buckets_[tag % count_];
    bump(b.calls, tag);
    if (s.failure) {
        bump(b.failures, tag);
    }
    if (s.slow) {
        bump(b.slow, tag);
    }
}

WindowTotals TimeWindow::totals(core::SteadyTime now) const noexcept {
    const std::uint32_t tag = interval_of(now);
    WindowTotals t;
    for (std::size_t i = 0; i < count_; ++i) {
        t.calls += count_if_recent(buckets_[i].calls, tag, count_);
        t.failures += count_if_recent(buckets_[i].failures, tag, count_);
        t.slow += count_if_recent(buckets_[i].slow, tag, count_);
    }
    // A reader between a writer's calls and failures bumps could see failures > calls.
    t.failures = std::min(t.failures, t.calls);
    t.slow = std::min(t.slow, t.calls);
    return t;
}

void TimeWindow::reset() noexcept {
    // Tag 0 with count 0 contributes nothing whatever its apparent age.
    for (std::size_t i = 0; i < count_; ++i) {
        buckets_[i].calls.store(0, std::memory_order_relaxed);
        buckets_[i].failures.store(0, std::memory_order_relaxed);
        buckets_[i].slow.store(0, std::memory_order_relaxed);
    }
}

// --- StripedCounters -----------------------------------------------------------------------

namespace detail {

std::size_t this_thread_index() noexcept {
    // Process-wide only to hand out distinct small indices; it carries no other state.
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t index = next.fetch_add(1, std::memory_order_relaxed);
    return index;
}

}  // namespace detail

}  // namespace moneta::resilience
