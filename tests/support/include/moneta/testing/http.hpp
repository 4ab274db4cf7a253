/// @file moneta/testing/http.hpp
/// @brief A tiny blocking HTTP/1.1 client over raw sockets, for asserting on servers in tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moneta::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// A parsed response. On a transport failure status is 0 and error says what happened.
struct HttpReply {
    int status = 0;
    std::string body;
    HttpHeaders headers;  ///< in wire order; names as sent
    std::string error;    ///< empty on success

    /// First header named @p name (case-insensitive), value with surrounding blanks trimmed.
    std::optional<std::string> header(std::string_view name) const;
    /// Every header named @p name (e.g. Set-Cookie).
    std::vector<std::string> headers_named(std::string_view name) const;
    bool ok() const noexcept { return error.empty() && status != 0; }
};

/// One request on a fresh connection (`Connection: close`). Adds `Host: 127.0.0.1:<port>` and
/// `Content-Length` unless @p headers already has them. Bodies framed by Content-Length,
/// chunked encoding or connection close are all understood; HEAD/1xx/204/304 have no body.
HttpReply http_call(std::uint16_t port,
                    std::string_view method,
                    std::string_view target,
                    std::string_view body = {},
                    HttpHeaders headers = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// http_call from the local address @p source_ip (e.g. "127.0.0.2"), so a server sees another
/// peer address than 127.0.0.1 (the edge tests' CDN ranges).
HttpReply http_call_from(std::string_view source_ip,
                         std::uint16_t port,
                         std::string_view method,
                         std::string_view target,
                         std::string_view body = {},
                         HttpHeaders headers = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// A keep-alive connection: several requests in sequence on one socket (for tests that check
/// keep-alive, idle timeouts or per-connection limits). Reconnects are NOT automatic: after the
/// server closes, is_open() is false and call() returns an error reply.
/// Movable, not copyable.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class HttpConnection {
public:
    /// Connects to 127.0.0.1:@p port; check is_open().
    explicit HttpConnection(std::uint16_t port,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));
    HttpConnection(HttpConnection&& other) noexcept;
    HttpConnection& operator=(HttpConnection&& other) noexcept;
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;
    ~HttpConnection();

    bool is_open() const noexcept { return fd_ >= 0; }
    /// Sends one request (HTTP/1.1, keep-alive) and reads its response. The connection is closed
    /// when the response says `Connection: close` or on any error.
    HttpReply call(std::string_view method,
                   std::string_view target,
                   std::string_view body = {},
                   HttpHeaders headers = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Sends raw bytes on this connection (e.g. half a request); false on error.
    bool send_raw(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Reads one response (after send_raw).
    HttpReply read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                         bool head_request = false);
    /// True when the server has closed the connection (EOF or reset seen within @p wait).
    bool peer_closed(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
    void close() noexcept;

private:
    std::uint16_t port_ = 0;
    int fd_ = -1;
    std::string buffer_;  // bytes read past the previous response
};

/// Sends @p bytes on a fresh connection, then reads until the server closes or @p timeout passes.
/// @return everything received (possibly empty).
std::string raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout);

/// Parses one complete response from @p raw (as returned by raw_exchange).
/// @return nullopt when @p raw is not a complete HTTP/1.x response.
std::optional<HttpReply> parse_http_reply(std::string_view raw, bool head_request = false);

}  // namespace moneta::testing
