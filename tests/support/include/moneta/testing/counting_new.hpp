/// @file moneta/testing/counting_new.hpp
/// @brief A counting replacement of the global operator new/delete, for tests that assert how
/// many heap allocations a path makes. Include it in exactly ONE source file of a test binary:
/// it defines the replaceable operators. A thread sets count_allocations while the code under
/// test runs; allocation_count sums what such threads allocated.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace moneta::testing {

/// Set on a thread: its allocations are added to allocation_count.
inline thread_local bool count_allocations = false;
inline std::atomic<std::uint64_t> allocation_count{0};

namespace counting_new_detail {
inline void* allocate(std::size_t n, std::size_t align = 0) {
    if (count_allocations) {
        allocation_count.fetch_add(1, std::memory_order_relaxed);
    }
    n = n == 0 ? 1 : n;
    return align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                             : std::malloc(n);
}
}  // namespace counting_new_detail

}  // namespace moneta::testing

// Every replaceable form, so allocation and release always pair up (ASan checks the pairing).
// Optimised builds inline these replacements into their callers, and GCC 12 then sees
// free() on a pointer from operator new and warns (-Wmismatched-new-delete, an error under
// -Werror): a false positive for replaced operators, where new is malloc by construction.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    if (void* p = moneta::testing::counting_new_detail::allocate(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = moneta::testing::counting_new_detail::allocate(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return moneta::testing::counting_new_detail::allocate(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return moneta::testing::counting_new_detail::allocate(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
    if (void* p = moneta::testing::counting_new_detail::allocate(n, static_cast<std::size_t>(a))) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
    if (void* p = moneta::testing::counting_new_detail::allocate(n, static_cast<std::size_t>(a))) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
