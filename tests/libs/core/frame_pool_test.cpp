#include "moneta/core/frame_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace moneta::core::frame_pool {
namespace {

namespace asio = boost::asio;
using asio::detail::thread_info_base;

// Each test runs on a thread of its own, so it starts with an empty pool.
template <typename Fn>
void on_fresh_thread(Fn fn) {
    std::thread t(fn);
    t.join();
}

TEST(FramePoolTest, AFreedFrameServesTheNextOfItsSizeClassAndNoLargerOne) {
    on_fresh_thread([] {
        void* a = allocate(100);  // 25 chunks: class 2 (32 chunks, up to 128 bytes)
        std::memset(a, 0xab, 100);  // all a frame may use (ASan checks); [100] is the header byte
        deallocate(a, 100);
        EXPECT_EQ(cached_bytes(), block_bytes(32));
        void* b = allocate(129);  // class 3: not the cached block
        EXPECT_NE(b, a);
        void* c = allocate(128);  // class 2 again: the cached one
        EXPECT_EQ(c, a);
        EXPECT_EQ(cached_bytes(), 0U);
        std::memset(c, 0xcd, 128);
        deallocate(b, 129);
        deallocate(c, 128);
    });
}

TEST(FramePoolTest, TheLargestClassKeepsAsiosOneByteLimitAndBiggerFramesAreNotKept) {
    on_fresh_thread([] {
        void* top = allocate(1020);  // 255 chunks: the largest Asio can record
        std::memset(top, 1, 1020);
        deallocate(top, 1020);
        EXPECT_EQ(cached_bytes(), block_bytes(255));
        EXPECT_EQ(allocate(961), top);  // 241 chunks: the same class
        deallocate(top, 961);
        void* big = allocate(1021);  // 256 chunks: not recyclable
        std::memset(big, 2, 1021);
        deallocate(big, 1021);
        EXPECT_EQ(cached_bytes(), block_bytes(255));
    });
}

TEST(FramePoolTest, OverAlignedFramesAreNotKept) {
    on_fresh_thread([] {
        void* p = allocate(100, 64);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0U);
        deallocate(p, 100);  // its header byte says 25 chunks: kept in the class it can serve
        void* q = allocate(64);
        EXPECT_EQ(q, p);  // serving a default-aligned frame is fine
        deallocate(q, 64);
    });
}

TEST(FramePoolTest, AThreadKeepsAtMostTheBudget) {
    on_fresh_thread([] {
        std::vector<void*> blocks;
        const std::size_t n = kBudgetBytes / block_bytes(255) + 100;
        for (std::size_t i = 0; i < n; ++i) {
            blocks.push_back(allocate(1000));
        }
        for (void* b : blocks) {
            deallocate(b, 1000);
        }
        EXPECT_LE(cached_bytes(), kBudgetBytes);
        EXPECT_GT(cached_bytes(), kBudgetBytes - block_bytes(255));
    });
}

TEST(FramePoolTest, BlocksMoveBetweenThisPoolAndAsiosGenericCache) {
    // A translation unit without the specialization uses Asio's generic code on the same blocks.
    on_fresh_thread([] {
        thread_info_base info;
        void* ours = allocate(200);
        thread_info_base::deallocate(thread_info_base::default_tag(), &info, ours, 200);
        EXPECT_EQ(cached_bytes(), 0U);
        void* again = thread_info_base::allocate(thread_info_base::default_tag(), &info, 200);
        EXPECT_EQ(again, ours);  // Asio read our header byte: the block fits
        std::memset(again, 3, 200);
        deallocate(again, 200);  // and back to the pool
        EXPECT_GT(cached_bytes(), 0U);

        void* theirs = thread_info_base::allocate(thread_info_base::default_tag(), &info, 300);
        std::memset(theirs, 4, 300);
        const std::size_t before = cached_bytes();
        deallocate(theirs, 300);  // 75 chunks: it serves class 4 (64 chunks)
        EXPECT_EQ(cached_bytes(), before + block_bytes(64));
        void* reused = allocate(256);
        EXPECT_EQ(reused, theirs);
        std::memset(reused, 5, 256);
        deallocate(reused, 256);
    });
}

TEST(FramePoolTest, AsioCoroutineFramesComeFromThePool) {
    // Every C++ file sees moneta/core/asio_frame_recycling.hpp (forced by CMake): the frames of
    // this coroutine return to this thread's pool, not to Asio's cache.
    on_fresh_thread([] {
        EXPECT_EQ(cached_bytes(), 0U);
        void* p = thread_info_base::allocate(thread_info_base::awaitable_frame_tag(), nullptr, 150);
        thread_info_base::deallocate(thread_info_base::awaitable_frame_tag(), nullptr, p, 150);
        EXPECT_EQ(cached_bytes(), block_bytes(48));

        asio::io_context io;
        int sum = 0;
        auto leaf = [](int v) -> asio::awaitable<int> { co_return v; };
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 100; ++i) {
                    sum += co_await leaf(i);
                }
            },
            asio::detached);
        io.run();
        EXPECT_EQ(sum, 4950);
        EXPECT_GT(cached_bytes(), block_bytes(48));
    });
}

}  // namespace
}  // namespace moneta::core::frame_pool
