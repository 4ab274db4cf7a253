// scripts/stack.sh's pid-file verdict and per-process environments, driven from gtest.
//
// Regression (issue 10 item 8): after `kill -9` of moneta, `./dev up` said "moneta already
// running" and never restarted it. The killed moneta was a zombie (nothing reaped it: a container
// without an init), and `kill -0` succeeds on a zombie. The same check believed a pid file whose
// pid now belonged to an unrelated process, and `./dev down` then signalled that process.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dev_support.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::dev_test {
namespace {

using namespace std::chrono_literals;

void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

class PidVerdictTest : public ::testing::Test {
protected:
    void SetUp() override {
        sleep_ = testing::find_program("sleep");
        ASSERT_FALSE(sleep_.empty());
        // A stand-in for moneta: `sleep`, reached through a link named "moneta", so its argv[0]
        // (what ps and /proc/<pid>/cmdline show) is ".../moneta" as for the real binary.
        std::filesystem::create_directories(dir_.path() / "bin");
        std::filesystem::create_symlink(sleep_, fake_moneta());
        std::filesystem::create_directories(dir_.path() / "run");
        std::filesystem::create_directories(dir_.path() / "log");
    }
    void TearDown() override {
        for (const pid_t pid : children_) {
            ::kill(pid, SIGKILL);
            reap(pid);
        }
    }

    std::filesystem::path fake_moneta() const { return dir_.path() / "bin/moneta"; }
    std::filesystem::path pidfile() const { return dir_.path() / "run/moneta.pid"; }

    // A live child whose argv[0] is @p argv0; killed and reaped in TearDown.
    pid_t spawn(const std::string& argv0) {
        const pid_t pid = fork_exec(sleep_, argv0, {"60"});
        if (pid > 0) {
            children_.push_back(pid);
        }
        return pid;
    }

    // A moneta that was SIGKILLed and that nobody reaped (the test process is its parent and
    // does not wait for it): a zombie, exactly what a container without an init leaves.
    pid_t zombie() {
        const pid_t pid = spawn(fake_moneta().string());
        EXPECT_TRUE(testing::wait_until(
            [&] {
                const auto cmd = testing::read_file("/proc/" + std::to_string(pid) + "/cmdline");
                return cmd.rfind(fake_moneta().string(), 0) == 0;  // exec done
            },
            5s,
            "the fake moneta to start"
        ));
        ::kill(pid, SIGKILL);
        EXPECT_TRUE(testing::wait_until([&] { return proc_state(pid) == 'Z'; }, 5s, "a zombie"));
        return pid;
    }

    // stack.sh's verdict on the pid file holding @p content: true = "running".
    bool alive(const std::string& content, const std::string& program = "moneta") {
        write(pidfile(), content);
        const auto r = run_stack_sh(
            "pid_alive \"$PIDFILE\" " + program + " && echo ALIVE || echo DEAD",
            {{"PIDFILE", pidfile().string()}, {"MONETA_DEV_DIR", dir_.path().string()}},
            dir_.file("verdict.log")
        );
        EXPECT_EQ(r.status, 0) << r.output;
        EXPECT_TRUE(r.output.find("ALIVE") != std::string::npos || r.output.find("DEAD") != std::string::npos)
            << r.output;
        return r.output.find("ALIVE") != std::string::npos;
    }

    BashResult stack_sh(const std::string& script, std::chrono::seconds timeout = 60s) {
        return run_stack_sh(script,
                            {{"MONETA_DEV_DIR", dir_.path().string()}, {"FAKE_MONETA", fake_moneta().string()}},
                            dir_.file("stack.log"), timeout);
    }

