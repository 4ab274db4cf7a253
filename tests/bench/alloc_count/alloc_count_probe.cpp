// A child for alloc_count_test: makes a known number of allocations between two reads of the
// shim's shared counters and prints "delta=<n> frees=<n>", then has a thread of its own make 7
// and prints what that thread's slot (found by its thread id) counted: "thread=<n>"; or
// "no-counter" when no file is mapped.
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "alloc_count.h"

namespace {

// Volatile sink: the compiler may not elide an allocation whose pointer escapes here.
void* volatile g_sink[256];

}  // namespace

int main() {
    const char* path = std::getenv(ALLOC_COUNT_FILE_ENV);
    if (path == nullptr) {
        std::printf("no-counter\n");
        return 0;
    }
    const int fd = ::open(path, O_RDONLY);
    if (fd < 0) {
        std::printf("no-counter\n");
        return 0;
    }
    void* m = ::mmap(nullptr, sizeof(AllocCounters), PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED) return 1;
    const auto* counters = static_cast<const AllocCounters*>(m);
    if (counters->magic != ALLOC_COUNT_MAGIC) {
        std::printf("bad-magic\n");
        return 1;
    }
    const std::uint64_t before = alloc_count_total(*counters);
    const std::uint64_t frees_before = alloc_count_total_frees(*counters);
    int n = 0;
    for (int i = 0; i < 100; ++i) g_sink[n++] = std::malloc(16 + static_cast<std::size_t>(i));       // 100
    for (int i = 0; i < 10; ++i) g_sink[n++] = std::calloc(4, 8);                                    // 10
    for (int i = 0; i < 10; ++i) g_sink[i] = std::realloc(g_sink[i], 4096);                         // 10
    for (int i = 0; i < 5; ++i) {
        void* p = nullptr;
        if (::posix_memalign(&p, 64, 100) == 0) g_sink[n++] = p;                                     // 5
    }
    for (int i = 0; i < 5; ++i) g_sink[n++] = std::aligned_alloc(64, 128);                          // 5
    for (int i = 0; i < 5; ++i) g_sink[n++] = ::memalign(64, 32);                                    // 5
    int* ints[20];
    for (int i = 0; i < 20; ++i) g_sink[n + i] = ints[i] = new int(i);                              // 20: operator new -> malloc
    const std::uint64_t after = alloc_count_total(*counters);
    for (int i = 0; i < n; ++i) std::free(g_sink[i]);
    for (int* p : ints) delete p;
    const std::uint64_t frees_after = alloc_count_total_frees(*counters);
    std::printf("delta=%llu frees=%llu\n", static_cast<unsigned long long>(after - before),
                static_cast<unsigned long long>(frees_after - frees_before));

    std::uint64_t tid = 0;
    std::thread t([&tid] {
        tid = static_cast<std::uint64_t>(::syscall(SYS_gettid));
        for (int i = 0; i < 7; ++i) g_sink[200 + i] = std::malloc(64);
        for (int i = 0; i < 7; ++i) std::free(g_sink[200 + i]);
    });
    t.join();
    long long in_thread = -1;
    for (const AllocThreadCounters& slot : counters->threads) {
        if (slot.tid.load() == tid) in_thread = static_cast<long long>(slot.allocations.load());
    }
    std::printf("thread=%lld\n", in_thread);
    return 0;
}
