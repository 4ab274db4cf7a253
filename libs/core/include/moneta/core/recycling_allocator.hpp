/// @file moneta/core/recycling_allocator.hpp
/// @brief A std allocator for short-lived small vectors (a pipeline's replies): freed blocks of
/// up to kSlots elements are kept in a per-thread free list and handed out again, so a vector
/// made and dropped per request allocates nothing in steady state.
///
/// Why not std::allocator: a worker holds one such vector per request in flight (64+), each made
/// and freed once per request; that was one malloc/free pair per Redis pipeline. Why not
/// Boost.Pool: its pools are process-wide singletons (a mutex, or unsafe across threads).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <new>

namespace moneta::core {

/// Every allocation of at most @p kSlots elements gets a block of exactly kSlots elements, so
/// any such block serves any such request; larger ones go to std::allocator. A thread keeps at
/// most @p kKeep blocks (kKeep * kSlots * sizeof(T) bytes); a block freed on another thread than
/// the one that allocated it simply joins that thread's list.
/// @par Thread safety
/// Stateless: any instance on any thread; each thread's free list is its own.
template <typename T, std::size_t kSlots = 16, std::size_t kKeep = 256>
class RecyclingAllocator {
public:
    using value_type = T;
    template <typename U>
    struct rebind {
        using other = RecyclingAllocator<U, kSlots, kKeep>;
    };

    RecyclingAllocator() noexcept = default;
    template <typename U>
    RecyclingAllocator(const RecyclingAllocator<U, kSlots, kKeep>& /*other*/) noexcept {}

    T* allocate(std::size_t n) {
        if (n > kSlots) {
            return std::allocator<T>{}.allocate(n);
        }
        FreeList& list = free_list();
        if (list.count != 0 && !list.closed) {
            return static_cast<T*>(list.blocks[--list.count]);
        }
        return static_cast<T*>(::operator new(kBlockBytes));
    }

    void deallocate(T* p, std::size_t n) noexcept {
        if (n > kSlots) {
            std::allocator<T>{}.deallocate(p, n);
            return;
        }
        FreeList& list = free_list();
        if (list.closed || list.count == kKeep) {
            ::operator delete(p);
            return;
        }
        list.blocks[list.count++] = p;
    }

    template <typename U>
    bool operator==(const RecyclingAllocator<U, kSlots, kKeep>& /*other*/) const noexcept {
        return true;
    }

    /// Blocks this thread keeps for reuse now (≤ kKeep).
    static std::size_t cached_blocks() noexcept { return free_list().count; }

private:
    static constexpr std::size_t kBlockBytes = kSlots * sizeof(T);

    struct FreeList {
        FreeList() = default;
        FreeList(const FreeList&) = delete;
        FreeList& operator=(const FreeList&) = delete;
        // A vector destroyed later in the thread's exit (a thread_local one) must not be handed
        // to a list already freed: after this, blocks go straight back to the heap.
        ~FreeList() {
            for (std::size_t i = 0; i < count; ++i) {
                ::operator delete(blocks[i]);
            }
            count = 0;
            closed = true;
        }
        std::array<void*, kKeep> blocks{};
        std::size_t count = 0;
        bool closed = false;
    };

    static FreeList& free_list() noexcept {
        thread_local FreeList list;
        return list;
    }
};

}  // namespace moneta::core
