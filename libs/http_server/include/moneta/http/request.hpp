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

/// The request headers the server and moneta read on every request. The server's one pass over
/// the head (check_head) notes each one's first occurrence, so Request::header(KnownHeader) is a
/// lookup, not a scan of every field with a case-insensitive compare (issue 11: seven such scans
/// per heartbeat). Any other name: Request::header(std::string_view).
enum class KnownHeader : std::uint8_t {
    kAuthorization,
    kContentType,
    kUserAgent,
    kXRequestId,
    kTraceparent,
    kElasticApmTraceparent,
    kTracestate,
    kXRequestTimeoutMs,
    kCount,  ///< not a header
};

/// The lower-case name of @p h ("" for kCount).
std::string_view known_header_name(KnownHeader h) noexcept;

/// Where the server notes the known headers while it cuts the head into fields: the first
/// occurrence of each (its OWS-trimmed value, a view like Header::value), and which are present.
class KnownHeaderIndex {
public:
    static constexpr std::size_t kSize = static_cast<std::size_t>(KnownHeader::kCount);
    /// Bit of @p h in the masks forget() takes.
    static constexpr std::uint32_t bit(KnownHeader h) noexcept { return 1U << static_cast<unsigned>(h); }

    /// Nothing noted (one store: the values of absent headers are never read).
    void reset() noexcept { present_ = 0; }
    /// Records @p value for @p h unless @p h was already noted: the first occurrence counts.
    void note(KnownHeader h, std::string_view value) noexcept {
        const std::uint32_t b = bit(h);
        if ((present_ & b) == 0) {
            present_ |= b;
            values_[static_cast<std::size_t>(h)] = value;
        }
    }
    std::optional<std::string_view> get(KnownHeader h) const noexcept {
        if ((present_ & bit(h)) == 0) {
            return std::nullopt;
        }
        return values_[static_cast<std::size_t>(h)];
    }
    /// Drops the headers in @p mask (the fields the edge-trust step removed from the request).
    void forget(std::uint32_t mask) noexcept { present_ &= ~mask; }

private:
    std::uint32_t present_ = 0;
    std::array<std::string_view, kSize> values_{};
};

/// What a handler wrapper took for one request and the server settles when the request is over:
/// moneta's load shedding leaves its concurrency permit here. A function and two words, so the
/// wrapper can hand on its inner handler's awaitable instead of awaiting it in a coroutine of its
/// own (a frame per request) just to run code after it.
struct EndHook {
    /// @p status: the response's status once the handler returned (500 when it threw), or 0 when
    /// the request ended without one (the Request destroyed with the hook pending: its
    /// connection's coroutine destroyed while the handler was suspended).
    using Fn = void (*)(void* owner, std::int64_t word, int status) noexcept;
    Fn fn = nullptr;
    void* owner = nullptr;
    std::int64_t word = 0;  ///< the wrapper's own value (moneta: when the permit was taken)
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
    /// The same for a known header, without a scan when the server indexed the fields (a request
    /// whose fields were set through mutable_headers(), e.g. in a test, is scanned as above).
    std::optional<std::string_view> header(KnownHeader h) const noexcept {
        return indexed_ ? known_.get(h) : header(known_header_name(h));
    }
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

    /// Leaves @p hook to run exactly once when this request ends: from end(), which the server
    /// calls when the handler has returned or thrown, or from the Request's destructor. One per
    /// request: a pending one is ended first, with status 0.
    void set_end_hook(EndHook hook) noexcept { end_.set(hook); }
    /// Runs the pending end hook, if any, with @p status (the server, after the handler).
    void end(int status) noexcept { end_.run(status); }

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
    /// The same, with the path's length already known (the bytes before the first '?', all of
    /// @p target without one): the server's parse found it, so no second search.
    void set_line(Method m, std::string_view method_string, std::string_view target, std::size_t path_len) noexcept;
    void set_body(std::string_view body) noexcept { body_ = body; }
    void set_remote_ip(std::string_view ip) noexcept { remote_ip_ = ip; }
    /// The fields, to set by hand: header(KnownHeader) scans them from then on.
    std::vector<Header>& mutable_headers() noexcept {
        indexed_ = false;
        return headers_;
    }
    /// What the server's one pass over the head fills: the fields and the index of the known
    /// ones, which header(KnownHeader) reads from then on. The two must be kept in step (the
    /// edge-trust step removes fields: it forgets them in the index too).
    struct IndexedFields {
        std::vector<Header>& fields;
        KnownHeaderIndex& known;
    };
    IndexedFields indexed_fields() noexcept {
        indexed_ = true;
        return {headers_, known_};
    }
    void clear_params() noexcept { param_count_ = 0; }
    void set_route_id(std::uint16_t id) noexcept { route_id_ = id; }
    bool add_param(std::string_view v) noexcept {
        if (param_count_ == kMaxParams) {
            return false;
        }
        params_[param_count_++] = v;
        return true;
    }

private:
    /// The pending EndHook: moved with the Request, never copied, run at the latest when the
    /// Request is destroyed, so what it settles cannot leak.
    class PendingEnd {
    public:
        PendingEnd() noexcept = default;
        PendingEnd(PendingEnd&& other) noexcept : hook_(std::exchange(other.hook_, {})) {}
        PendingEnd& operator=(PendingEnd&& other) noexcept {
            if (this != &other) {
                run(0);
                hook_ = std::exchange(other.hook_, {});
            }
            return *this;
        }
        PendingEnd(const PendingEnd&) = delete;
        PendingEnd& operator=(const PendingEnd&) = delete;
        ~PendingEnd() { run(0); }

        void set(EndHook hook) noexcept {
            run(0);
            hook_ = hook;
        }
        void run(int status) noexcept {
            if (hook_.fn != nullptr) {
                const EndHook h = std::exchange(hook_, {});
                h.fn(h.owner, h.word, status);
            }
        }

    private:
        EndHook hook_;
    };

    Method method_ = Method::kOther;
    std::string_view method_string_;
    std::string_view target_;
    std::string_view path_;
    std::string_view query_;
    std::vector<Header> headers_;
    KnownHeaderIndex known_;
    bool indexed_ = false;  ///< known_ holds headers_' known fields (set by indexed_fields())
    std::string_view body_;
    std::string_view remote_ip_;
    std::array<std::string_view, kMaxParams> params_{};
    std::size_t param_count_ = 0;
    std::uint16_t route_id_ = kNoRoute;
    core::RequestContext context_;
    std::string response_buffer_;  ///< see take_response_buffer()
    PendingEnd end_;               ///< see set_end_hook()
};

}  // namespace moneta::http
