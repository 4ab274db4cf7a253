// Fallbacks: resilience.md §6 scenario 8 (bulkhead saturation leads to the fallback; fallback
// saturation leads to a fast error) and scenario 9 (a fallback that fails yields a composite error
// carrying both causes, through one error_code). moneta composes them the same way in
// store::ProgressStore::async_fallback (tested against a real Redis in progress_store_redis_test).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <type_traits>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/core/error.hpp"
#include "moneta/resilience/bulkhead.hpp"
#include "moneta/resilience/fallback.hpp"

namespace moneta::resilience {
namespace {

using core::Errc;

static_assert(!std::is_copy_constructible_v<FallbackPermit>);
static_assert(std::is_nothrow_move_constructible_v<FallbackPermit>);

TEST(FallbackGateTest, AdmitsUpToTheCapThenFailsFastAndFreesOnRelease) {
    FallbackGate gate(2);
    auto a = gate.try_enter();
    auto b = gate.try_enter();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(gate.active(), 2U);
    auto c = gate.try_enter();
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), Errc::kOverloaded);
    a->release();
    a->release();  // a released permit is empty: releasing again is a no-op
    EXPECT_EQ(gate.active(), 1U);
    FallbackPermit moved = std::move(*b);
    EXPECT_FALSE(b->held());
    EXPECT_TRUE(moved.held());
    {
        auto d = gate.try_enter();
        ASSERT_TRUE(d);
        EXPECT_EQ(gate.active(), 2U);
    }  // destruction releases
    EXPECT_EQ(gate.active(), 1U);
    EXPECT_EQ(gate.entered_total(), 3U);
    EXPECT_EQ(gate.rejected_total(), 1U);
}

TEST(FallbackGateTest, ZeroDisablesFallbacks) {
    FallbackGate gate(0);
    EXPECT_FALSE(gate.try_enter());
    EXPECT_EQ(gate.rejected_total(), 1U);
}

TEST(FallbackGateTest, TheCapIsExactUnderConcurrency) {
    FallbackGate gate(5);
    std::atomic<std::uint32_t> inside{0};
    std::atomic<std::uint32_t> max_seen{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5000; ++i) {
                auto p = gate.try_enter();
                if (!p) {
                    continue;
                }
                const auto now = inside.fetch_add(1) + 1;
                auto seen = max_seen.load();
                while (now > seen && !max_seen.compare_exchange_weak(seen, now)) {
                }
                inside.fetch_sub(1);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_LE(max_seen.load(), 5U);
    EXPECT_EQ(gate.active(), 0U);
    EXPECT_EQ(gate.entered_total() + gate.rejected_total(), 8U * 5000U);
}

// Scenario 8: the primary's bulkhead (2 slots) is full, so calls take the fallback; the fallback
// gate (1 slot) is full too, so the next call fails at once with both causes, without waiting.
TEST(FallbackScenarioTest, BulkheadSaturationLeadsToFallbackAndFallbackSaturationToAFastError) {
    core::FakeClock clock;
    Bulkhead bulkhead(clock, BulkheadConfig{2, 0, 0});
    FallbackGate gate(1);
    auto p1 = bulkhead.try_acquire();
    auto p2 = bulkhead.try_acquire();
    ASSERT_TRUE(p1 && p2);

    auto primary = bulkhead.try_acquire();
    ASSERT_FALSE(primary);
    auto fallback = gate.try_enter();
    ASSERT_TRUE(fallback) << "a saturated primary must be served by the fallback";

    auto primary2 = bulkhead.try_acquire();
    ASSERT_FALSE(primary2);
    auto fallback2 = gate.try_enter();
    ASSERT_FALSE(fallback2);
    const auto ec = make_composite_error(primary2.error(), fallback2.error());
    const auto both = as_composite(ec);
    ASSERT_TRUE(both);
    EXPECT_EQ(both->primary, Errc::kOverloaded);
    EXPECT_EQ(both->fallback, Errc::kOverloaded);
    EXPECT_EQ(bulkhead.stats().rejected_total, 2U);
    EXPECT_EQ(gate.rejected_total(), 1U);
}

// Scenario 9: the fallback fails; the caller gets one error_code that carries both causes and
// maps to the fallback's (the last thing tried).
TEST(FallbackScenarioTest, AFailingFallbackYieldsACompositeError) {
    const boost::system::error_code primary = Errc::kUnavailable;  // Redis breaker open
    const boost::system::error_code fallback = Errc::kTimeout;     // the internal API timed out
    const auto ec = make_composite_error(primary, fallback);
    ASSERT_TRUE(ec.failed());
    const auto both = as_composite(ec);
    ASSERT_TRUE(both);
    EXPECT_EQ(both->primary, Errc::kUnavailable);
    EXPECT_EQ(both->fallback, Errc::kTimeout);
    EXPECT_EQ(ec.message(), "primary=unavailable; fallback=timeout");
    EXPECT_EQ(both->describe(), "primary=unavailable; fallback=timeout");
    EXPECT_EQ(effective_error(ec), Errc::kTimeout);
    // Not a composite: passes through unchanged.
    EXPECT_FALSE(as_composite(primary));
    EXPECT_EQ(effective_error(primary), Errc::kUnavailable);
    // A foreign error code is kept as "internal", never as a success.
    const auto foreign = make_composite_error(primary, boost::system::errc::make_error_code(boost::system::errc::io_error));
    EXPECT_EQ(as_composite(foreign)->fallback, Errc::kInternal);
    // Two "successes" still make an error (never a silent OK).
    EXPECT_TRUE(make_composite_error({}, {}).failed());
}

}  // namespace
}  // namespace moneta::resilience
