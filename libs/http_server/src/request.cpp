#include "moneta/http/request.hpp"

#include <algorithm>

namespace moneta::http {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lx = static_cast<unsigned char>(x >= 'A' && x <= 'Z' ? x + 32 : x);
               const auto ly = static_cast<unsigned char>(y >= 'A' && y <= 'Z' ? y + 32 : y);
               return lx == ly;
           });
}

/// The KnownHeader @p name is (any case), or kKnownHeaders for any other: its length picks the
/// candidates, one comparison decides.
std::size_t classify(std::string_view name) noexcept {
    const auto is = [name](KnownHeader h) { return iequals(name, known_header_name(h)); };
    const auto id = [](KnownHeader h) { return static_cast<std::size_t>(h); };
    switch (name.size()) {
        case 6: return is(KnownHeader::kAccept) ? id(KnownHeader::kAccept) : kKnownHeaders;
        case 10:
            if (is(KnownHeader::kUserAgent)) return id(KnownHeader::kUserAgent);
            return is(KnownHeader::kTracestate) ? id(KnownHeader::kTracestate) : kKnownHeaders;
        case 11: return is(KnownHeader::kTraceparent) ? id(KnownHeader::kTraceparent) : kKnownHeaders;
        case 12:
            if (is(KnownHeader::kContentType)) return id(KnownHeader::kContentType);
            return is(KnownHeader::kXRequestId) ? id(KnownHeader::kXRequestId) : kKnownHeaders;
        case 13:
            if (is(KnownHeader::kAuthorization)) return id(KnownHeader::kAuthorization);
            return is(KnownHeader::kIfNoneMatch) ? id(KnownHeader::kIfNoneMatch) : kKnownHeaders;
        case 20: return is(KnownHeader::kXRequestTimeoutMs) ? id(KnownHeader::kXRequestTimeoutMs) : kKnownHeaders;
        case 23: return is(KnownHeader::kElasticApmTraceparent) ? id(KnownHeader::kElasticApmTraceparent) : kKnownHeaders;
        default: return kKnownHeaders;
    }
}

}  // namespace

std::string_view known_header_name(KnownHeader h) noexcept {
    switch (h) {
        case KnownHeader::kAccept: return "accept";
        case KnownHeader::kAuthorization: return "authorization";
        case KnownHeader::kContentType: return "content-type";
        case KnownHeader::kElasticApmTraceparent: return "elastic-apm-traceparent";
        case KnownHeader::kIfNoneMatch: return "if-none-match";
        case KnownHeader::kTraceparent: return "traceparent";
        case KnownHeader::kTracestate: return "tracestate";
        case KnownHeader::kUserAgent: return "user-agent";
        case KnownHeader::kXRequestId: return "x-request-id";
        case KnownHeader::kXRequestTimeoutMs: return "x-request-timeout-ms";
    }
    return {};
}

std::optional<std::string_view> Request::header(KnownHeader h) const noexcept {
    if (headers_.size() > kMaxIndexed) {
        return header(known_header_name(h));  // never with the server's header_count limits
    }
    if (!known_ready_) {
        index_known();
    }
    const std::uint16_t i = known_[static_cast<std::size_t>(h)];
    if (i == 0) {
        return std::nullopt;
    }
    return headers_[i - 1U].value;
}

void Request::index_known() const noexcept {
    known_.fill(0);
    for (std::size_t i = 0; i < headers_.size(); ++i) {
        const std::size_t k = classify(headers_[i].name);
        if (k < kKnownHeaders && known_[k] == 0) {
            known_[k] = static_cast<std::uint16_t>(i + 1);
        }
    }
    known_ready_ = true;
}

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

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
    for (const Header& h : headers_) {
        if (iequals(h.name, name)) {
            return h.value;
        }
    }
    return std::nullopt;
}

void Request::set_line(Method m, std::string_view method_string, std::string_view target) noexcept {
    known_ready_ = false;
    method_ = m;
    route_id_ = kNoRoute;
    method_string_ = method_string;
    target_ = target;
    const auto q = target.find('?');
    path_ = target.substr(0, q);
    query_ = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

bool Request::add_param(std::string_view v) noexcept {
    if (param_count_ == kMaxParams) {
        return false;
    }
    params_[param_count_++] = v;
    return true;
}

}  // namespace moneta::http
