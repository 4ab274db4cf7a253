#include "run.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace moneta::sshca::cli {
namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (const auto& a : argv) {
        out.push_back(const_cast<char*>(a.c_str()));  // execvp's signature; never written to
    }
    out.push_back(nullptr);
    return out;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv) {
    RunResult r;
    int fds[2];
    if (argv.empty() || ::pipe(fds) != 0) {
        return r;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return r;
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        auto args = c_argv(argv);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "%s: %s\n", argv[0].c_str(), std::strerror(errno));
        ::_exit(127);
    }
    ::close(fds[1]);
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
            r.output.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

int exec(const std::vector<std::string>& argv) {
    auto args = c_argv(argv);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "sshca: cannot run %s: %s\n", argv[0].c_str(), std::strerror(errno));
    return 127;
}

}  // namespace moneta::sshca::cli
