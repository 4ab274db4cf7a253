/// @file moneta/trace/span.hpp
/// @brief One finished span as a fixed-size, trivially copyable record: what a worker copies
/// into its ring and the exporter's thread encodes. No pointers into request memory (the
/// request's buffers are reused before the exporter reads the record), no allocation.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace moneta::trace {

/// OTLP `Span.SpanKind` values (trace.proto), so the encoder writes the enum as is.
enum class SpanKind : std::uint8_t { kInternal = 1, kServer = 2, kClient = 3 };

/// OTLP `Status.StatusCode` values.
enum class StatusCode : std::uint8_t { kUnset = 0, kOk = 1, kError = 2 };

/// A string of at most N bytes stored inline; longer input is cut (attribute values here are
/// route templates, method names, script names, host names: short and from bounded sets).
template <std::size_t N>
struct FixedText {
    static_assert(N < 256);
    std::uint8_t len = 0;
    char data[N];

    void assign(std::string_view s) noexcept {
        len = static_cast<std::uint8_t>(std::min(s.size(), N));
        if (len != 0) {  // an empty view may hold a null pointer: memcpy must not see it
            std::memcpy(data, s.data(), len);
        }
    }
    /// "@p a @p b" (just @p a when @p b is empty), cut at N.
    void assign_joined(std::string_view a, std::string_view b) noexcept {
        assign(a);
        if (b.empty() || len == N) {
            return;
        }
        data[len++] = ' ';
        const std::size_t n = std::min(b.size(), N - len);
        std::memcpy(data + len, b.data(), n);
        len = static_cast<std::uint8_t>(len + n);
    }
    /// The three digits of an HTTP status (100..999), e.g. error.type "503".
    void assign_status(int status) noexcept {
        const char code[3] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                              static_cast<char>('0' + status % 10)};
        assign(std::string_view(code, 3));
    }
    std::string_view view() const noexcept { return {data, len}; }
    bool empty() const noexcept { return len == 0; }
};

/// The fixed attribute set (docs/tracing.md). An empty text / zero number is "absent" and not
/// encoded. Never raw paths, session or user ids: http.route is the route template.
struct SpanRecord {
    std::array<std::uint8_t, 16> trace_id{};
    std::array<std::uint8_t, 8> span_id{};
    std::array<std::uint8_t, 8> parent_span_id{};  ///< all zero: a root span
    std::uint8_t flags = 0;                         ///< W3C trace flags (bit 0: sampled)
    SpanKind kind = SpanKind::kInternal;
    StatusCode status = StatusCode::kUnset;
    std::int64_t start_unix_ns = 0;
    std::int64_t end_unix_ns = 0;
    FixedText<64> name;
    FixedText<16> http_method;        ///< http.request.method
    FixedText<64> http_route;         ///< http.route (template)
    std::int32_t http_status = 0;     ///< http.response.status_code
    FixedText<48> db_operation;       ///< db.operation; when set, db.system=redis is added
    FixedText<64> server_address;     ///< server.address
    std::uint16_t server_port = 0;    ///< server.port
    FixedText<32> peer_service;       ///< peer.service
    FixedText<48> error_type;         ///< error.type

    bool has_parent() const noexcept {
        return std::any_of(parent_span_id.begin(), parent_span_id.end(), [](std::uint8_t b) { return b != 0; });
    }
};

}  // namespace moneta::trace
