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

    // The file outlives the process and holds its whole count (startup included).
    const int fd = ::open(counter.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    std::uint64_t raw[3] = {};  // magic, allocations, frees (AllocCounters)
    ASSERT_EQ(::pread(fd, raw, sizeof raw, 0), static_cast<ssize_t>(sizeof raw));
    ::close(fd);
    EXPECT_EQ(raw[0], ALLOC_COUNT_MAGIC);
    EXPECT_GE(raw[1], 155u);
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
