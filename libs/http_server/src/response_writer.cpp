#include "response_writer.hpp"

#include <charconv>

#include "moneta/core/small_copy.hpp"
#include "strict.hpp"

namespace moneta::http::detail {
namespace {

bool valid_header(std::string_view name, std::string_view value) noexcept {
    if (name.empty()) {
        return false;
    }
    for (char c : name) {
        if (!is_tchar(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    for (char c : value) {
        if (c == '\r' || c == '\n' || c == '\0') {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string_view DateCache::now() noexcept {
    const std::time_t t = std::time(nullptr);
    if (t != second_ || len_ == 0) {
        std::tm tm{};
        gmtime_r(&t, &tm);
        len_ = std::strftime(buf_, sizeof buf_, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        second_ = t;
    }
    return {buf_, len_};
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Entity";
        case 423: return "Locked";
        case 425: return "Too Early";
        case 426: return "Upgrade Required";
        case 428: return "Precondition Required";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 451: return "Unavailable For Legal Reasons";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "";
    }
}

std::string_view serialize_head(std::string& out, const Response& r, const HeadOptions& o) {
    const int status = r.status >= 100 && r.status <= 999 ? r.status : 500;
    const std::string_view reason = reason_phrase(status);
    const bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    // Sized first, then written with raw stores: ~15 std::string appends (a call and a capacity
    // check each) cost ~700 instructions per response (docs/performance.md, eleventh round).
    // The status line, Date, Content-Type, Content-Length, X-Request-Id, Retry-After and Connection
    // without their values, and the blank line: 135 bytes.
    constexpr std::size_t kFixed = 192;
    std::size_t bound = kFixed + reason.size() + o.date.size() + r.content_type.size() + o.request_id.size();
    for (const auto& [name, value] : r.headers) {
        bound += name.size() + value.size() + 4;
    }
    out.clear();
    out.resize(bound);
    char* const start = out.data();
    char* p = start;
    const auto put = [&p](std::string_view s) { p = core::put_bytes(p, s); };
    const auto field = [&](std::string_view name, std::string_view value) {
        put(name);
        put(": ");
        put(value);
        put("\r\n");
    };
    put(o.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    p[0] = static_cast<char>('0' + status / 100);
    p[1] = static_cast<char>('0' + status / 10 % 10);
    p[2] = static_cast<char>('0' + status % 10);
    p[3] = ' ';
    p += 4;
    put(reason);
    put("\r\n");
    field("Date", o.date);
    if (!r.body.empty()) {
        field("Content-Type", r.content_type);
    }
    if (!no_body) {
        put("Content-Length: ");
        p = std::to_chars(p, p + 20, r.body.size()).ptr;
        put("\r\n");
    }
    if (!o.request_id.empty()) {
        field("X-Request-Id", o.request_id);
    }
    bool has_retry_after = false;
    for (const auto& [name, value] : r.headers) {
        if (!valid_header(name, value)) {
            continue;
        }
        field(name, value);
        has_retry_after = has_retry_after || iequals_lower(name, "retry-after");
    }
    // Every 503/504 is retryable: tell the client when (RFC 9110 §10.2.3), whoever built it.
    if ((status == 503 || status == 504) && !has_retry_after) {
        field("Retry-After", "1");
    }
    if (o.version == 10) {
        if (o.keep_alive) {
            field("Connection", "keep-alive");
        }
    } else if (!o.keep_alive) {
        field("Connection", "close");
    }
    put("\r\n");
    out.resize(static_cast<std::size_t>(p - start));
    if (no_body || o.head_method) {
        return {};
    }
    return r.body;
}

}  // namespace moneta::http::detail
