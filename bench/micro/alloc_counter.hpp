#pragma once

// Counts heap allocations of the whole process by interposing malloc, calloc and realloc
// (glibc's __libc_* do the work): operator new, hiredis's mallocs and sds growth are all seen.
// Include in exactly one translation unit of a bench binary; not for sanitizer builds (they
// interpose malloc themselves).

#include <atomic>
#include <cstddef>
#include <cstdint>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
}

namespace moneta::bench {
inline std::atomic<std::uint64_t> g_allocations{0};
inline std::uint64_t allocations() noexcept { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace moneta::bench

extern "C" {
void* malloc(std::size_t n) {
    moneta::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
    moneta::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
    moneta::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
}
