#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/redis_server.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

bool port_bindable(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

TEST(RedisServerTest, StartsOnAFreePortAndAnswersCommands) {
    auto redis = RedisServer::start();
    ASSERT_TRUE(redis) << redis.error().message();
    EXPECT_NE(redis->port(), 0);
    EXPECT_TRUE(tcp_port_open(redis->port()));
    EXPECT_EQ(redis->command({"SET", "k", "v"}), "OK");
    EXPECT_EQ(redis->command({"GET", "k"}), "v");
    EXPECT_EQ(redis->command({"GET", "missing"}), "(nil)");
    EXPECT_EQ(redis->command({"INCRBY", "n", "5"}), "5");
    EXPECT_EQ(redis->command({"RPUSH", "l", "a", "b"}), "2");
    EXPECT_EQ(redis->command({"LRANGE", "l", "0", "-1"}), "a\nb");
    EXPECT_EQ(redis->command_list({"LRANGE", "l", "0", "-1"}), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(redis->command({"NOSUCHCMD"}).rfind("(error) ERR", 0), 0U);
}

// Redis refuses a cluster node above port 55535 when its bus is the default port + 10000; the
// ephemeral range free_port draws from reaches 60999, so a cluster node picks its bus port too.
TEST(RedisServerTest, ClusterNodeStartsAbove55535WithItsOwnBusPort) {
    std::uint16_t high = 0;
    for (std::uint16_t p = 60999; p > 55600 && high == 0; p -= 7) {
        high = port_bindable(p) ? p : 0;
    }
    ASSERT_NE(high, 0) << "no free port above 55535";
    RedisServerOptions opts;
    opts.port = high;
    opts.cluster = true;
    auto redis = RedisServer::start(opts);
    ASSERT_TRUE(redis) << redis.error().message();
    EXPECT_NE(redis->cluster_bus_port(), 0);
    EXPECT_NE(redis->cluster_bus_port(), redis->port());
    EXPECT_NE(redis->command({"INFO", "cluster"}).find("cluster_enabled:1"), std::string::npos);
    EXPECT_NE(redis->command({"CLUSTER", "NODES"}).find("@" + std::to_string(redis->cluster_bus_port())),
              std::string::npos);
}

TEST(RedisServerTest, PauseMakesItUnresponsiveAndResumeRecovers) {
    auto redis = RedisServer::start();
    ASSERT_TRUE(redis);
    redis->pause();
    EXPECT_TRUE(redis->running());
    // A stopped redis still completes TCP handshakes (kernel backlog) but never answers.
    EXPECT_EQ(raw_exchange(redis->port(), "PING\r\n", 300ms), "");
    redis->resume();
    EXPECT_EQ(raw_exchange(redis->port(), "PING\r\n", 300ms), "+PONG\r\n");
    EXPECT_EQ(redis->command({"PING"}), "PONG");
}

TEST(RedisServerTest, RestartKeepsThePortAndReloadsTheAppendOnlyFile) {
    RedisServerOptions opts;
    opts.appendonly = true;
    opts.appendfsync = "always";
    auto redis = RedisServer::start(opts);
    ASSERT_TRUE(redis) << redis.error().message();
    const auto port = redis->port();
    const auto first_pid = redis->pid();
    EXPECT_EQ(redis->command({"SET", "durable", "yes"}), "OK");
    redis->kill9();
    EXPECT_FALSE(redis->running());
    EXPECT_FALSE(tcp_port_open(port));
    ASSERT_TRUE(redis->restart());
    EXPECT_EQ(redis->port(), port);
    EXPECT_NE(redis->pid(), first_pid);
    EXPECT_EQ(redis->command({"GET", "durable"}), "yes");
}

TEST(RedisServerTest, PasswordIsRequiredAndUsedByTheHelper) {
    RedisServerOptions opts;
    opts.password = R"(s3 "cr\et)";  // a blank, a quote and a backslash survive the config file
    auto redis = RedisServer::start(opts);
    ASSERT_TRUE(redis) << redis.error().message();
    EXPECT_EQ(redis->command({"PING"}), "PONG");
    const auto unauthenticated = raw_exchange(redis->port(), "PING\r\n", 300ms);
    EXPECT_EQ(unauthenticated.rfind("-NOAUTH", 0), 0U) << unauthenticated;
    EXPECT_EQ(redis->command({"CONFIG", "GET", "requirepass"}), "requirepass\n" + opts.password);
    // The password is in a 0600 file, never on the command line. (redis-server rewrites its
    // title once up, so an argv password showed in `ps` only while it started; the file check
    // below is the one that fails for --requirepass.)
    const auto cmdline = read_file("/proc/" + std::to_string(redis->pid()) + "/cmdline");
    EXPECT_FALSE(cmdline.empty());
    EXPECT_EQ(cmdline.find("cr\\et"), std::string::npos) << cmdline;
    EXPECT_EQ(cmdline.find("requirepass"), std::string::npos) << cmdline;
    const auto perms = std::filesystem::status(redis->dir() / "redis-auth.conf").permissions();
    EXPECT_EQ(perms, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(RedisServerTest, StartFailsCleanlyForAMissingBinary) {
    RedisServerOptions opts;
    opts.program = "/nonexistent/redis-server";
    auto redis = RedisServer::start(opts);
    ASSERT_FALSE(redis);
    EXPECT_EQ(redis.error(), core::make_error(core::Errc::kNotFound));
}

}  // namespace
}  // namespace moneta::testing
