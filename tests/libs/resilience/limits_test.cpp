// Bulkhead: resilience.md §6 scenarios 2 (black hole, abandoned work bounded), 8 (saturation),
// 10 (caller deadline), permit move semantics and a multi-threaded hammer with exact counts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/resilience/bulkhead.hpp"

namespace moneta::resilience {
namespace {

using namespace std::chrono_literals;
using core::Errc;

// Records what a waiter callback received.
struct Outcome {
    std::optional<Permit> permit;
    std::optional<boost::system::error_code> error;
    int calls = 0;
};

WaiterCallback record_into(Outcome& out) {
    return [&out](core::Result<Permit> r) {
        ++out.calls;
        if (r) {
            out.permit.emplace(std::move(*r));
        } else {
            out.error = r.error();
        }
    };
}

TEST(BulkheadTest, PermitIsMoveOnlyAndCannotBeReleasedTwice) {
    static_assert(!std::is_copy_constructible_v<Permit>);
    static_assert(!std::is_copy_assignable_v<Permit>);
    static_assert(std::is_nothrow_move_constructible_v<Permit>);
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 2, .max_waiters = 0, .max_abandoned = 1});

    auto a = bh.try_acquire();
    ASSERT_TRUE(a);
    Permit moved = std::move(*a);
    EXPECT_FALSE(a->held());
    EXPECT_TRUE(moved.held());
    a->release();  // moved-from: no-op
    EXPECT_EQ(bh.stats().active, 1U);

    moved.release();
    moved.release();  // second release: no-op, no underflow
    EXPECT_EQ(bh.stats().active, 0U);
    EXPECT_FALSE(moved.abandon());

    // Move-assigning over a held permit releases the old slot exactly once.
    auto b = bh.try_acquire();
    auto c = bh.try_acquire();
    ASSERT_TRUE(b && c);
    EXPECT_EQ(bh.stats().active, 2U);
    *b = std::move(*c);
    EXPECT_EQ(bh.stats().active, 1U);
}

TEST(BulkheadTest, SaturationRejectsFastWithOverloaded) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 2, .max_waiters = 0, .max_abandoned = 0});
    auto p1 = bh.try_acquire();
    auto p2 = bh.try_acquire();
    ASSERT_TRUE(p1 && p2);
    auto p3 = bh.try_acquire();
    ASSERT_FALSE(p3);
    EXPECT_EQ(p3.error(), core::make_error(Errc::kOverloaded));
    // No queue configured: enqueue is rejected too, and its callback never runs.
    Outcome out;
    auto t = bh.enqueue(clock.steady_now() + 1s, record_into(out));
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), core::make_error(Errc::kOverloaded));
    EXPECT_EQ(out.calls, 0);
    EXPECT_EQ(bh.stats().rejected_total, 2U);

    p1->release();
    EXPECT_TRUE(bh.try_acquire());
    EXPECT_EQ(bh.stats().admitted_total, 3U);
}

TEST(BulkheadTest, BlackHoleInFlightNeverExceedsActivePlusAbandonedBudget) {
    // Every call times out and keeps running (nothing ever completes). hystrix-go would return
    // the ticket and admit without bound; we must cap real in-flight work at 2 + 3.
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 2, .max_waiters = 0, .max_abandoned = 3});
    std::vector<Permit> running;  // the I/O still owns these
    int admitted = 0;
    for (int i = 0; i < 100; ++i) {
        auto p = bh.try_acquire();
        if (p) {
            ++admitted;
            running.push_back(std::move(*p));
        }
        // The caller's timeout fires for every running call: try to abandon it.
        for (Permit& r : running) {
            r.abandon();
        }
        const auto s = bh.stats();
        ASSERT_LE(s.active + s.abandoned, 5U);
        ASSERT_EQ(running.size(), s.active + s.abandoned);
    }
    // Once three calls are abandoned the budget is full and everything new is shed, so real
    // in-flight work stays at 3 even though the active slots look free.
    const auto s = bh.stats();
    EXPECT_EQ(admitted, 3);
    EXPECT_EQ(s.abandoned, 3U);
    EXPECT_EQ(s.active, 0U);
    EXPECT_EQ(s.rejected_total, 97U);

    // One abandoned call finally completes: the budget has room again, so calls flow.
    running[0].release();
    auto again = bh.try_acquire();
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->abandon());   // and it times out too
    EXPECT_FALSE(bh.try_acquire());
    EXPECT_EQ(bh.stats().abandoned, 3U);
}

TEST(BulkheadTest, AbandonRefusedWhenBudgetFullKeepsTheSlotActive) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 2, .max_waiters = 0, .max_abandoned = 1});
    auto a = bh.try_acquire();
    auto b = bh.try_acquire();
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->abandon());
    EXPECT_FALSE(b->abandon());  // no budget left: b keeps counting as active
    EXPECT_FALSE(b->abandoned());
    auto s = bh.stats();
    EXPECT_EQ(s.active, 1U);
    EXPECT_EQ(s.abandoned, 1U);
    EXPECT_FALSE(bh.try_acquire());
    b->release();
    a->release();
    s = bh.stats();
    EXPECT_EQ(s.active + s.abandoned, 0U);
}

