#include "handlers/http_util.hpp"

#include <algorithm>
#include <cctype>

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
    if (row.status == 429 || row.status == 503) {
        r.headers.emplace_back("Retry-After", std::to_string(retry_after_sec));
    }
    return r;
}

bool has_json_content_type(const http::Request& req) noexcept {
    const auto ct = req.header("content-type");
    if (!ct) {
        return false;
    }
    std::string_view v = *ct;
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
               return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

}  // namespace moneta::handlers
