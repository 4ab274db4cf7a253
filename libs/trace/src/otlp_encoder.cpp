#include "moneta/trace/otlp_encoder.hpp"

#include <cstdint>

namespace moneta::trace {
namespace {

// Wire types.
constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kFixed64 = 1;
constexpr std::uint32_t kLen = 2;
constexpr std::uint32_t kFixed32 = 5;

// Field numbers (opentelemetry-proto; tests/libs/trace/proto holds the upstream definitions).
namespace f {
constexpr std::uint32_t kRequestResourceSpans = 1;  // ExportTraceServiceRequest.resource_spans
constexpr std::uint32_t kRsResource = 1;            // ResourceSpans.resource
constexpr std::uint32_t kRsScopeSpans = 2;          // ResourceSpans.scope_spans
constexpr std::uint32_t kResourceAttributes = 1;    // Resource.attributes
constexpr std::uint32_t kSsScope = 1;               // ScopeSpans.scope
constexpr std::uint32_t kSsSpans = 2;               // ScopeSpans.spans
constexpr std::uint32_t kScopeName = 1;             // InstrumentationScope.name
constexpr std::uint32_t kScopeVersion = 2;          // InstrumentationScope.version
constexpr std::uint32_t kKvKey = 1;                 // KeyValue.key
constexpr std::uint32_t kKvValue = 2;               // KeyValue.value
constexpr std::uint32_t kAnyString = 1;             // AnyValue.string_value
constexpr std::uint32_t kAnyInt = 3;                // AnyValue.int_value
constexpr std::uint32_t kSpanTraceId = 1;
constexpr std::uint32_t kSpanSpanId = 2;
constexpr std::uint32_t kSpanParentSpanId = 4;
constexpr std::uint32_t kSpanName = 5;
constexpr std::uint32_t kSpanKind = 6;
constexpr std::uint32_t kSpanStart = 7;
constexpr std::uint32_t kSpanEnd = 8;
constexpr std::uint32_t kSpanAttributes = 9;
constexpr std::uint32_t kSpanStatus = 15;
constexpr std::uint32_t kSpanFlags = 16;
constexpr std::uint32_t kStatusCode = 3;  // Status.code (1 is reserved)
}  // namespace f

std::size_t varint_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7U;
        ++n;
    }
    return n;
}

std::size_t tag_size(std::uint32_t field) noexcept { return varint_size(field << 3U); }

/// Size of a length-delimited field holding @p len bytes.
std::size_t len_field_size(std::uint32_t field, std::size_t len) noexcept {
    return tag_size(field) + varint_size(len) + len;
}

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7FU) | 0x80U));
        v >>= 7U;
    }
    out.push_back(static_cast<char>(v));
}

void put_tag(std::string& out, std::uint32_t field, std::uint32_t wire) { put_varint(out, (field << 3U) | wire); }

void put_len(std::string& out, std::uint32_t field, std::size_t len) {
    put_tag(out, field, kLen);
    put_varint(out, len);
}

void put_bytes(std::string& out, std::uint32_t field, std::string_view s) {
    put_len(out, field, s.size());
    out.append(s);
}

template <std::size_t N>
std::string_view as_bytes(const std::array<std::uint8_t, N>& a) noexcept {
    return {reinterpret_cast<const char*>(a.data()), N};
}

void put_fixed64(std::string& out, std::uint32_t field, std::uint64_t v) {
    put_tag(out, field, kFixed64);
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>(v >> (8U * static_cast<unsigned>(i))));
    }
}

void put_fixed32(std::string& out, std::uint32_t field, std::uint32_t v) {
    put_tag(out, field, kFixed32);
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>(v >> (8U * static_cast<unsigned>(i))));
    }
}

// --- KeyValue with a string or int value ---

std::size_t any_string_size(std::string_view v) noexcept { return len_field_size(f::kAnyString, v.size()); }
std::size_t any_int_size(std::int64_t v) noexcept {
    return tag_size(f::kAnyInt) + varint_size(static_cast<std::uint64_t>(v));
}
std::size_t kv_string_size(std::string_view k, std::string_view v) noexcept {
    return len_field_size(f::kKvKey, k.size()) + len_field_size(f::kKvValue, any_string_size(v));
}
std::size_t kv_int_size(std::string_view k, std::int64_t v) noexcept {
    return len_field_size(f::kKvKey, k.size()) + len_field_size(f::kKvValue, any_int_size(v));
}

void put_kv_string(std::string& out, std::uint32_t field, std::string_view k, std::string_view v) {
    put_len(out, field, kv_string_size(k, v));
    put_bytes(out, f::kKvKey, k);
    put_len(out, f::kKvValue, any_string_size(v));
    put_bytes(out, f::kAnyString, v);
}

void put_kv_int(std::string& out, std::uint32_t field, std::string_view k, std::int64_t v) {
    put_len(out, field, kv_int_size(k, v));
    put_bytes(out, f::kKvKey, k);
    put_len(out, f::kKvValue, any_int_size(v));
    put_tag(out, f::kAnyInt, kVarint);
    put_varint(out, static_cast<std::uint64_t>(v));
}

