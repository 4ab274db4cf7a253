/// @file moneta/testing/redis_server.hpp
/// @brief A real redis-server child process for tests, on a free 127.0.0.1 port.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moneta/core/result.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {

struct RedisServerOptions {
    std::uint16_t port = 0;              ///< 0 = pick a free port
    bool appendonly = false;             ///< --appendonly yes|no
    std::string appendfsync = "everysec";  ///< always | everysec | no
    std::filesystem::path dir;           ///< --dir; empty = a fresh TempDir owned by the server
    /// requirepass when non-empty, from a 0600 config file in dir (never on the command line);
    /// command() then AUTHs.
    std::string password;
    std::vector<std::string> extra_args;  ///< appended verbatim, e.g. {"--maxmemory", "10mb"}
    /// --cluster-enabled yes, with the cluster bus on a second free port (--cluster-port): the
    /// default bus port, the client port + 10000, is refused above 55535 (a third of the
    /// ephemeral range free_port draws from) and may be someone else's.
    bool cluster = false;
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
    std::string program;                 ///< redis-server binary; empty = find_program
};

/// Starts `redis-server [D/redis-auth.conf] --port P --bind 127.0.0.1 --save "" --daemonize no --dir D ...` and waits
/// until PING answers PONG (bounded by ready_timeout). The log is `D/redis.log`. The destructor
/// SIGKILLs the server (and removes D when the server created it).
///
/// Usage:
/// @code
///   auto redis = RedisServer::start();
///   ASSERT_TRUE(redis) << redis.error().message();
///   client_config.port = redis->port();
///   EXPECT_EQ(redis->command({"GET", "k"}), "v");
/// @endcode
/// Movable, not copyable.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (command() may be called from any one thread).
class RedisServer {
public:
    /// @return the running server; kNotFound when redis-server is not installed, kTimeout when
    /// it did not answer PING in time, kConnectFailed when it exited early (e.g. port taken; with
    /// port 0 that is retried on other ports first).
    static core::Result<RedisServer> start(RedisServerOptions opts = {});

    RedisServer(RedisServer&&) noexcept;
    RedisServer& operator=(RedisServer&&) noexcept;
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;
    ~RedisServer();

    std::uint16_t port() const noexcept { return port_; }
    /// The cluster bus port (options().cluster), 0 otherwise; CLUSTER MEET needs it.
    std::uint16_t cluster_bus_port() const noexcept { return bus_port_; }
    /// PID of the current redis-server process (changes on restart), -1 when killed.
    pid_t pid() const noexcept;
    const std::filesystem::path& dir() const noexcept { return dir_; }
    std::filesystem::path log_file() const { return dir_ / "redis.log"; }
    const RedisServerOptions& options() const noexcept { return opts_; }

    /// SIGSTOP: the port stays open but nothing is answered (a "stuck" Redis).
    void pause();
    /// SIGCONT.
    void resume();
    /// SIGKILL and reap; connections see a reset/EOF. No-op when not running.
    void kill9();
    /// Graceful SIGTERM shutdown (redis fsyncs AOF on SIGTERM). No-op when not running.
    void stop();
    /// Starts redis again on the same port and dir (the AOF, if any, is reloaded), waiting for
    /// PING like start(). Kills the current process first if it still runs.
    core::Result<void> restart();
    bool running();

    /// Blocking helper over a raw socket (fresh connection, AUTH when a password is set, 5 s
    /// timeout) returning a printable reply, like `redis-cli --raw`: bulk/status text as is,
    /// integers in decimal, nil as "(nil)", errors as "(error) <message>", arrays as their
    /// elements joined by '\n' (nested arrays flattened). Transport failures return
    /// "(transport error) <what>".
    std::string command(std::vector<std::string> args);

    /// Like command() but an array reply is returned element by element (each printable as above).
    std::vector<std::string> command_list(std::vector<std::string> args);

private:
    RedisServer() = default;
    core::Result<void> launch();

    RedisServerOptions opts_;
    std::uint16_t port_ = 0;
    std::uint16_t bus_port_ = 0;
    std::filesystem::path dir_;
    std::unique_ptr<TempDir> owned_dir_;  // declared before process_: destroyed after the kill
    std::optional<Process> process_;
};

}  // namespace moneta::testing
