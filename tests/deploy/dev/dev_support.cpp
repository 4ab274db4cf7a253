#include "dev_support.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"

namespace moneta::dev_test {

namespace {

BashResult run(std::vector<std::string> argv, Env env, const std::filesystem::path& log,
               std::chrono::seconds timeout) {
    env.emplace_back("ROOT", testing::source_dir().string());
    std::error_code ec;
    std::filesystem::remove(log, ec);
    auto proc = testing::Process::spawn(std::move(argv), std::move(env), log);
    BashResult result;
    if (!proc) {
        result.output = "cannot start bash: " + proc.error().message();
        return result;
    }
    const auto status = proc->wait_exit(timeout);
    result.status = status.value_or(-1);  // the Process destructor kills it when it hangs
    result.output = proc->read_log();
    return result;
}

// Fields after "pid (comm) ": comm may hold blanks and ')', so split after the last ") ".
std::vector<std::string> stat_fields(pid_t pid) {
    const std::string stat = testing::read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(") ");
    std::vector<std::string> fields;
    if (close == std::string::npos) {
        return fields;
    }
    std::istringstream in(stat.substr(close + 2));
    std::string f;
    while (in >> f) {
        fields.push_back(f);
    }
    return fields;
}

}  // namespace

BashResult run_stack_sh(const std::string& script, Env env, const std::filesystem::path& log,
                        std::chrono::seconds timeout) {
    return run({"bash",
                "-c",
                "set -euo pipefail; source \"$ROOT/scripts/lib.sh\"; source \"$ROOT/scripts/stack.sh\"; " +
                    script},
               std::move(env), log, timeout);
}

BashResult run_dev(const std::vector<std::string>& args, Env env, const std::filesystem::path& log,
                   std::chrono::seconds timeout) {
    std::vector<std::string> argv{(testing::source_dir() / "dev").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(std::move(argv), std::move(env), log, timeout);
}

pid_t fork_exec(const std::string& program, const std::string& argv0, const std::vector<std::string>& args) {
    std::vector<std::string> all{argv0};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    return pid;
}

bool reap(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::optional<char> proc_state(pid_t pid) {
    const auto fields = stat_fields(pid);
    if (fields.empty() || fields[0].empty()) {
        return std::nullopt;
    }
    return fields[0][0];
}

std::string proc_starttime(pid_t pid) {
    const auto fields = stat_fields(pid);
    return fields.size() > 19 ? fields[19] : std::string();
}

pid_t pidfile_pid(const std::filesystem::path& pidfile) {
    std::istringstream in(testing::read_file(pidfile));
    long pid = -1;
    if (!(in >> pid) || pid <= 0) {
        return -1;
    }
    return static_cast<pid_t>(pid);
}

}  // namespace moneta::dev_test
