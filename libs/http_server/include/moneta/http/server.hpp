/// @file moneta/http/server.hpp
/// @brief HTTP/1.1 server on Boost.Asio + C++20 coroutines, one io_context per worker thread
/// (thread-per-core, SO_REUSEPORT listener per worker). Its own strict one-pass parser, hard
/// limits, timeouts enforced by a per-worker sweep, graceful drain; see docs/http_server.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"
#include "moneta/http/edge_trust.hpp"
#include "moneta/http/handler.hpp"
#include "moneta/http/server_stats.hpp"

namespace boost::asio {
class io_context;
}

namespace moneta::http {

using core::Duration;

struct ServerLimits {
    std::size_t header_bytes = 8192;   ///< request line + headers
    std::size_t body_bytes = 16 * 1024;
    std::size_t header_count = 64;
    std::size_t uri_bytes = 2048;
    /// Upper bound; the effective cap is connection_cap(RLIMIT_NOFILE soft, fd_reserve, threads,
    /// this) (fd_limit.hpp), computed at listen(). Over it: accepted, then closed at once.
    std::size_t max_connections_per_worker = 10000;
    /// Descriptors kept for everything that is not a client connection (see connection_cap).
    std::size_t fd_reserve = 64;
};

/// Failed accepts (EMFILE, ENFILE, ...) wait before the next try: first_backoff doubling to
/// max_backoff, reset by the next accepted connection. Never a hot loop.
struct AcceptBackoff {
    Duration first = std::chrono::milliseconds(1);
    Duration max = std::chrono::milliseconds(100);
};

struct ServerTimeouts {
    Duration header_read = std::chrono::seconds(5);  ///< total, from the first byte (slowloris)
    Duration body_read = std::chrono::seconds(5);
    Duration idle = std::chrono::seconds(75);        ///< > nginx upstream keepalive_timeout (60 s)
    Duration write = std::chrono::seconds(10);
    Duration default_deadline = std::chrono::seconds(2);  ///< lowered by X-Request-Timeout-Ms
    /// A smaller X-Request-Timeout-Ms is raised to this floor (it still never raises the deadline
    /// above default_deadline). 0 = no floor (the internal API: its caller is moneta).
    Duration min_client_deadline = Duration::zero();
};

struct ServerConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t threads = 1;
    /// Worker threads are named "<thread_name>-<index>" (core/thread_name.hpp): what `top -H`,
    /// perf and the bench's per-thread allocation counts show.
    std::string thread_name = "worker";
    ServerLimits limits;
    ServerTimeouts timeouts;
    AcceptBackoff accept_backoff;
    /// Edge-only headers and the edge's secret (edge_trust.hpp). Default: nothing edge-only.
    EdgeTrust edge;
    /// Body of the server's own errors (malformed or oversized requests, timeouts, a handler
    /// that threw): the service's error table, as for its handlers' errors.
    ErrorPage error_page = default_error_page;
};

struct AccessRecord {
    const Request& request;
    int status;
    std::size_t response_bytes;
    Duration duration;
};

struct WorkerHooks {
    Handler handler;
    std::function<void(const AccessRecord&)> on_access;  ///< after each response (worker thread)
    std::function<void()> on_drained;  ///< after the last connection closed at shutdown
};

/// @par Thread safety
/// listen/start/wait from one thread; request_stop from any thread.
class Server {
public:
    /// Runs once per worker thread, ON that thread, with its io_context: per-thread clients
    /// (Redis, HTTP pools) need no locks.
    using WorkerFactory = std::function<WorkerHooks(boost::asio::io_context&, std::size_t)>;

    Server(ServerConfig config, const core::Clock& clock, WorkerFactory factory);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds one SO_REUSEPORT socket per worker (port 0 → ephemeral). @return the bound port.
    core::Result<std::uint16_t> listen();
    /// Starts the worker threads.
    void start();
    /// Stop accepting, finish in-flight requests (answered with Connection: close), close idle
    /// connections now and the rest at @p drain, call on_drained, let the workers exit.
    void request_stop(Duration drain);
    /// Joins the workers.
    void wait();

    /// Summed over the workers' blocks at each load() (server_stats.hpp).
    const ServerStats& stats() const noexcept;
    std::uint16_t port() const noexcept;
    /// The effective per-worker connection cap (after listen(); see ServerLimits).
    std::size_t max_connections_per_worker() const noexcept;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace moneta::http
