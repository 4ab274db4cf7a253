/* The layout of alloc_count's shared counter file (alloc_count.c), read by the bench and tests. */
#ifndef MONETA_BENCH_ALLOC_COUNT_H
#define MONETA_BENCH_ALLOC_COUNT_H

#include <stdint.h>

#define ALLOC_COUNT_FILE_ENV "ALLOC_COUNT_FILE"
#define ALLOC_COUNT_MAGIC 0x544e434f4c4c41ULL /* "ALLOCNT" */

#ifdef __cplusplus
#include <atomic>
struct AllocCounters {
    std::uint64_t magic;
    std::atomic<std::uint64_t> allocations; /* malloc, calloc, realloc, aligned variants */
    std::atomic<std::uint64_t> frees;
};
#else
#include <stdatomic.h>
struct AllocCounters {
    uint64_t magic;
    _Atomic uint64_t allocations;
    _Atomic uint64_t frees;
};
#endif

#endif
