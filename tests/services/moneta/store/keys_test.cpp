// KeyBuffer: its bytes come from a per-thread pool (so store coroutine frames stay small enough
// for Asio's frame recycling); blocks are reused, never shared by two live buffers.
#include "store/keys.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

namespace moneta::store {
namespace {

TEST(KeyBuffer, ReusesTheBlockOfADestroyedBuffer) {
    const char* first = nullptr;
    {
        KeyBuffer kb;
        first = kb.add("lease:", "a:", "a_1").data();
    }
    const std::size_t pooled = KeyBuffer::pooled_blocks_for_test();
    ASSERT_GE(pooled, 1U);
    KeyBuffer again;
    EXPECT_EQ(again.add("sess:", "a:", "a_2").data(), first);
    EXPECT_EQ(KeyBuffer::pooled_blocks_for_test(), pooled - 1);
}

TEST(KeyBuffer, LiveBuffersNeverShareBytes) {
    KeyBuffer a;
    KeyBuffer b;
    const std::string id(64, 'x');  // the longest valid id
    const std::string_view ka = a.add("prog:", "a:", id, ":", id);
    const std::string_view kb = b.add("cw:", "a:", "a_9");
    EXPECT_EQ(ka, "prog:{a:" + id + "}:" + id);
    EXPECT_EQ(kb, "cw:{a:a_9}");
    EXPECT_TRUE(ka.data() + ka.size() <= kb.data() || kb.data() + kb.size() <= ka.data());
    for (std::size_t i = 1; i < KeyBuffer::kMaxKeys; ++i) {
        a.add("k:", "a:", id, ":", id);  // twelve of the longest keys fit
    }
    EXPECT_EQ(a.size(), KeyBuffer::kMaxKeys);
    EXPECT_EQ(ka, "prog:{a:" + id + "}:" + id);  // the first key is intact
    EXPECT_EQ(kb, "cw:{a:a_9}");
}

TEST(KeyBuffer, EachThreadHasItsOwnPool) {
    { KeyBuffer warm; }
    const std::size_t here = KeyBuffer::pooled_blocks_for_test();
    std::size_t there = 99;
    std::thread t([&] {
        // Made before the thread's pool, so destroyed after it at thread exit: its buffer must
        // then free its block instead of touching the destroyed pool (ASan would see a leak or
        // a bad free otherwise).
        thread_local std::unique_ptr<KeyBuffer> late;
        {
            KeyBuffer kb;
            kb.add("lease:", "a:", "a_1");
        }
        there = KeyBuffer::pooled_blocks_for_test();
        late = std::make_unique<KeyBuffer>();
    });
    t.join();
    EXPECT_EQ(there, 1U);
    EXPECT_EQ(KeyBuffer::pooled_blocks_for_test(), here);
}

}  // namespace
}  // namespace moneta::store
