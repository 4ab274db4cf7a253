// A stand-in for moneta behind nginx: a raw HTTP/1.1 server on 127.0.0.1:0 that records every
// request byte-exactly (request line, headers in wire order, body, which connection) and answers
// with a scripted response. Keep-alive is honoured, so nginx's upstream connection cache works.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "moneta/core/result.hpp"
#include "moneta/testing/http.hpp"

namespace moneta::deploy_test {

/// One request as the stub read it off the wire.
struct StubRequest {
    int connection = 0;        ///< 1-based accept order of the connection it arrived on
    std::string request_line;  ///< e.g. "GET /healthz HTTP/1.1", without CRLF
    std::string method;
    std::string target;
    testing::HttpHeaders headers;  ///< wire order, names and values exactly as sent
    std::string body;

    /// First header named @p name (case-insensitive).
    std::optional<std::string> header(std::string_view name) const;
    /// How many header lines are named @p name (case-insensitive).
    std::size_t count(std::string_view name) const;
    /// The raw head for failure messages (request line and header lines).
    std::string dump() const;
};

/// What the stub answers. The default is 200 with a small JSON body carrying server_time_ms,
/// plus headers an edge must not leak (a versioned Server, X-Powered-By).
struct StubResponse {
    int status = 200;
    std::string reason = "OK";
    testing::HttpHeaders headers = {
        {"Content-Type", "application/json"},
        {"Server", "stub-moneta/1.2.3"},
        {"X-Powered-By", "StubFramework/4.2"}};
    std::string body;             ///< empty = {"ok":true,"server_time_ms":<now>}
    bool echo_request_id = true;  ///< copy the request's X-Request-Id back, as moneta does
};

/// NOTE: one poll() thread serves every connection; requests are answered in order and never
/// concurrently, which is all nginx needs. Chunked request bodies are not supported (nginx
/// always re-frames bodies with Content-Length upstream); such a request is recorded and the
/// connection is closed.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (the test thread reads while the server runs).
class UpstreamStub {
public:
    /// Binds 127.0.0.1:0 and starts serving.
    static core::Result<std::unique_ptr<UpstreamStub>> start();

    UpstreamStub(const UpstreamStub&) = delete;
    UpstreamStub& operator=(const UpstreamStub&) = delete;
    ~UpstreamStub();

    std::uint16_t port() const noexcept { return port_; }
    /// Closes the listener and every connection and joins the thread: connects are refused after.
    void stop();

    void set_response(StubResponse response);
    std::vector<StubRequest> requests() const;
    std::size_t request_count() const;
    /// The last request; fails the calling test (and returns an empty one) when there is none.
    StubRequest last_request() const;
    int connections_accepted() const noexcept { return accepted_.load(); }

private:
    UpstreamStub() = default;
    void run();
    // Handles complete requests in @p in; false when the connection must be closed.
    bool serve(int fd, int connection, std::string& in);
    std::string render(const StubRequest& request) const;

    int listen_fd_ = -1;
    int wake_[2] = {-1, -1};  // pipe: stop() writes, run() wakes up and exits
    std::uint16_t port_ = 0;
    std::atomic<int> accepted_{0};
    std::thread thread_;
    mutable std::mutex mu_;
    std::vector<StubRequest> requests_;  // guarded by mu_
    StubResponse response_;              // guarded by mu_
};

}  // namespace moneta::deploy_test
