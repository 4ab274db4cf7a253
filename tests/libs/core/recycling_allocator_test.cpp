#include "moneta/core/recycling_allocator.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace moneta::core {
namespace {

// Each test uses its own element type, so each has its own per-thread free list.
template <int kTag>
struct Item {
    long value = kTag;
};

TEST(RecyclingAllocatorTest, AFreedSmallBlockIsHandedOutAgainForAnySmallSize) {
    using Vec = std::vector<Item<1>, RecyclingAllocator<Item<1>, 16, 4>>;
    const Item<1>* first = nullptr;
    {
        Vec v(3);
        first = v.data();
    }
    EXPECT_EQ((RecyclingAllocator<Item<1>, 16, 4>::cached_blocks()), 1U);
    Vec again(16);  // any size up to kSlots takes the same block
    EXPECT_EQ(again.data(), first);
    EXPECT_EQ((RecyclingAllocator<Item<1>, 16, 4>::cached_blocks()), 0U);
    EXPECT_EQ(again[15].value, 1);
}

TEST(RecyclingAllocatorTest, LargerVectorsAreNotKept) {
    using Alloc = RecyclingAllocator<Item<2>, 16, 4>;
    {
        std::vector<Item<2>, Alloc> v(17);
        v.push_back({});
    }
    EXPECT_EQ(Alloc::cached_blocks(), 0U);
}

TEST(RecyclingAllocatorTest, AThreadKeepsAtMostKKeepBlocks) {
    using Alloc = RecyclingAllocator<Item<3>, 8, 2>;
    {
        std::vector<Item<3>, Alloc> a(1);
        std::vector<Item<3>, Alloc> b(2);
        std::vector<Item<3>, Alloc> c(8);
    }
    EXPECT_EQ(Alloc::cached_blocks(), 2U);
}

TEST(RecyclingAllocatorTest, GrowingPastASmallBlockGivesTheBlockBack) {
    using Alloc = RecyclingAllocator<Item<4>, 4, 4>;
    std::vector<Item<4>, Alloc> v;
    for (int i = 0; i < 4; ++i) {
        v.push_back({});
    }
    const std::size_t kept_while_small = Alloc::cached_blocks();  // 1 → 2 → 4 reuse one block
    v.push_back({});                                              // 8 > kSlots: std::allocator
    EXPECT_EQ(Alloc::cached_blocks(), kept_while_small + 1);
    EXPECT_EQ(v.size(), 5U);
}

TEST(RecyclingAllocatorTest, ABlockFreedOnAnotherThreadJoinsThatThreadsList) {
    using Alloc = RecyclingAllocator<Item<5>, 16, 4>;
    auto* made_here = new std::vector<Item<5>, Alloc>(2);
    const Item<5>* block = made_here->data();
    std::size_t kept_there = 0;
    const Item<5>* reused_there = nullptr;
    std::thread t([&] {
        delete made_here;
        kept_there = Alloc::cached_blocks();
        std::vector<Item<5>, Alloc> v(1);
        reused_there = v.data();
    });
    t.join();
    EXPECT_EQ(kept_there, 1U);
    EXPECT_EQ(reused_there, block);
    EXPECT_EQ(Alloc::cached_blocks(), 0U);  // this thread's list never saw it
}

}  // namespace
}  // namespace moneta::core