    testing::TempDir dir_{"dev-pid-"};
    std::string sleep_;
    std::vector<pid_t> children_;
};

TEST_F(PidVerdictTest, LiveProgramWithTheRightCommandIsRunning) {
    const pid_t pid = spawn(fake_moneta().string());
    ASSERT_TRUE(testing::wait_until(
        [&] { return testing::read_file("/proc/" + std::to_string(pid) + "/cmdline").rfind(fake_moneta().string(), 0) == 0; },
        5s, "exec"));
    EXPECT_TRUE(alive(std::to_string(pid)));                                  // old format: pid only
    EXPECT_TRUE(alive(std::to_string(pid) + " " + proc_starttime(pid)));      // pid + start time
    EXPECT_TRUE(alive(std::to_string(pid) + " " + proc_starttime(pid) + "\n"));
}

TEST_F(PidVerdictTest, ZombieIsNotRunning) {
    const pid_t pid = zombie();
    ASSERT_EQ(::kill(pid, 0), 0) << "kill -0 must still succeed on a zombie for this test to mean anything";
    EXPECT_FALSE(alive(std::to_string(pid)));
    EXPECT_FALSE(alive(std::to_string(pid) + " " + proc_starttime(pid)));
}

TEST_F(PidVerdictTest, ReusedPidOfAnotherProgramIsNotRunning) {
    // The pid now belongs to something else: an unrelated program, this test, init.
    const pid_t other = spawn("/usr/bin/unrelated-daemon");
    ASSERT_GT(other, 0);
    ASSERT_TRUE(testing::wait_until(
        [&] { return testing::read_file("/proc/" + std::to_string(other) + "/cmdline").rfind("/usr/bin/unrelated-daemon", 0) == 0; },
        5s, "exec"));
    EXPECT_FALSE(alive(std::to_string(other)));
    EXPECT_FALSE(alive(std::to_string(::getpid())));
    EXPECT_FALSE(alive("1"));
    // A program whose name merely starts or ends like ours is another program.
    const pid_t longer = spawn((dir_.path() / "bin/moneta-old").string());
    const pid_t shorter = spawn((dir_.path() / "bin/oneta").string());
    ASSERT_TRUE(testing::wait_until(
        [&] { return testing::read_file("/proc/" + std::to_string(shorter) + "/cmdline").rfind(dir_.path().string(), 0) == 0 &&
                     testing::read_file("/proc/" + std::to_string(longer) + "/cmdline").rfind(dir_.path().string(), 0) == 0; },
        5s, "exec"));
    EXPECT_FALSE(alive(std::to_string(longer)));
    EXPECT_FALSE(alive(std::to_string(shorter)));
}

TEST_F(PidVerdictTest, SameProgramStartedLaterIsNotTheOneWeStarted) {
    // The pid was reused by another moneta (e.g. a second stack): the recorded start time differs.
    const pid_t pid = spawn(fake_moneta().string());
    ASSERT_TRUE(testing::wait_until([&] { return !proc_starttime(pid).empty(); }, 5s, "stat"));
    const long started = std::stol(proc_starttime(pid));
    EXPECT_FALSE(alive(std::to_string(pid) + " " + std::to_string(started - 1)));
    EXPECT_FALSE(alive(std::to_string(pid) + " 0"));
}

TEST_F(PidVerdictTest, GarbagePidFilesAreNotRunning) {
    const auto marker = dir_.path() / "evaluated";
    for (const std::string& content : std::vector<std::string>{"", "\n", "abc", "0", "-1", "+5", "1e3", "99999999999999999999",
                                                               "$(touch " + marker.string() + ")"}) {
        SCOPED_TRACE(content);
        EXPECT_FALSE(alive(content));
    }
    EXPECT_FALSE(std::filesystem::exists(marker));  // a pid file is data, never evaluated
    std::filesystem::remove(pidfile());
    const auto r = stack_sh("pid_alive \"$MONETA_DEV_DIR/run/moneta.pid\" moneta && echo ALIVE || echo DEAD");
    EXPECT_NE(r.output.find("DEAD"), std::string::npos) << r.output;
}

// The symptom itself, one level up: start_bg with a pid file naming a zombie starts the program.
TEST_F(PidVerdictTest, StartBgRestartsWhatOnlyAZombieHolds) {
    const pid_t dead = zombie();
    write(pidfile(), std::to_string(dead) + " " + proc_starttime(dead) + "\n");
    const std::uint16_t port = testing::free_port();
    const auto r = stack_sh("RUN_DIR=$MONETA_DEV_DIR/run; LOG_DIR=$MONETA_DEV_DIR/log; start_bg moneta moneta " +
                            std::to_string(port) + " '' \"$FAKE_MONETA\" 60");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("already running"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("starting moneta"), std::string::npos) << r.output;
    const pid_t started = pidfile_pid(pidfile());
    ASSERT_GT(started, 0) << testing::read_file(pidfile());
    EXPECT_NE(started, dead);
    // The new process is ours: ".../moneta" (orphaned when bash exited, so killed by pid here).
    EXPECT_TRUE(testing::wait_until(
        [&] { return testing::read_file("/proc/" + std::to_string(started) + "/cmdline").rfind(fake_moneta().string(), 0) == 0; },
        5s, "the new moneta"));
    EXPECT_TRUE(alive(testing::read_file(pidfile())));
    if (testing::read_file("/proc/" + std::to_string(started) + "/cmdline").rfind(fake_moneta().string(), 0) == 0) {
        ::kill(started, SIGKILL);
    }
}

// A live service whose pid file has no start time was started by an older ./dev, without today's
// secrets: start_bg says so instead of reusing it (and starts nothing).
TEST_F(PidVerdictTest, StartBgRefusesAServiceStartedByAnOlderDev) {
    const pid_t old = spawn(fake_moneta().string());
    ASSERT_TRUE(testing::wait_until(
        [&] { return testing::read_file("/proc/" + std::to_string(old) + "/cmdline").rfind(fake_moneta().string(), 0) == 0; },
        5s, "exec"));
    write(pidfile(), std::to_string(old) + "\n");
    const auto r = stack_sh("start_bg moneta moneta " + std::to_string(testing::free_port()) +
                            " '' \"$FAKE_MONETA\" 60");
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("started by an older ./dev: run ./dev down"), std::string::npos) << r.output;
    EXPECT_EQ(testing::read_file(pidfile()), std::to_string(old) + "\n");  // nothing else started
    // With the start time recorded, it is simply "already running".
    write(pidfile(), std::to_string(old) + " " + proc_starttime(old) + "\n");
    const auto again = stack_sh("start_bg moneta moneta " + std::to_string(testing::free_port()) +
                                " '' \"$FAKE_MONETA\" 60");
    EXPECT_EQ(again.status, 0) << again.output;
    EXPECT_NE(again.output.find("moneta already running (pid " + std::to_string(old) + ")"), std::string::npos)
        << again.output;
}

