#include "handlers/http_util.hpp"

#include <algorithm>
#include <cstdint>

#include "domain/requests.hpp"
#include "moneta/core/error.hpp"
#include "moneta/core/swar.hpp"
#include "moneta/resilience/fallback.hpp"

namespace moneta::handlers {

http::Response json(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = "application/json";
    return r;
}

http::Response error(domain::ApiError e, std::int64_t now_ms, std::string_view details_json,
                     int retry_after_sec) {
    const auto& row = domain::info(e);
    http::Response r = json(row.status, domain::error_body(e, now_ms, details_json));
    // Every retryable "try again later" answer says when: 429, 503 and 504 (api.md).
    if (row.status == 429 || row.status == 503 || row.status == 504) {
        r.headers.emplace_back("Retry-After", std::to_string(retry_after_sec));
    }
    return r;
}

http::Response no_content() {
    http::Response r;
    r.status = 204;
    return r;
}

domain::ApiError upstream_error(const boost::system::error_code& failure) noexcept {
    using core::Errc;
    // A fallback that failed too answers with the fallback's cause (the last thing tried).
    const boost::system::error_code ec = resilience::effective_error(failure);
    if (ec == Errc::kTimeout || ec == Errc::kDeadlineExceeded) {
        return domain::ApiError::kUpstreamTimeout;
    }
    if (ec == Errc::kUpstreamError || ec == Errc::kProtocolError) {
        return domain::ApiError::kUpstreamError;
    }
    if (ec == Errc::kOverloaded) {
        return domain::ApiError::kOverloaded;  // our own bulkhead or client-side throttle said no
    }
    return domain::ApiError::kUpstreamUnavailable;
}

domain::ApiError store_error(const boost::system::error_code& ec) noexcept {
    return upstream_error(ec) == domain::ApiError::kUpstreamTimeout ? domain::ApiError::kUpstreamTimeout
                                                                    : domain::ApiError::kUpstreamUnavailable;
}

std::optional<std::string_view> id_param(const http::Request& req, std::size_t index) noexcept {
    const std::string_view id = req.path_param(index);
    if (!domain::is_valid_id(id)) {
        return std::nullopt;
    }
    return id;
}

http::Response bad_id(std::int64_t now_ms) {
    return error(domain::ApiError::kInvalidRequest, now_ms, R"({"field":"id","reason":"must match [A-Za-z0-9_-]{1,64}"})");
}

http::Response invalid_request(const domain::FieldError& e, std::int64_t now_ms) {
    return error(domain::ApiError::kInvalidRequest, now_ms, domain::field_error_details(e));
}

bool has_json_content_type(const http::Request& req) noexcept {
    const auto ct = req.header(http::KnownHeader::kContentType);
    if (!ct) {
        return false;
    }
    std::string_view v = *ct;
    // The value every client sends, "application/json" in some case, as two eight-byte words
    // with the case bit set: x | 0x20 is the lower-case letter only for that letter in either
    // case, and the one non-letter, '/', is compared as it is (the byte loop below cost ~150
    // instructions per request).
    if (v.size() == 16 && v[11] == '/') {
        constexpr std::uint64_t kFold = 0x2020202020202020ULL;
        if ((core::swar::load8(v.data()) | kFold) == core::swar::load8("applicat") &&
            (core::swar::load8(v.data() + 8) | kFold) == core::swar::load8("ion/json")) {
            return true;
        }
    }
    const auto semi = v.find(';');
    if (semi != std::string_view::npos) {
        v = v.substr(0, semi);
    }
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
        v.remove_suffix(1);
    }
    constexpr std::string_view kJson = "application/json";
    return v.size() == kJson.size() &&
           std::equal(v.begin(), v.end(), kJson.begin(), [](char a, char b) {
               // ASCII only, inline: std::tolower is a locale-aware libc call per byte.
               return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + 32) : a) == b;
           });
}

}  // namespace moneta::handlers
