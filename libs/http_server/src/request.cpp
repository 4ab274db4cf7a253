#include "moneta/http/request.hpp"

#include <array>
#include <cstddef>

namespace moneta::http {
namespace {

// ASCII case folding by table: a header lookup compares names of equal length byte by byte,
// and two range checks per byte were most of its cost (a heartbeat makes seven lookups).
constexpr std::array<unsigned char, 256> kLower = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[static_cast<std::size_t>(c)] = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return t;
}();

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (kLower[static_cast<unsigned char>(a[i])] != kLower[static_cast<unsigned char>(b[i])]) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string_view method_name(Method m) noexcept {
    switch (m) {
        case Method::kGet: return "GET";
        case Method::kHead: return "HEAD";
        case Method::kPost: return "POST";
        case Method::kPut: return "PUT";
        case Method::kDelete: return "DELETE";
        case Method::kPatch: return "PATCH";
        case Method::kOptions: return "OPTIONS";
        case Method::kOther: break;
    }
    return "OTHER";
}

std::string_view known_header_name(KnownHeader h) noexcept {
    switch (h) {
        case KnownHeader::kAuthorization: return "authorization";
        case KnownHeader::kContentType: return "content-type";
        case KnownHeader::kUserAgent: return "user-agent";
        case KnownHeader::kXRequestId: return "x-request-id";
        case KnownHeader::kTraceparent: return "traceparent";
        case KnownHeader::kElasticApmTraceparent: return "elastic-apm-traceparent";
        case KnownHeader::kTracestate: return "tracestate";
        case KnownHeader::kXRequestTimeoutMs: return "x-request-timeout-ms";
        case KnownHeader::kCount: break;
    }
    return {};
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
    for (const Header& h : headers_) {
        if (iequals(h.name, name)) {
            return h.value;
        }
    }
    return std::nullopt;
}

void Request::set_line(Method m, std::string_view method_string, std::string_view target) noexcept {
    const auto q = target.find('?');
    set_line(m, method_string, target, q == std::string_view::npos ? target.size() : q);
}

void Request::set_line(Method m, std::string_view method_string, std::string_view target,
                       std::size_t path_len) noexcept {
    method_ = m;
    route_id_ = kNoRoute;
    method_string_ = method_string;
    target_ = target;
    path_ = target.substr(0, path_len);
    query_ = path_len < target.size() ? target.substr(path_len + 1) : std::string_view{};
}

}  // namespace moneta::http
