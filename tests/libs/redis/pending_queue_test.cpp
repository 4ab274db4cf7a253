#include <gtest/gtest.h>

#include "pending_queue.hpp"  // private header of libs/redis

namespace moneta::redis {
namespace {

PendingSlot slot(std::uint32_t remaining) { return PendingSlot{nullptr, remaining, {}}; }

TEST(PendingQueueTest, KeepsFifoOrderAcrossWrapAroundAndGrowth) {
    PendingQueue q;
    std::uint32_t next_in = 1;
    std::uint32_t next_out = 1;
    // Interleave pushes and pops so the ring wraps, then grow it while wrapped.
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 7; ++i) {
            q.push(slot(next_in++));
        }
        for (int i = 0; i < 5; ++i) {
            ASSERT_EQ(q.front().remaining, next_out++);
            q.pop_front();
        }
    }
    EXPECT_EQ(q.size(), 100U);
    while (!q.empty()) {
        ASSERT_EQ(q.front().remaining, next_out++);
        q.pop_front();
    }
    EXPECT_EQ(next_out, next_in);
}

TEST(PendingQueueTest, FindsEntriesBySequenceNumberUntilTheyLeave) {
    PendingQueue q;
    const auto a = q.push(slot(1));
    const auto b = q.push(slot(2));
    ASSERT_NE(q.find(b), nullptr);
    EXPECT_EQ(q.find(b)->remaining, 2U);
    q.pop_front();
    EXPECT_EQ(q.find(a), nullptr);
    EXPECT_NE(q.find(b), nullptr);
    for (int i = 0; i < 200; ++i) {  // forces growth: b must still be found
        q.push(slot(3));
    }
    ASSERT_NE(q.find(b), nullptr);
    EXPECT_EQ(q.find(b)->remaining, 2U);
    q.clear();
    EXPECT_EQ(q.find(b), nullptr);
    const auto c = q.push(slot(4));
    EXPECT_GT(c, b);  // sequence numbers are never reused
    EXPECT_EQ(q.find(b), nullptr);
    EXPECT_EQ(q.find(c)->remaining, 4U);
    EXPECT_EQ(q.find(c + 1), nullptr);
}

}  // namespace
}  // namespace moneta::redis