TEST(BulkheadTest, FullAbandonedBudgetShedsNewCallsEvenWithFreeActiveSlots) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 4, .max_waiters = 4, .max_abandoned = 1});
    auto p = bh.try_acquire();
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->abandon());
    EXPECT_TRUE(p->abandoned());
    EXPECT_FALSE(p->abandon());  // already abandoned
    const auto s = bh.stats();
    EXPECT_EQ(s.active, 0U);
    EXPECT_EQ(s.abandoned, 1U);
    EXPECT_EQ(s.abandoned_total, 1U);
    EXPECT_FALSE(bh.try_acquire());
    Outcome out;
    EXPECT_FALSE(bh.enqueue(clock.steady_now() + 1s, record_into(out)));
    // The black-holed I/O ends: the budget frees and calls flow again.
    p->release();
    EXPECT_EQ(bh.stats().abandoned, 0U);
    EXPECT_TRUE(bh.try_acquire());
}

TEST(BulkheadTest, ReleaseHandsTheSlotToTheOldestWaiter) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 1, .max_waiters = 3, .max_abandoned = 0});
    auto holder = bh.try_acquire();
    ASSERT_TRUE(holder);
    Outcome first;
    Outcome second;
    auto t1 = bh.enqueue(clock.steady_now() + 1s, record_into(first));
    auto t2 = bh.enqueue(clock.steady_now() + 1s, record_into(second));
    ASSERT_TRUE(t1 && t2);
    EXPECT_EQ(bh.stats().waiting, 2U);
    // A newcomer may not barge past the queue.
    EXPECT_FALSE(bh.try_acquire());

    holder->release();
    EXPECT_EQ(first.calls, 1);
    ASSERT_TRUE(first.permit && first.permit->held());
    EXPECT_EQ(second.calls, 0);
    EXPECT_FALSE(t1->cancel());  // already granted

    first.permit->release();
    EXPECT_EQ(second.calls, 1);
    ASSERT_TRUE(second.permit);
    EXPECT_EQ(bh.stats().active, 1U);
    EXPECT_EQ(bh.stats().waiting, 0U);
}

TEST(BulkheadTest, AbandonHandsTheActiveSlotToAWaiter) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 1, .max_waiters = 1, .max_abandoned = 2});
    auto holder = bh.try_acquire();
    ASSERT_TRUE(holder);
    Outcome out;
    auto t = bh.enqueue(clock.steady_now() + 1s, record_into(out));
    ASSERT_TRUE(t);
    EXPECT_TRUE(holder->abandon());
    ASSERT_TRUE(out.permit);
    const auto s = bh.stats();
    EXPECT_EQ(s.active, 1U);
    EXPECT_EQ(s.abandoned, 1U);
}

TEST(BulkheadTest, FreeSlotGrantsWaiterImmediately) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 1, .max_waiters = 1, .max_abandoned = 0});
    Outcome out;
    auto t = bh.enqueue(clock.steady_now() + 1s, record_into(out));
    ASSERT_TRUE(t);
    EXPECT_EQ(out.calls, 1);
    EXPECT_TRUE(out.permit);
    EXPECT_EQ(bh.stats().waiting, 0U);
}

TEST(BulkheadTest, WaiterDeadlineExpiresAndTheSlotIsNotLeaked) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 1, .max_waiters = 2, .max_abandoned = 0});
    auto holder = bh.try_acquire();
    ASSERT_TRUE(holder);
    Outcome early;
    Outcome late;
    auto t1 = bh.enqueue(clock.steady_now() + 50ms, record_into(early));
    auto t2 = bh.enqueue(clock.steady_now() + 200ms, record_into(late));
    ASSERT_TRUE(t1 && t2);
    ASSERT_TRUE(bh.next_deadline());
    EXPECT_EQ(*bh.next_deadline(), clock.steady_now() + 50ms);

    clock.advance(49ms);
    EXPECT_EQ(bh.expire(), 0U);
    clock.advance(1ms);
    EXPECT_EQ(bh.expire(), 1U);
    EXPECT_EQ(early.calls, 1);
    ASSERT_TRUE(early.error);
    EXPECT_EQ(*early.error, core::make_error(Errc::kDeadlineExceeded));
    EXPECT_EQ(*bh.next_deadline(), clock.steady_now() + 150ms);

    // The second waiter's deadline passes before anyone calls expire(); a release must not hand
    // the slot to a caller who already gave up.
    clock.advance(150ms);
    holder->release();
    EXPECT_EQ(late.calls, 1);
    EXPECT_FALSE(late.permit);
    ASSERT_TRUE(late.error);
    EXPECT_EQ(*late.error, core::make_error(Errc::kDeadlineExceeded));
    const auto s = bh.stats();
    EXPECT_EQ(s.active, 0U);
    EXPECT_EQ(s.waiting, 0U);
    EXPECT_EQ(s.expired_total, 2U);
    EXPECT_FALSE(bh.next_deadline());
    EXPECT_TRUE(bh.try_acquire());
}

