#include "response_writer.hpp"

#include <charconv>

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

void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ", 2);
    out.append(value);
    out.append("\r\n", 2);
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
    out.clear();
    const int status = r.status >= 100 && r.status <= 999 ? r.status : 500;
    out.append(o.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    append_number(out, static_cast<std::uint64_t>(status));
    out.push_back(' ');
    out.append(reason_phrase(status));
    out.append("\r\n", 2);
    append_field(out, "Date", o.date);
    if (!r.body.empty()) {
        append_field(out, "Content-Type", r.content_type);
    }
    const bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    if (!no_body) {
        out.append("Content-Length: ");
        append_number(out, r.body.size());
        out.append("\r\n", 2);
    }
    if (!o.request_id.empty()) {
        append_field(out, "X-Request-Id", o.request_id);
    }
    bool has_retry_after = false;
    for (const auto& [name, value] : r.headers) {
        if (!valid_header(name, value)) {
            continue;
        }
        append_field(out, name, value);
        has_retry_after = has_retry_after || iequals_lower(name, "retry-after");
    }
    // Every 503/504 is retryable: tell the client when (RFC 9110 §10.2.3), whoever built it.
    if ((status == 503 || status == 504) && !has_retry_after) {
        append_field(out, "Retry-After", "1");
    }
    if (o.version == 10) {
        if (o.keep_alive) {
            append_field(out, "Connection", "keep-alive");
        }
    } else if (!o.keep_alive) {
        append_field(out, "Connection", "close");
    }
    out.append("\r\n", 2);
    if (no_body || o.head_method) {
        return {};
    }
    return r.body;
}

}  // namespace moneta::http::detail
