#include "moneta/http/fd_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace moneta::http {
namespace {

/// fs.nr_open: the largest RLIMIT_NOFILE the kernel accepts (1048576 by default).
std::uint64_t nr_open() noexcept {
    std::uint64_t v = 1 << 20;
    if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "re")) {
        unsigned long long n = 0;
        if (std::fscanf(f, "%llu", &n) == 1 && n > 0) {
            v = n;
        }
        std::fclose(f);
    }
    return v;
}

}  // namespace

FdLimit raise_fd_limit() noexcept {
    FdLimit out;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        out.error = errno;
        return out;
    }
    out.previous_soft = rl.rlim_cur;
    out.hard = rl.rlim_max == RLIM_INFINITY ? nr_open() : rl.rlim_max;
    out.soft = rl.rlim_cur;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= out.hard) {
        return out;
    }
    rlimit raised{static_cast<rlim_t>(out.hard), rl.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
        out.error = errno;
        return out;
    }
    out.soft = out.hard;
    return out;
}

std::uint64_t fd_soft_limit() noexcept {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 0;
    }
    return rl.rlim_cur == RLIM_INFINITY ? nr_open() : rl.rlim_cur;
}

std::size_t connection_cap(std::uint64_t soft, std::size_t reserve, std::size_t workers,
                           std::size_t configured) noexcept {
    const std::uint64_t n = std::max<std::size_t>(workers, 1);
    const std::uint64_t usable = soft > reserve ? soft - reserve : 0;
    const std::uint64_t derived = std::max<std::uint64_t>(usable / n, 1);
    return static_cast<std::size_t>(std::min<std::uint64_t>(derived, std::max<std::size_t>(configured, 1)));
}

}  // namespace moneta::http
