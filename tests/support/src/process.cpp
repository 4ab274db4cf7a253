#include "moneta/testing/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>

#include "moneta/testing/paths.hpp"

extern char** environ;

namespace moneta::testing {
namespace {

int decode_status(int st) {
    if (WIFEXITED(st)) {
        return WEXITSTATUS(st);
    }
    if (WIFSIGNALED(st)) {
        return 128 + WTERMSIG(st);
    }
    return 255;
}

// Everything the child needs, built before fork: after fork the child only makes
// async-signal-safe calls (no allocation), because the parent may be multithreaded.
struct ExecPlan {
    std::string program;
    std::vector<std::string> argv_storage;
    std::vector<std::string> env_storage;
    std::vector<char*> argv;
    std::vector<char*> envp;
};

ExecPlan make_plan(std::string program,
                   std::vector<std::string> argv,
                   const std::vector<std::pair<std::string, std::string>>& extra_env) {
    ExecPlan plan;
    plan.program = std::move(program);
    plan.argv_storage = std::move(argv);
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view kv(*e);
        const auto name = kv.substr(0, kv.find('='));
        const bool overridden = std::any_of(extra_env.begin(), extra_env.end(),
                                            [&](const auto& p) { return p.first == name; });
        if (!overridden) {
            plan.env_storage.emplace_back(kv);
        }
    }
    for (const auto& [k, v] : extra_env) {
        plan.env_storage.push_back(k + "=" + v);
    }
    for (auto& a : plan.argv_storage) {
        plan.argv.push_back(a.data());
    }
    plan.argv.push_back(nullptr);
    for (auto& e : plan.env_storage) {
        plan.envp.push_back(e.data());
    }
    plan.envp.push_back(nullptr);
    return plan;
}

[[noreturn]] void child_fail(int report_fd, int err) {
    // Best effort: the parent treats EOF as "exec succeeded".
    [[maybe_unused]] const auto n = ::write(report_fd, &err, sizeof err);
    ::_exit(127);
}

}  // namespace

core::Result<Process> Process::spawn(std::vector<std::string> argv,
                                     std::vector<std::pair<std::string, std::string>> extra_env,
                                     std::filesystem::path log_file,
                                     std::filesystem::path cwd) {
    if (argv.empty() || argv.front().empty()) {
        return core::make_error(core::Errc::kInvalidArgument);
    }
    std::string program = find_program(argv.front());
    if (program.empty()) {
        return core::make_error(core::Errc::kNotFound);
    }
    ExecPlan plan = make_plan(std::move(program), std::move(argv), extra_env);
    const std::string cwd_str = cwd.string();

    const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        return core::make_error(core::Errc::kInternal);
    }
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int report[2];
    if (null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
        ::close(log_fd);
        if (null_fd >= 0) {
            ::close(null_fd);
        }
        return core::make_error(core::Errc::kInternal);
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(log_fd);
        ::close(null_fd);
        ::close(report[0]);
        ::close(report[1]);
        return core::make_error(core::Errc::kInternal);
    }
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        ::close(report[0]);
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
            ::_exit(126);  // parent already gone
        }
        // Start with default signal handling and an empty mask (gtest/asan may have changed them).
        sigset_t all;
        ::sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        if (::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(log_fd, STDOUT_FILENO) < 0 ||
            ::dup2(log_fd, STDERR_FILENO) < 0) {
            child_fail(report[1], errno);
        }
        if (!cwd_str.empty() && ::chdir(cwd_str.c_str()) != 0) {
            child_fail(report[1], errno);
        }
        ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
        child_fail(report[1], errno);
    }
    ::close(report[1]);
    ::close(log_fd);
    ::close(null_fd);
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(report[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);

    Process p;
    p.pid_ = pid;
    p.log_file_ = std::move(log_file);
    if (n > 0) {
        p.reap_blocking();
        return core::make_error(child_errno == ENOENT || child_errno == EACCES
                                    ? core::Errc::kNotFound
                                    : core::Errc::kInternal);
    }
    return p;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(std::exchange(other.status_, std::nullopt)),
      log_file_(std::move(other.log_file_)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        reap_blocking();
        pid_ = std::exchange(other.pid_, -1);
        status_ = std::exchange(other.status_, std::nullopt);
        log_file_ = std::move(other.log_file_);
    }
    return *this;
}

Process::~Process() { reap_blocking(); }

bool Process::try_reap() noexcept {
    if (pid_ <= 0 || status_) {
        return true;
    }
    int st = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
        status_ = decode_status(st);
        return true;
    }
    if (r < 0) {
        status_ = 255;  // ECHILD: someone else reaped it; treat as gone
        return true;
    }
    return false;
}

void Process::reap_blocking() noexcept {
    if (pid_ <= 0 || try_reap()) {
        return;
    }
    ::kill(pid_, SIGKILL);
    int st = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &st, 0);
    } while (r < 0 && errno == EINTR);
    status_ = r == pid_ ? decode_status(st) : 255;
}

bool Process::running() { return !try_reap(); }

void Process::signal(int sig) {
    if (pid_ > 0 && !try_reap()) {
        ::kill(pid_, sig);
    }
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(200);
    for (;;) {
        if (try_reap()) {
            return status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(10'000));
    }
}

int Process::stop(std::chrono::milliseconds grace) {
    if (try_reap()) {
        return status_.value_or(255);
    }
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    if (auto st = wait_exit(grace)) {
        return *st;
    }
    reap_blocking();
    return status_.value_or(255);
}

std::string Process::read_log() const { return read_file(log_file_); }

std::map<std::string, std::string> proc_environ(pid_t pid) {
    std::map<std::string, std::string> env;
    std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/environ"));
    std::string entry;
    while (std::getline(in, entry, '\0')) {
        const auto eq = entry.find('=');
        if (eq != std::string::npos) {
            env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
        }
    }
    return env;
}

}  // namespace moneta::testing