// stop_pid never signals a process that merely reuses the pid, and does not wait out its
// timeout for a zombie.
TEST_F(PidVerdictTest, StopPidLeavesAReusedPidAloneAndIsQuickForAZombie) {
    const pid_t other = spawn("/usr/bin/unrelated-daemon");
    ASSERT_TRUE(testing::wait_until(
        [&] { return testing::read_file("/proc/" + std::to_string(other) + "/cmdline").rfind("/usr/bin/unrelated-daemon", 0) == 0; },
        5s, "exec"));
    write(pidfile(), std::to_string(other) + "\n");
    auto r = stack_sh("RUN_DIR=$MONETA_DEV_DIR/run; stop_pid moneta moneta TERM 5");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(proc_state(other).value_or('?'), 'S') << "the unrelated process was signalled";
    EXPECT_FALSE(std::filesystem::exists(pidfile()));

    const pid_t dead = zombie();
    write(pidfile(), std::to_string(dead) + "\n");
    const auto began = std::chrono::steady_clock::now();
    r = stack_sh("RUN_DIR=$MONETA_DEV_DIR/run; stop_pid moneta moneta TERM 5");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_LT(std::chrono::steady_clock::now() - began, 4s) << r.output;
    EXPECT_EQ(r.output.find("did not stop"), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(pidfile()));

    // A live moneta that becomes a zombie on SIGTERM (nobody reaps it): stop_pid sees it gone.
    const pid_t live = spawn(fake_moneta().string());
    ASSERT_TRUE(testing::wait_until(
        [&] { return testing::read_file("/proc/" + std::to_string(live) + "/cmdline").rfind(fake_moneta().string(), 0) == 0; },
        5s, "exec"));
    write(pidfile(), std::to_string(live) + " " + proc_starttime(live) + "\n");
    const auto began_live = std::chrono::steady_clock::now();
    r = stack_sh("RUN_DIR=$MONETA_DEV_DIR/run; stop_pid moneta moneta TERM 5");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("stopping moneta"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("did not stop"), std::string::npos) << r.output;
    EXPECT_LT(std::chrono::steady_clock::now() - began_live, 4s);
    EXPECT_EQ(proc_state(live).value_or('?'), 'Z');
}

// ---- environments: each process gets its own secrets only --------------------------------------

