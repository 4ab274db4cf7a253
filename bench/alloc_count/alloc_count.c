/* alloc_count: an LD_PRELOAD shim that counts heap allocations of the process it is loaded into,
 * for ./dev bench (docs/performance.md "Allocations"). It wraps malloc, calloc, realloc,
 * aligned_alloc, posix_memalign, memalign, valloc and pvalloc (libstdc++'s operator new calls
 * malloc, so C++ allocations are counted too) and adds one to a counter kept in a small
 * shared-memory file: the bench reads the file at any moment, without signals or a pipe.
 *
 *   ALLOC_COUNT_FILE=/tmp/x.counter LD_PRELOAD=libmoneta_alloc_count.so moneta ...
 *
 * The file holds struct AllocCounters (alloc_count.h; little-endian u64s): a slot of counters per
 * thread, named by its thread id, so the bench can tell the request threads' allocations from
 * the background threads'. It is written in C on purpose:
 * nothing here may allocate or throw, and the functions must be safe to call from any thread,
 * before main and during dlsym's own bootstrap. Without ALLOC_COUNT_FILE the shim still counts,
 * in process memory only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc_count.h"

typedef void* (*MallocFn)(size_t);
typedef void* (*CallocFn)(size_t, size_t);
typedef void* (*ReallocFn)(void*, size_t);
typedef void (*FreeFn)(void*);
typedef void* (*AlignedAllocFn)(size_t, size_t);
typedef int (*PosixMemalignFn)(void**, size_t, size_t);
typedef void* (*VallocFn)(size_t);

static MallocFn real_malloc;
static CallocFn real_calloc;
static ReallocFn real_realloc;
static FreeFn real_free;
static AlignedAllocFn real_aligned_alloc;
static PosixMemalignFn real_posix_memalign;
static AlignedAllocFn real_memalign;
static VallocFn real_valloc;
static VallocFn real_pvalloc;

/* Until the file is mapped, the counters live here; afterwards `counters` points into the file. */
static struct AllocCounters local_counters;
static struct AllocCounters* _Atomic counters = &local_counters;

/* dlsym itself may call calloc/malloc before the real ones are known: those few requests are
 * served from this buffer (bump allocation, never freed) and not counted. */
static _Alignas(64) char bootstrap_buffer[64 * 1024];
static atomic_size_t bootstrap_used;
static atomic_int resolving;

static int from_bootstrap(const void* p) {
    return (const char*)p >= bootstrap_buffer && (const char*)p < bootstrap_buffer + sizeof bootstrap_buffer;
}

static void* bootstrap_alloc(size_t size, size_t align) {
    if (align < 16) align = 16;
    size_t used = atomic_load(&bootstrap_used);
    for (;;) {
        size_t start = (used + align - 1) & ~(align - 1);
        if (start + size > sizeof bootstrap_buffer || start + size < start) return NULL;
        if (atomic_compare_exchange_weak(&bootstrap_used, &used, start + size)) {
            return bootstrap_buffer + start;
        }
    }
}

static void resolve(void) {
    if (real_free != NULL) return;
    atomic_store(&resolving, 1);
    real_malloc = (MallocFn)dlsym(RTLD_NEXT, "malloc");
    real_calloc = (CallocFn)dlsym(RTLD_NEXT, "calloc");
    real_realloc = (ReallocFn)dlsym(RTLD_NEXT, "realloc");
    real_aligned_alloc = (AlignedAllocFn)dlsym(RTLD_NEXT, "aligned_alloc");
    real_posix_memalign = (PosixMemalignFn)dlsym(RTLD_NEXT, "posix_memalign");
    real_memalign = (AlignedAllocFn)dlsym(RTLD_NEXT, "memalign");
    real_valloc = (VallocFn)dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = (VallocFn)dlsym(RTLD_NEXT, "pvalloc");
    real_free = (FreeFn)dlsym(RTLD_NEXT, "free");
    atomic_store(&resolving, 0);
}

/* This thread's slot + 1 (0: none claimed yet). Initial-exec TLS (CMakeLists): the shim is
 * preloaded, so its TLS is static and reading it never calls back into malloc. */
static __thread unsigned slot_plus_one;

/* The calling thread's counters: its own slot, claimed at its first call (one atomic add and a
 * gettid), or the shared last slot once ALLOC_COUNT_SLOTS - 1 threads have one. */
