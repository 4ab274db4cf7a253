#include "progress/share_out.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace moneta::progress {
namespace {

constexpr int kN = store::kPartitions;

TEST(ShareOutTest, ARoomOfManyPartitionsGivesEveryOneItsShareAndTheRestFromFirstOn) {
    ShareOut s;
    s.plan(2 * kN + 3, 10);
    ASSERT_EQ(s.partitions().size(), static_cast<std::size_t>(kN));
    EXPECT_EQ(std::accumulate(s.shares().begin(), s.shares().end(), std::size_t{0}), 2U * kN + 3);
    // Partitions 10, 11 and 12 get the three extra.
    EXPECT_EQ(s.shares()[9], 2U);
    EXPECT_EQ(s.shares()[10], 3U);
    EXPECT_EQ(s.shares()[12], 3U);
    EXPECT_EQ(s.shares()[13], 2U);
}

TEST(ShareOutTest, ASmallRoomGoesToThePartitionsFromFirstOnWrapping) {
    ShareOut s;
    s.plan(3, kN - 2);
    EXPECT_EQ(s.partitions(), (std::vector<int>{0, kN - 2, kN - 1}));  // in partition order
    EXPECT_EQ(s.shares(), (std::vector<std::size_t>{1, 1, 1}));
    // Nothing came back full: the turn moves on by the room.
    EXPECT_EQ(s.next_first(), 1);
}

TEST(ShareOutTest, TheFirstFullPartitionInTurnOrderKeepsTheHeadOfTheLine) {
    ShareOut s;
    s.plan(4, kN - 2);  // kN-2, kN-1, 0, 1 in turn order
    ASSERT_EQ(s.partitions(), (std::vector<int>{0, 1, kN - 2, kN - 1}));
    s.set_full(0);  // partition 0
    s.set_full(1);  // partition 1
    EXPECT_EQ(s.next_first(), 0);  // 0 comes before 1 from kN-2 on
    s.set_full(3);  // partition kN-1
    EXPECT_EQ(s.next_first(), kN - 1);
}

TEST(ShareOutTest, PlanningAgainForgetsTheLastShareOut) {
    ShareOut s;
    s.plan(2, 0);
    s.set_full(0);
    EXPECT_EQ(s.next_first(), 0);
    s.plan(1, 5);
    EXPECT_EQ(s.partitions(), (std::vector<int>{5}));
    EXPECT_EQ(s.next_first(), 6);  // the old "full" mark is gone
    s.plan(0, 5);
    EXPECT_TRUE(s.partitions().empty());
    EXPECT_EQ(s.next_first(), 5);
}

}  // namespace
}  // namespace moneta::progress
