#include <gtest/gtest.h>
#include <signal.h>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

TEST(ProcessTest, CapturesOutputEnvironmentAndExitStatus) {
    TempDir dir;
    auto p = Process::spawn({"sh", "-c", "echo out:$MONETA_X; echo err >&2; pwd; exit 7"},
                            {{"MONETA_X", "42"}}, dir.file("log"), dir.path());
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_GT(p->pid(), 0);
    EXPECT_EQ(p->wait_exit(10s), 7);
    EXPECT_FALSE(p->running());
    const auto log = p->read_log();
    EXPECT_NE(log.find("out:42"), std::string::npos) << log;
    EXPECT_NE(log.find("err"), std::string::npos) << log;
    EXPECT_NE(log.find(std::filesystem::canonical(dir.path()).string()), std::string::npos) << log;
}

TEST(ProcessTest, MissingProgramIsReportedAsNotFound) {
    TempDir dir;
    auto p = Process::spawn({"no-such-program-moneta"}, {}, dir.file("log"));
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), core::make_error(core::Errc::kNotFound));
    auto empty = Process::spawn({}, {}, dir.file("log"));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), core::make_error(core::Errc::kInvalidArgument));
}

TEST(ProcessTest, WaitExitIsBoundedAndSignalsReportTheSignalNumber) {
    TempDir dir;
    auto p = Process::spawn({"sleep", "30"}, {}, dir.file("log"));
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->running());
    EXPECT_EQ(p->wait_exit(20ms), std::nullopt);
    p->signal(SIGSTOP);
    EXPECT_TRUE(p->running());  // stopped is not exited
    p->signal(SIGCONT);
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait_exit(10s), 128 + SIGTERM);
    EXPECT_EQ(p->exit_status(), 128 + SIGTERM);
}

TEST(ProcessTest, StopTerminatesAStoppedChild) {
    TempDir dir;
    auto p = Process::spawn({"sleep", "30"}, {}, dir.file("log"));
    ASSERT_TRUE(p);
    p->signal(SIGSTOP);
    EXPECT_EQ(p->stop(5s), 128 + SIGTERM);
}

TEST(ProcessTest, DestructorKillsARunningChild) {
    TempDir dir;
    pid_t pid = -1;
    {
        auto p = Process::spawn({"sleep", "30"}, {}, dir.file("log"));
        ASSERT_TRUE(p);
        pid = p->pid();
        Process moved = std::move(*p);  // the moved-from object must not kill it twice
        EXPECT_TRUE(moved.running());
    }
    // Reaped by the destructor: the PID no longer names our child.
    EXPECT_NE(::kill(pid, 0), 0);
}

}  // namespace
}  // namespace moneta::testing