TEST(BulkheadTest, PastDeadlineAndFullQueueAreRejectedWithoutCallback) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 1, .max_waiters = 1, .max_abandoned = 0});
    auto holder = bh.try_acquire();
    Outcome a;
    Outcome b;
    Outcome c;
    auto past = bh.enqueue(clock.steady_now(), record_into(a));
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error(), core::make_error(Errc::kDeadlineExceeded));
    auto queued = bh.enqueue(clock.steady_now() + 1s, record_into(b));
    ASSERT_TRUE(queued);
    auto full = bh.enqueue(clock.steady_now() + 1s, record_into(c));
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error(), core::make_error(Errc::kOverloaded));
    EXPECT_FALSE(bh.enqueue(clock.steady_now() + 1s, WaiterCallback{}));
    EXPECT_EQ(a.calls + b.calls + c.calls, 0);
}

TEST(BulkheadTest, CancelledOrDestroyedTicketIsNeverCalledBack) {
    core::FakeClock clock;
    Bulkhead bh(clock, {.max_active = 1, .max_waiters = 3, .max_abandoned = 0});
    auto holder = bh.try_acquire();
    Outcome cancelled;
    Outcome dropped;
    Outcome kept;
    auto t1 = bh.enqueue(clock.steady_now() + 1s, record_into(cancelled));
    {
        auto t2 = bh.enqueue(clock.steady_now() + 1s, record_into(dropped));
        ASSERT_TRUE(t2);
    }  // destroyed while queued: cancels
    auto t3 = bh.enqueue(clock.steady_now() + 1s, record_into(kept));
    ASSERT_TRUE(t1 && t3);
    EXPECT_TRUE(t1->cancel());
    EXPECT_FALSE(t1->cancel());
    EXPECT_EQ(bh.stats().waiting, 1U);
    holder->release();
    EXPECT_EQ(cancelled.calls, 0);
    EXPECT_EQ(dropped.calls, 0);
    EXPECT_EQ(kept.calls, 1);
    EXPECT_TRUE(kept.permit);
}

TEST(BulkheadTest, MultiThreadedHammerKeepsExactCountsAndTheCap) {
    core::FakeClock clock;
    constexpr std::uint32_t kActive = 3;
    constexpr std::uint32_t kAbandoned = 2;
    Bulkhead bh(clock, {.max_active = kActive, .max_waiters = 8, .max_abandoned = kAbandoned});
    constexpr int kThreads = 4;
    constexpr int kIterations = 20000;
    std::atomic<int> in_flight{0};
    std::atomic<int> max_in_flight{0};
    std::atomic<std::uint64_t> attempts{0};
    std::atomic<std::uint64_t> granted_to_waiters{0};
    std::atomic<std::uint64_t> waiter_callbacks{0};
    std::atomic<std::uint64_t> direct_admitted{0};
    std::atomic<std::uint64_t> rejected_seen{0};

    auto note_start = [&] {
        const int now = in_flight.fetch_add(1) + 1;
        int seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kIterations; ++i) {
                attempts.fetch_add(1);
                if ((i + t) % 5 == 0) {
                    // Waiters: the callback may run on another thread; it finishes the "I/O".
                    auto ticket = bh.enqueue(clock.steady_now() + 1h, [&](core::Result<Permit> r) {
                        waiter_callbacks.fetch_add(1);
                        if (r) {
                            granted_to_waiters.fetch_add(1);
                            note_start();
                            in_flight.fetch_sub(1);
                            r->release();
                        }
                    });
                    if (ticket) {
                        ticket->cancel();  // gives up unless already granted
                    } else {
                        rejected_seen.fetch_add(1);
                    }
                    continue;
                }
                auto p = bh.try_acquire();
                if (!p) {
                    rejected_seen.fetch_add(1);
                    continue;
                }
                direct_admitted.fetch_add(1);
                note_start();
                if (i % 3 == 0) {
                    p->abandon();
                }
                in_flight.fetch_sub(1);
                p->release();
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const auto s = bh.stats();
    EXPECT_EQ(s.active, 0U);
    EXPECT_EQ(s.abandoned, 0U);
    EXPECT_EQ(s.waiting, 0U);
    EXPECT_EQ(in_flight.load(), 0);
    EXPECT_LE(max_in_flight.load(), static_cast<int>(kActive + kAbandoned));
    // The bulkhead's counters match what the callers observed, one for one.
    EXPECT_EQ(s.admitted_total, direct_admitted.load() + granted_to_waiters.load());
    EXPECT_EQ(s.rejected_total, rejected_seen.load());
    EXPECT_EQ(waiter_callbacks.load(), granted_to_waiters.load());
    EXPECT_EQ(s.expired_total, 0U);
    EXPECT_LE(s.admitted_total + s.rejected_total, attempts.load());
    EXPECT_GT(s.admitted_total, 0U);
}

}  // namespace
}  // namespace moneta::resilience
