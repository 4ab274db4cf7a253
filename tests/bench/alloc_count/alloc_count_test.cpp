// bench/alloc_count: preloaded into a child that makes 155 allocations of every kind between two
// reads of the shared counter, the shim counts exactly those; the counter file keeps the
// process's total after it exits; without the env var the shim is inert.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "alloc_count.h"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

TEST(AllocCountTest, CountsEveryAllocationKindInTheSharedFile) {
    TempDir dir;
    const auto counter = dir.path() / "alloc.counter";
    auto p = Process::spawn({ALLOC_COUNT_PROBE}, {{"LD_PRELOAD", ALLOC_COUNT_SHIM}, {ALLOC_COUNT_FILE_ENV, counter.string()}},
                            dir.path() / "probe.log");
    ASSERT_TRUE(p) << p.error().message();
    ASSERT_EQ(p->wait_exit(20s), 0) << p->read_log();
    const std::string log = p->read_log();
    EXPECT_NE(log.find("delta=155 "), std::string::npos) << log;
    // 155 blocks, of which realloc released 10 itself: 145 calls of free (operator delete too).
    EXPECT_NE(log.find("frees=145"), std::string::npos) << log;

    // A thread counts in a slot of its own, named by its thread id: exactly its 7 mallocs.
    EXPECT_NE(log.find("thread=7\n"), std::string::npos) << log;

    // The file outlives the process and holds its whole count (startup included), slot by slot:
    // the main thread's first, then the other thread's.
    const int fd = ::open(counter.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    AllocCounters file{};
    ASSERT_EQ(::pread(fd, &file, sizeof file, 0), static_cast<ssize_t>(sizeof file));
    ::close(fd);
    EXPECT_EQ(file.magic, ALLOC_COUNT_MAGIC);
    EXPECT_EQ(file.slots_claimed.load(), 2u);
    EXPECT_NE(file.threads[0].tid.load(), 0u);
    EXPECT_NE(file.threads[1].tid.load(), file.threads[0].tid.load());
    EXPECT_EQ(file.threads[1].allocations.load(), 7u);
    EXPECT_EQ(file.threads[2].tid.load(), 0u);
    EXPECT_GE(alloc_count_total(file), 155u + 7u);
}

TEST(AllocCountTest, WithoutTheFileTheShimIsInert) {
    TempDir dir;
    auto p = Process::spawn({ALLOC_COUNT_PROBE}, {{"LD_PRELOAD", ALLOC_COUNT_SHIM}}, dir.path() / "probe.log");
    ASSERT_TRUE(p) << p.error().message();
    ASSERT_EQ(p->wait_exit(20s), 0) << p->read_log();
    EXPECT_NE(p->read_log().find("no-counter"), std::string::npos) << p->read_log();
}

}  // namespace
}  // namespace moneta::testing
