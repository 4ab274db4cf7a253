// Helpers for the dev-script tests: run `scripts/stack.sh` functions or `./dev` in bash, read
// /proc, fork a process with a chosen argv[0].
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "moneta/testing/process.hpp"

namespace moneta::dev_test {

using Env = std::vector<std::pair<std::string, std::string>>;

struct BashResult {
    int status = -1;  ///< exit status; -1 when it did not finish in time (then killed)
    std::string output;
};

/// Runs @p script in `bash -c` after `set -euo pipefail; source scripts/lib.sh; source
/// scripts/stack.sh` with ROOT = the source tree and @p env added; stdout+stderr go to @p log.
BashResult run_stack_sh(const std::string& script, Env env, const std::filesystem::path& log,
                        std::chrono::seconds timeout = std::chrono::seconds(60));

/// Runs `<source>/dev <args...>` with @p env added.
BashResult run_dev(const std::vector<std::string>& args, Env env, const std::filesystem::path& log,
                   std::chrono::seconds timeout);

/// fork + exec of @p program with argv[0] = @p argv0 and @p args. NOT reaped by anything but
/// reap(): the test decides when (a killed, unreaped child is a zombie).
pid_t fork_exec(const std::string& program, const std::string& argv0, const std::vector<std::string>& args);
/// waitpid(pid) without blocking longer than @p timeout; true once reaped.
bool reap(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// The one-letter state of /proc/<pid>/stat ('Z' for a zombie), nullopt when there is no such
/// process.
std::optional<char> proc_state(pid_t pid);
/// Field 22 of /proc/<pid>/stat (start time in clock ticks after boot), "" when gone.
std::string proc_starttime(pid_t pid);
using testing::proc_environ;  // moneta/testing/process.hpp
/// The first number of a pid file ("<pid> <starttime>"), -1 when unreadable.
pid_t pidfile_pid(const std::filesystem::path& pidfile);

}  // namespace moneta::dev_test