std::set<std::string> names_in_env_of(const std::string& list, testing::TempDir& dir) {
    // The user exported some secrets (and one of nginx's); load_secret set others unexported.
    const auto r = run_stack_sh(
        "export MONETA_JWT_SECRET=jwt INTERNAL_API_TOKEN=ia MONETA_CDN_ORIGIN_SECRET=origin "
        "MONETA_LOG_LEVEL=debug UNRELATED_TOKEN=x; "
        "MONETA_REDIS_PASSWORD=redis; MONETA_EDGE_TOKEN=edge; MONETA_ADMIN_TOKEN=admin; MONETA_SESSION_KEY=sk; "
        "MONETA_DRM_SITE_KEY=site; MONETA_DRM_ACCESS_KEY=access; "
        "(scrub_env $" + list + " && exec env -0) | tr '\\0' '\\n' | cut -d= -f1",
        {{"MONETA_DEV_DIR", dir.path().string()}},
        dir.file(list + ".log")
    );
    EXPECT_EQ(r.status, 0) << r.output;
    std::set<std::string> names;
    std::istringstream in(r.output);
    std::string line;
    while (std::getline(in, line)) {
        names.insert(line);
    }
    return names;
}

TEST(DevEnvironmentTest, EachProcessGetsOnlyTheSecretsItNeeds) {
    testing::TempDir dir("dev-env-");
    const std::set<std::string> secrets = {
        "MONETA_JWT_SECRET", "INTERNAL_API_TOKEN", "MONETA_CDN_ORIGIN_SECRET", "MONETA_REDIS_PASSWORD",
        "MONETA_EDGE_TOKEN", "MONETA_ADMIN_TOKEN", "MONETA_SESSION_KEY", "MONETA_DRM_SITE_KEY", "MONETA_DRM_ACCESS_KEY",
        "UNRELATED_TOKEN"};
    auto has = [](const std::set<std::string>& env, const std::string& name) { return env.count(name) == 1; };
    auto secrets_in = [&](const std::set<std::string>& env) {
        std::set<std::string> out;
        for (const auto& s : secrets) {
            if (has(env, s)) {
                out.insert(s);
            }
        }
        return out;
    };

    const auto redis = names_in_env_of("ENV_REDIS", dir);
    const auto nginx = names_in_env_of("ENV_NGINX", dir);
    const auto internal_api = names_in_env_of("ENV_INTERNAL_API", dir);
    const auto moneta = names_in_env_of("ENV_MONETA", dir);
    const auto exporter = names_in_env_of("ENV_EXPORTER", dir);
    const auto prometheus = names_in_env_of("ENV_PROMETHEUS", dir);
    const auto alertmanager = names_in_env_of("ENV_ALERTMANAGER", dir);
    for (const auto* env : {&redis, &nginx, &internal_api, &moneta, &exporter, &prometheus, &alertmanager}) {
        EXPECT_TRUE(has(*env, "PATH"));
        EXPECT_FALSE(has(*env, "UNRELATED_TOKEN"));
    }
    EXPECT_EQ(secrets_in(redis), std::set<std::string>{});
    EXPECT_EQ(secrets_in(nginx), std::set<std::string>{});
    EXPECT_EQ(secrets_in(internal_api), std::set<std::string>{"INTERNAL_API_TOKEN"});
    EXPECT_EQ(secrets_in(exporter), std::set<std::string>{"MONETA_REDIS_PASSWORD"});  // Redis INFO
    EXPECT_EQ(secrets_in(prometheus), std::set<std::string>{});  // the token is a credentials_file
    EXPECT_EQ(secrets_in(alertmanager), std::set<std::string>{});
    EXPECT_EQ(secrets_in(moneta),
              (std::set<std::string>{"MONETA_JWT_SECRET", "INTERNAL_API_TOKEN", "MONETA_REDIS_PASSWORD",
                                     "MONETA_EDGE_TOKEN", "MONETA_ADMIN_TOKEN", "MONETA_SESSION_KEY", "MONETA_DRM_SITE_KEY",
                                     "MONETA_DRM_ACCESS_KEY"}));
    // moneta keeps its non-secret overrides (MONETA_* from lib.sh and the user).
    EXPECT_TRUE(has(moneta, "MONETA_LOG_LEVEL"));
    EXPECT_TRUE(has(moneta, "MONETA_PORT"));
    EXPECT_FALSE(has(internal_api, "MONETA_LOG_LEVEL"));
}

}  // namespace
}  // namespace moneta::dev_test
