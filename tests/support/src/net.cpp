#include "moneta/testing/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "socket_io.hpp"

namespace moneta::testing {

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::fprintf(stderr, "free_port: socket: %s\n", std::strerror(errno));
        std::abort();
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::fprintf(stderr, "free_port: bind: %s\n", std::strerror(errno));
        std::abort();
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool tcp_port_open(std::uint16_t port) {
    std::string error;
    const int fd = detail::connect_loopback(
        port, detail::Clock::now() + std::chrono::milliseconds(200), error);
    detail::close_fd(fd);
    return fd >= 0;
}

::testing::AssertionResult wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto start = detail::Clock::now();
    const auto deadline = start + timeout;
    auto pause = std::chrono::milliseconds(1);
    std::string error;
    for (;;) {
        const int fd = detail::connect_loopback(port, deadline, error);
        if (fd >= 0) {
            detail::close_fd(fd);
            return ::testing::AssertionSuccess();
        }
        if (detail::Clock::now() >= deadline) {
            return ::testing::AssertionFailure()
                   << "127.0.0.1:" << port << " did not accept connections within "
                   << timeout.count() << " ms (last error: " << error << ")";
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
}

}  // namespace moneta::testing
