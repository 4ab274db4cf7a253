/// @file moneta/http_client/client.hpp
/// @brief Async keep-alive HTTP/1.1 client pool to one upstream (the internal API), one per
/// io_context (thread-per-core, no locks). Bounded pool, bounded deadline-aware wait queue,
/// per-request timeout capped by the caller's deadline, real cancellation (the socket is closed).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "moneta/core/clock.hpp"
#include "moneta/core/deadline.hpp"
#include "moneta/core/result.hpp"

namespace moneta::http_client {

using core::Duration;

struct ClientConfig {
    std::string host = "127.0.0.1";  ///< IP literal or name
    std::uint16_t port = 80;
    std::size_t max_connections = 32;
    std::size_t max_pending = 256;   ///< callers waiting for a connection
    Duration connect_timeout = std::chrono::milliseconds(200);
    Duration default_timeout = std::chrono::milliseconds(500);
    Duration idle_timeout = std::chrono::seconds(30);  ///< pooled connections older than this are dropped
    std::size_t max_response_bytes = 4 * 1024 * 1024;
    std::string host_header;  ///< empty: host:port
};

struct RequestControl {
    std::optional<Duration> timeout;
};

struct Header {
    std::string_view name;
    std::string_view value;
};

struct Response {
    int status = 0;
    std::string body;
    std::string content_type;
    std::optional<std::string> retry_after;
};

struct ClientStats {
    std::atomic<std::uint64_t> requests_total{0};
    std::atomic<std::uint64_t> errors_total{0};
    std::atomic<std::uint64_t> timeouts_total{0};
    std::atomic<std::uint64_t> connections_created_total{0};
    std::atomic<std::int64_t> connections_open{0};
    std::atomic<std::int64_t> pending{0};
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::uint64_t> rejected_total{0};  ///< kOverloaded
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (use on the executor's thread); stats(): any.
class Client {
public:
    Client(boost::asio::any_io_executor executor, ClientConfig config, const core::Clock& clock);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Errors: kDeadlineExceeded (expired before sending: nothing sent), kTimeout, kConnectFailed,
    /// kConnectionClosed, kProtocolError (malformed or oversized response), kOverloaded (wait
    /// queue full), kCancelled (close()). Any HTTP status is a value.
    boost::asio::awaitable<core::Result<Response>> async_request(
        std::string_view method, std::string_view target, std::string_view body,
        std::span<const Header> headers, core::Deadline deadline, RequestControl control = {});

    /// Closes idle connections and fails waiters with kCancelled; later calls fail fast.
    void close();

    const ClientStats& stats() const noexcept;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace moneta::http_client
