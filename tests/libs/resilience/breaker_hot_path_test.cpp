// The short-circuit path allocates nothing and costs well under a microsecond (§6 scenario 1).
// A counting replacement of the global operator new/delete is installed for this test binary;
// it only counts, so other tests in the binary are unaffected.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>

#include "moneta/core/clock.hpp"
#include "moneta/resilience/circuit_breaker.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;

struct Measurement {
    std::uint64_t allocations;
    double ns_per_op;
};

// Best of a few rounds, so a noisy neighbour on the shared machine does not decide the result.
template <class F>
Measurement measure(F&& op, int iterations) {
    Measurement best{~std::uint64_t{0}, 1e18};
    for (int round = 0; round < 5; ++round) {
        const std::uint64_t before = g_allocations.load();
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; ++i) {
            op();
        }
        const auto elapsed = std::chrono::steady_clock::now() - start;
        const std::uint64_t allocs = g_allocations.load() - before;
        const double ns =
            static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
            iterations;
        best.allocations = std::min(best.allocations, allocs);
        best.ns_per_op = std::min(best.ns_per_op, ns);
        EXPECT_EQ(allocs, 0U) << "round " << round;
    }
    return best;
}

std::unique_ptr<CircuitBreaker> open_breaker(core::Clock& clock, RandomSource& random) {
    CircuitBreakerConfig cfg;
    cfg.consecutive_failures = 1;
    cfg.open_base = 1h;
    cfg.open_max = 2h;
    auto r = CircuitBreaker::create(cfg, clock, random);
    EXPECT_TRUE(r.has_value());
    auto b = std::move(*r);
    b->try_acquire().on_failure(1ms);
    EXPECT_EQ(b->state(), State::kOpen);
    return b;
}

TEST(BreakerHotPathTest, CountingAllocatorSeesAllocations) {
    // Guards the guard: if the replacement were not linked, the zero checks below would be vacuous.
    const std::uint64_t before = g_allocations.load();
    auto p = std::make_unique<int>(7);
    EXPECT_EQ(*p, 7);
    EXPECT_GT(g_allocations.load(), before);
}

TEST(BreakerHotPathTest, ShortCircuitWhileOpenAllocatesNothingAndIsFast) {
    core::FakeClock clock;
    SplitMixRandom random(3);
    auto b = open_breaker(clock, random);
    constexpr int kIterations = 200'000;
    const auto m = measure(
        [&] {
            auto p = b->try_acquire();
            if (p) [[unlikely]] {
                std::abort();
            }
        },
        kIterations
    );
    std::printf("short-circuit (open, FakeClock): %.1f ns/op, %llu allocations\n",
                m.ns_per_op,
                static_cast<unsigned long long>(m.allocations));
    EXPECT_EQ(b->stats().rejected_open, 5U * kIterations);
    // Timing is reported, not asserted (a benchmark, not a timed test): see the printout.
}

TEST(BreakerHotPathTest, ShortCircuitWithTheSystemClockIsFast) {
    SplitMixRandom random(3);
    auto b = open_breaker(core::SystemClock::instance(), random);
    const auto m = measure([&] { (void)b->try_acquire(); }, 200'000);  // asserts zero allocations
    std::printf("short-circuit (open, SystemClock): %.1f ns/op\n", m.ns_per_op);
    // Timing is reported, not asserted (a benchmark, not a timed test): see the printout. Every
    // call was refused by the open state (the real clock is far from the 1 h open wait).
    EXPECT_EQ(b->stats().rejected_open, 5U * 200'000U);
}

TEST(BreakerHotPathTest, ForcedOpenAndHalfOpenFullRejectionsAllocateNothing) {
    core::FakeClock clock;
    SplitMixRandom random(3);
    auto b = open_breaker(clock, random);
    clock.advance(2h);
    auto probe = b->try_acquire();
    ASSERT_TRUE(probe.is_probe());
    const auto half_open = measure([&] { (void)b->try_acquire(); }, 50'000);
    std::printf("short-circuit (half-open full): %.1f ns/op\n", half_open.ns_per_op);
    b->set_mode(Mode::kForcedOpen);
    const auto forced = measure([&] { (void)b->try_acquire(); }, 50'000);
    std::printf("short-circuit (forced open): %.1f ns/op\n", forced.ns_per_op);
    // (reported above, not asserted)
    EXPECT_EQ(b->stats().rejected_forced, 5U * 50'000U);
}

TEST(BreakerHotPathTest, ClosedAcquireAndReportAllocatesNothing) {
    core::FakeClock clock;
    SplitMixRandom random(3);
    CircuitBreakerConfig cfg;
    cfg.failure_rate_threshold = 0.9;
    auto r = CircuitBreaker::create(cfg, clock, random);
    ASSERT_TRUE(r.has_value());
    auto& b = **r;
    int i = 0;
    const auto m = measure(
        [&] {
            auto p = b.try_acquire();
            if (++i % 4 == 0) {
                p.on_failure(2ms);
            } else {
                p.on_success(1ms);
            }
        },
        50'000
    );
    std::printf("closed acquire + report: %.1f ns/op\n", m.ns_per_op);
    EXPECT_EQ(b.state(), State::kClosed);
}

}  // namespace
}  // namespace moneta::resilience