/// Visits the span's present attributes as (key, string) or (key, int) pairs, in a fixed order.
template <class Str, class Int>
void for_each_attribute(const SpanRecord& s, Str&& str, Int&& num) {
    if (!s.http_method.empty()) {
        str("http.request.method", s.http_method.view());
    }
    if (!s.http_route.empty()) {
        str("http.route", s.http_route.view());
    }
    if (s.http_status != 0) {
        num("http.response.status_code", s.http_status);
    }
    if (!s.db_operation.empty()) {
        str("db.system", "redis");
        str("db.operation", s.db_operation.view());
    }
    if (!s.server_address.empty()) {
        str("server.address", s.server_address.view());
    }
    if (s.server_port != 0) {
        num("server.port", s.server_port);
    }
    if (!s.peer_service.empty()) {
        str("peer.service", s.peer_service.view());
    }
    if (!s.error_type.empty()) {
        str("error.type", s.error_type.view());
    }
}

std::size_t status_size(const SpanRecord& s) noexcept {
    return s.status == StatusCode::kUnset ? 0 : tag_size(f::kStatusCode) + 1;
}

std::size_t span_size(const SpanRecord& s) noexcept {
    std::size_t n = len_field_size(f::kSpanTraceId, 16) + len_field_size(f::kSpanSpanId, 8);
    if (s.has_parent()) {
        n += len_field_size(f::kSpanParentSpanId, 8);
    }
    n += len_field_size(f::kSpanName, s.name.len);
    n += tag_size(f::kSpanKind) + 1;
    n += (tag_size(f::kSpanStart) + 8) + (tag_size(f::kSpanEnd) + 8);
    for_each_attribute(
        s, [&](std::string_view k, std::string_view v) { n += len_field_size(f::kSpanAttributes, kv_string_size(k, v)); },
        [&](std::string_view k, std::int64_t v) { n += len_field_size(f::kSpanAttributes, kv_int_size(k, v)); });
    n += len_field_size(f::kSpanStatus, status_size(s));
    if (s.flags != 0) {
        n += tag_size(f::kSpanFlags) + 4;
    }
    return n;
}

void put_span(std::string& out, const SpanRecord& s) {
    put_len(out, f::kSsSpans, span_size(s));
    put_bytes(out, f::kSpanTraceId, as_bytes(s.trace_id));
    put_bytes(out, f::kSpanSpanId, as_bytes(s.span_id));
    if (s.has_parent()) {
        put_bytes(out, f::kSpanParentSpanId, as_bytes(s.parent_span_id));
    }
    put_bytes(out, f::kSpanName, s.name.view());
    put_tag(out, f::kSpanKind, kVarint);
    put_varint(out, static_cast<std::uint8_t>(s.kind));
    put_fixed64(out, f::kSpanStart, static_cast<std::uint64_t>(s.start_unix_ns));
    put_fixed64(out, f::kSpanEnd, static_cast<std::uint64_t>(s.end_unix_ns));
    for_each_attribute(
        s, [&](std::string_view k, std::string_view v) { put_kv_string(out, f::kSpanAttributes, k, v); },
        [&](std::string_view k, std::int64_t v) { put_kv_int(out, f::kSpanAttributes, k, v); });
    // Status always present (an empty message = UNSET), so receivers see an explicit status.
    put_len(out, f::kSpanStatus, status_size(s));
    if (s.status != StatusCode::kUnset) {
        put_tag(out, f::kStatusCode, kVarint);
        put_varint(out, static_cast<std::uint8_t>(s.status));
    }
    if (s.flags != 0) {  // proto3: a zero scalar is not written
        put_fixed32(out, f::kSpanFlags, s.flags);
    }
}

}  // namespace

OtlpEncoder::OtlpEncoder(ResourceInfo resource) : resource_(std::move(resource)) {
    auto attr = [this](std::string_view k, std::string_view v) {
        if (!v.empty()) {
            put_kv_string(resource_bytes_, f::kResourceAttributes, k, v);
        }
    };
    attr("service.name", resource_.service_name);
    attr("service.version", resource_.service_version);
    attr("host.name", resource_.host_name);
    attr("deployment.environment", resource_.deployment_environment);
    put_bytes(scope_bytes_, f::kScopeName, resource_.scope_name);
    if (!resource_.scope_version.empty()) {
        put_bytes(scope_bytes_, f::kScopeVersion, resource_.scope_version);
    }
}

std::string_view OtlpEncoder::encode(std::span<const SpanRecord> spans) {
    out_.clear();
    std::size_t spans_len = 0;
    for (const SpanRecord& s : spans) {
        spans_len += len_field_size(f::kSsSpans, span_size(s));
    }
    const std::size_t scope_spans_len = len_field_size(f::kSsScope, scope_bytes_.size()) + spans_len;
    const std::size_t rs_len =
        len_field_size(f::kRsResource, resource_bytes_.size()) + len_field_size(f::kRsScopeSpans, scope_spans_len);
    out_.reserve(len_field_size(f::kRequestResourceSpans, rs_len));
    put_len(out_, f::kRequestResourceSpans, rs_len);
    put_len(out_, f::kRsResource, resource_bytes_.size());
    out_.append(resource_bytes_);
    put_len(out_, f::kRsScopeSpans, scope_spans_len);
    put_len(out_, f::kSsScope, scope_bytes_.size());
    out_.append(scope_bytes_);
    for (const SpanRecord& s : spans) {
        put_span(out_, s);
    }
    return out_;
}

}  // namespace moneta::trace
