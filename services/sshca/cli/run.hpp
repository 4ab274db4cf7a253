/// @file services/sshca/cli/run.hpp
/// @brief Running the OpenSSH tools the CLI drives (ssh-keygen, ssh-add, ssh): argv only, never
/// a shell, so no file name or argument is ever interpreted.
#pragma once

#include <string>
#include <vector>

namespace moneta::sshca::cli {

struct RunResult {
    int status = -1;     ///< exit status; -1 when it could not run or was killed
    std::string output;  ///< stdout and stderr together
};

/// Runs @p argv (argv[0] searched in PATH) to completion, its output captured.
RunResult run(const std::vector<std::string>& argv);

/// Replaces this process with @p argv (ssh): returns only when exec failed.
int exec(const std::vector<std::string>& argv);

}  // namespace moneta::sshca::cli