static struct AllocThreadCounters* thread_counters(void) {
    struct AllocCounters* c = atomic_load_explicit(&counters, memory_order_relaxed);
    unsigned s = slot_plus_one;
    if (s == 0) {
        uint64_t index = atomic_fetch_add_explicit(&c->slots_claimed, 1, memory_order_relaxed);
        if (index >= ALLOC_COUNT_SLOTS - 1) {
            index = ALLOC_COUNT_SLOTS - 1;
        } else {
            atomic_store_explicit(&c->threads[index].tid, (uint64_t)syscall(SYS_gettid), memory_order_relaxed);
        }
        s = (unsigned)index + 1;
        slot_plus_one = s;
    }
    return &c->threads[s - 1];
}

/* Relaxed: the bench reads deltas over seconds; no ordering with other memory is needed. Each
 * slot is written by its own thread only (but the shared last one), so the add is uncontended. */
static void count(void) {
    atomic_fetch_add_explicit(&thread_counters()->allocations, 1, memory_order_relaxed);
}

static void count_free(void) {
    atomic_fetch_add_explicit(&thread_counters()->frees, 1, memory_order_relaxed);
}

__attribute__((constructor)) static void alloc_count_init(void) {
    resolve();
    const char* path = getenv(ALLOC_COUNT_FILE_ENV);
    if (path == NULL || path[0] == '\0') return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    if (ftruncate(fd, (off_t)sizeof(struct AllocCounters)) != 0) {
        close(fd);
        return;
    }
    void* m = mmap(NULL, sizeof(struct AllocCounters), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return;
    struct AllocCounters* shared = (struct AllocCounters*)m;
    /* Carry over what was counted before main, slot by slot (the threads keep their slot
     * numbers), so the file's figures are the process's. Constructors run before any thread of
     * the program is started. */
    uint64_t claimed = atomic_load(&local_counters.slots_claimed);
    atomic_store(&shared->slots_claimed, claimed);
    for (unsigned i = 0; i < ALLOC_COUNT_SLOTS; ++i) {
        atomic_store(&shared->threads[i].tid, atomic_load(&local_counters.threads[i].tid));
        atomic_fetch_add(&shared->threads[i].allocations, atomic_load(&local_counters.threads[i].allocations));
        atomic_fetch_add(&shared->threads[i].frees, atomic_load(&local_counters.threads[i].frees));
    }
    shared->magic = ALLOC_COUNT_MAGIC;
    atomic_store(&counters, shared);
}

void* malloc(size_t size) {
    if (real_malloc == NULL) {
        if (atomic_load(&resolving)) return bootstrap_alloc(size, 16);
        resolve();
    }
    count();
    return real_malloc(size);
}

void* calloc(size_t n, size_t size) {
    if (real_calloc == NULL) {
        if (atomic_load(&resolving)) {
            if (size != 0 && n > SIZE_MAX / size) return NULL;
            return bootstrap_alloc(n * size, 16); /* static memory is zeroed */
        }
        resolve();
    }
    count();
    return real_calloc(n, size);
}

void* realloc(void* p, size_t size) {
    if (real_realloc == NULL) resolve();
    if (from_bootstrap(p)) {
        /* Rare (dlsym's buffers): move to the real heap; the old block stays in the buffer. */
        void* q = malloc(size);
        if (q != NULL) {
            size_t avail = (size_t)(bootstrap_buffer + sizeof bootstrap_buffer - (char*)p);
            memcpy(q, p, size < avail ? size : avail);
        }
        return q;
    }
    count();
    return real_realloc(p, size);
}

void free(void* p) {
    if (p == NULL || from_bootstrap(p)) return;
    if (real_free == NULL) resolve();
    count_free();
    real_free(p);
}

void* aligned_alloc(size_t align, size_t size) {
    if (real_aligned_alloc == NULL) {
        if (atomic_load(&resolving)) return bootstrap_alloc(size, align);
        resolve();
    }
    count();
    return real_aligned_alloc(align, size);
}

void* memalign(size_t align, size_t size) {
    if (real_memalign == NULL) {
        if (atomic_load(&resolving)) return bootstrap_alloc(size, align);
        resolve();
    }
    count();
    return real_memalign(align, size);
}

int posix_memalign(void** out, size_t align, size_t size) {
    if (real_posix_memalign == NULL) {
        if (atomic_load(&resolving)) {
            *out = bootstrap_alloc(size, align);
            return *out != NULL ? 0 : ENOMEM;
        }
        resolve();
    }
    count();
    return real_posix_memalign(out, align, size);
}

void* valloc(size_t size) {
    if (real_valloc == NULL) resolve();
    count();
    return real_valloc(size);
}

void* pvalloc(size_t size) {
    if (real_pvalloc == NULL) resolve();
    count();
    return real_pvalloc(size);
}
