/* The layout of alloc_count's shared counter file (alloc_count.c), read by the bench and tests. */
#ifndef MONETA_BENCH_ALLOC_COUNT_H
#define MONETA_BENCH_ALLOC_COUNT_H

#include <stdint.h>

#define ALLOC_COUNT_FILE_ENV "ALLOC_COUNT_FILE"
#define ALLOC_COUNT_MAGIC 0x32544e434f4c4c41ULL /* "ALLCNT2" + version: per-thread slots */
/* Slots in the file; the last one is shared by every thread beyond the first
 * ALLOC_COUNT_SLOTS - 1 (its tid stays 0). */
#define ALLOC_COUNT_SLOTS 255
/* Where the slots start in the file: the bench reads them with `od -j`. */
#define ALLOC_COUNT_SLOTS_OFFSET 64

/* Each thread counts in a slot of its own (one cache line: with two workers, no line is shared
 * between them, so counting adds no contention to what it measures). A thread's slot names its
 * Linux thread id, which the bench maps to the thread's name (/proc/<pid>/task/<tid>/comm). The
 * process's totals are the sums over the slots. */
#ifdef __cplusplus
#include <atomic>
#include <cstddef>
struct AllocThreadCounters {
    std::atomic<std::uint64_t> tid;
    std::atomic<std::uint64_t> allocations; /* malloc, calloc, realloc, aligned variants */
    std::atomic<std::uint64_t> frees;
    std::uint64_t reserved[5];
};
struct AllocCounters {
    std::uint64_t magic;
    std::atomic<std::uint64_t> slots_claimed; /* may pass ALLOC_COUNT_SLOTS: the rest share the last */
    std::uint64_t reserved[6];
    AllocThreadCounters threads[ALLOC_COUNT_SLOTS];
};
static_assert(sizeof(AllocThreadCounters) == 64 && offsetof(AllocCounters, threads) == ALLOC_COUNT_SLOTS_OFFSET);

inline std::uint64_t alloc_count_total(const AllocCounters& c) {
    std::uint64_t n = 0;
    for (const AllocThreadCounters& t : c.threads) n += t.allocations.load(std::memory_order_relaxed);
    return n;
}
inline std::uint64_t alloc_count_total_frees(const AllocCounters& c) {
    std::uint64_t n = 0;
    for (const AllocThreadCounters& t : c.threads) n += t.frees.load(std::memory_order_relaxed);
    return n;
}
#else
#include <stdatomic.h>
#include <stddef.h>
struct AllocThreadCounters {
    _Atomic uint64_t tid;
    _Atomic uint64_t allocations;
    _Atomic uint64_t frees;
    uint64_t reserved[5];
};
struct AllocCounters {
    uint64_t magic;
    _Atomic uint64_t slots_claimed;
    uint64_t reserved[6];
    struct AllocThreadCounters threads[ALLOC_COUNT_SLOTS];
};
_Static_assert(sizeof(struct AllocThreadCounters) == 64, "one cache line per thread");
_Static_assert(offsetof(struct AllocCounters, threads) == ALLOC_COUNT_SLOTS_OFFSET, "slots where the bench reads them");
#endif

#endif
