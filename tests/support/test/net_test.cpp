#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moneta/testing/net.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

TEST(NetTest, FreePortIsBindableAndWaitForTcpSeesAListener) {
    const auto port = free_port();
    ASSERT_NE(port, 0);
    EXPECT_FALSE(tcp_port_open(port));
    EXPECT_FALSE(wait_for_tcp(port, 30ms));

    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 8), 0);
    EXPECT_TRUE(wait_for_tcp(port, 5s));
    EXPECT_TRUE(tcp_port_open(port));
    ::close(fd);
}

}  // namespace
}  // namespace moneta::testing
