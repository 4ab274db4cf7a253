/// @file moneta/core/frame_pool.hpp
/// @brief Per-thread recycling of coroutine frames by size class: what Asio's own frame cache
/// does, at a constant cost per frame instead of one that grows with the requests in flight.
///
/// Why: Asio (1.81) keeps a thread's freed `awaitable` frames in one array of
/// BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE slots and serves a frame from the first slot whose
/// block is big enough, scanning from the start each time; when none fits it frees one block and
/// mallocs. A request is ~6 frames of different sizes deep, so with 64 requests in flight a
/// worker's small frames take the big blocks first-fit and the big frames scan all 256 slots,
/// then malloc: ~6,600 instructions and 0.5-0.8 heap allocations per heartbeat (docs/
/// performance.md, "Ninth round"). Here each size class (64-byte steps) has its own LIFO list:
/// a pop or a push, whatever the concurrency.
///
/// Blocks keep Asio's layout and allocator (boost::asio::aligned_new; chunks of 4 bytes plus one
/// trailing byte at [size] that records the block's chunk count), so a block may be freed by
/// Asio's generic code and vice versa: a translation unit that missed asio_frame_recycling.hpp
/// costs speed, never memory safety.
#pragma once

#include <boost/asio/detail/memory.hpp>

#include <algorithm>
#include <array>
#include <cstddef>

namespace moneta::core::frame_pool {

inline constexpr std::size_t kChunk = 4;           ///< Asio's thread_info_base::chunk_size
inline constexpr std::size_t kMaxChunks = 255;     ///< Asio records a block's chunks in one byte
inline constexpr std::size_t kClassStep = 16;      ///< chunks per size class step (64 bytes)
inline constexpr std::size_t kClasses = 16;        ///< 64 .. 1020 bytes
inline constexpr std::size_t kBudgetBytes = 4u << 20;  ///< cached per thread, at most
inline constexpr std::size_t kAlign = BOOST_ASIO_DEFAULT_ALIGN;

/// Chunks a block of class @p k (1..kClasses) holds.
constexpr std::size_t class_chunks(std::size_t k) noexcept {
    return std::min(k * kClassStep, kMaxChunks);
}
constexpr std::size_t block_bytes(std::size_t chunks) noexcept { return chunks * kChunk + 1; }

namespace detail {

struct Node {
    Node* next;
};

struct Pool {
    Pool() = default;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    // A frame freed later in the thread's exit (a thread_local's coroutine) must not join a list
    // already freed: after this, blocks go straight back to the heap.
    ~Pool() {
        for (Node*& head : heads) {
            while (head != nullptr) {
                Node* next = head->next;
                boost::asio::aligned_delete(head);
                head = next;
            }
        }
        bytes = 0;
        closed = true;
    }
    std::array<Node*, kClasses + 1> heads{};  // [0] unused
    std::size_t bytes = 0;
    bool closed = false;
};

inline Pool& pool() noexcept {
    thread_local Pool p;
    return p;
}

}  // namespace detail

/// A block of at least @p size + 1 bytes aligned to @p align, with its chunk count at [size].
inline void* allocate(std::size_t size, std::size_t align = kAlign) {
    const std::size_t need = (size + kChunk - 1) / kChunk;
    if (need > kMaxChunks || align > kAlign) {
        // Asio does not recycle these either (its header byte cannot say their size).
        auto* mem = static_cast<unsigned char*>(boost::asio::aligned_new(align, block_bytes(need)));
        mem[size] = need <= kMaxChunks ? static_cast<unsigned char>(need) : 0;
        return mem;
    }
    const std::size_t k = std::max<std::size_t>(1, (need + kClassStep - 1) / kClassStep);
    detail::Pool& p = detail::pool();
    void* block = nullptr;
    if (detail::Node* head = p.heads[k]; head != nullptr && !p.closed) {
        p.heads[k] = head->next;
        p.bytes -= block_bytes(class_chunks(k));
        block = head;
    } else {
        block = boost::asio::aligned_new(kAlign, block_bytes(class_chunks(k)));
    }
    static_cast<unsigned char*>(block)[size] = static_cast<unsigned char>(class_chunks(k));
    return block;
}

/// Takes back a block from allocate() (or from Asio's generic allocator) of @p size bytes.
inline void deallocate(void* pointer, std::size_t size) noexcept {
    const std::size_t have = static_cast<const unsigned char*>(pointer)[size];
    // The largest class whose every request this block can serve.
    const std::size_t k = have == kMaxChunks ? kClasses : have / kClassStep;
    detail::Pool& p = detail::pool();
    if (k == 0 || p.closed || p.bytes + block_bytes(class_chunks(k)) > kBudgetBytes) {
        boost::asio::aligned_delete(pointer);
        return;
    }
    auto* node = static_cast<detail::Node*>(pointer);
    node->next = p.heads[k];
    p.heads[k] = node;
    p.bytes += block_bytes(class_chunks(k));
}

/// Bytes this thread keeps for reuse now (≤ kBudgetBytes).
inline std::size_t cached_bytes() noexcept { return detail::pool().bytes; }

}  // namespace moneta::core::frame_pool
