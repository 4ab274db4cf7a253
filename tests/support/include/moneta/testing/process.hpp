/// @file moneta/testing/process.hpp
/// @brief A child process for tests (servers, CLIs): started with fork/exec, addressed by PID only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "moneta/core/result.hpp"

namespace moneta::testing {

/// A spawned child. stdin is /dev/null; stdout and stderr are appended to a log file. The child
/// is stopped by PID, never by name, and gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the test
/// (even when ctest kills a hung test). NOTE: the death signal fires when the *thread* that
/// spawned the child exits, so spawn long-lived children from the test's main thread.
///
/// Movable, not copyable. The destructor SIGKILLs and reaps a child that is still running.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class Process {
public:
    /// Starts @p argv (argv[0] is resolved with find_program when it has no '/') with the current
    /// environment plus @p extra_env (overriding variables of the same name).
    /// @param cwd working directory of the child; empty = inherit.
    /// @return the process, or kNotFound (program missing or not executable; exec failures are
    /// reported back through a pipe), kInvalidArgument (empty argv), kInternal (fork/log file).
    static core::Result<Process> spawn(
        std::vector<std::string> argv,
        std::vector<std::pair<std::string, std::string>> extra_env,
        std::filesystem::path log_file,
        std::filesystem::path cwd = {});

    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    /// The child's PID (still valid after it exited, until this object dies).
    pid_t pid() const noexcept { return pid_; }
    /// True until the child has exited (a SIGSTOPped child is running). Reaps it if it exited.
    bool running();
    /// Sends @p sig (SIGSTOP/SIGCONT/SIGTERM/SIGKILL/...) to the child; no-op once it was reaped.
    void signal(int sig);
    /// Waits at most @p timeout for the child to exit (bounded polling of waitpid).
    /// @return the exit status (0..255), or 128+signal when killed by a signal; nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    /// SIGTERM (after SIGCONT, in case it was stopped), wait up to @p grace, then SIGKILL.
    /// @return the exit status as in wait_exit.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
    /// Status once exited (as in wait_exit), nullopt while running.
    std::optional<int> exit_status() const noexcept { return status_; }
    const std::filesystem::path& log_file() const noexcept { return log_file_; }
    /// The log so far (for failure messages).
    std::string read_log() const;

private:
    Process() = default;
    void reap_blocking() noexcept;
    bool try_reap() noexcept;

    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_file_;
};

/// NAME=value pairs of /proc/<pid>/environ (what secrets a process holds); empty when gone.
std::map<std::string, std::string> proc_environ(pid_t pid);

}  // namespace moneta::testing
