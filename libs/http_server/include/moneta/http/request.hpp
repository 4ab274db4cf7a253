/// @file moneta/http/request.hpp
/// @brief An inbound HTTP request as handlers see it: views into the connection's buffers, no
/// Beast types (keeps Beast out of every handler's compile).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moneta/core/request_context.hpp"

namespace moneta::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };

std::string_view method_name(Method m) noexcept;

struct Header {
    std::string_view name;
    std::string_view value;
};

/// Views are valid until the handler's awaitable completes.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class Request {
public:
    static constexpr std::size_t kMaxParams = 4;
    /// route_id() of a request no route matched (not found, method not allowed, or answered
    /// before routing).
    static constexpr std::uint16_t kNoRoute = 0xFFFF;

    Method method() const noexcept { return method_; }
    std::string_view method_string() const noexcept { return method_string_; }
    /// Raw request-target as received.
    std::string_view target() const noexcept { return target_; }
    /// Target before '?', validated by the server (origin-form, no dot-segments, no %2e/%2f/%5c/%00).
    std::string_view path() const noexcept { return path_; }
    /// After '?', raw (may be empty).
    std::string_view query() const noexcept { return query_; }
    /// First header named @p name (case-insensitive).
    std::optional<std::string_view> header(std::string_view name) const noexcept;
    std::span<const Header> headers() const noexcept { return headers_; }
    std::string_view body() const noexcept { return body_; }
    std::string_view remote_ip() const noexcept { return remote_ip_; }
    /// The i-th `{param}` of the matched route ("" when absent).
    std::string_view path_param(std::size_t i) const noexcept {
        return i < param_count_ ? params_[i] : std::string_view{};
    }
    core::RequestContext& context() noexcept { return context_; }
    const core::RequestContext& context() const noexcept { return context_; }
    /// Which route of the router matched (Router::add's return value), or kNoRoute: telemetry
    /// labels requests by it instead of parsing the path again.
    std::uint16_t route_id() const noexcept { return route_id_; }

    /// An empty string with the capacity of this connection's previous response bodies. A
    /// handler that writes its body into it and returns it as Response::body allocates no body
    /// string per response: the server hands the storage back after the write.
    std::string take_response_buffer() noexcept {
        std::string s = std::move(response_buffer_);
        s.clear();
        return s;
    }

    // --- set by the server and router only ---
    /// The written body's storage, kept for the next take_response_buffer() (up to
    /// kMaxRecycledBody bytes of capacity: a rare large body is not kept for the connection's life).
    void recycle_response_buffer(std::string&& body) noexcept {
        if (body.capacity() > response_buffer_.capacity() && body.capacity() <= kMaxRecycledBody) {
            response_buffer_ = std::move(body);
        }
    }
    static constexpr std::size_t kMaxRecycledBody = 64 * 1024;
    void set_line(Method m, std::string_view method_string, std::string_view target) noexcept;
    void set_body(std::string_view body) noexcept { body_ = body; }
    void set_remote_ip(std::string_view ip) noexcept { remote_ip_ = ip; }
    std::vector<Header>& mutable_headers() noexcept { return headers_; }
    void clear_params() noexcept { param_count_ = 0; }
    void set_route_id(std::uint16_t id) noexcept { route_id_ = id; }
    bool add_param(std::string_view v) noexcept;

private:
    Method method_ = Method::kOther;
    std::string_view method_string_;
    std::string_view target_;
    std::string_view path_;
    std::string_view query_;
    std::vector<Header> headers_;
    std::string_view body_;
    std::string_view remote_ip_;
    std::array<std::string_view, kMaxParams> params_{};
    std::size_t param_count_ = 0;
    std::uint16_t route_id_ = kNoRoute;
    core::RequestContext context_;
    std::string response_buffer_;  ///< see take_response_buffer()
};

}  // namespace moneta::http
