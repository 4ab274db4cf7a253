#include "moneta/testing/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "socket_io.hpp"

namespace moneta::testing {
namespace {

using detail::Clock;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

bool contains_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (iequals(trim(value.substr(0, comma)), token)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        value.remove_prefix(comma + 1);
    }
    return false;
}

enum class Parse { kIncomplete, kDone, kBad };

// Decodes a chunked body starting at @p data; sets @p consumed to the bytes used (incl. trailers).
Parse parse_chunked(std::string_view data, std::string& body, std::size_t& consumed) {
    std::size_t pos = 0;
    body.clear();
    for (;;) {
        const auto eol = data.find("\r\n", pos);
        if (eol == std::string_view::npos) {
            return Parse::kIncomplete;
        }
        auto size_str = data.substr(pos, eol - pos);
        size_str = size_str.substr(0, size_str.find(';'));
        size_str = trim(size_str);
        std::size_t size = 0;
        const auto [p, ec] =
            std::from_chars(size_str.data(), size_str.data() + size_str.size(), size, 16);
        if (ec != std::errc{} || p != size_str.data() + size_str.size()) {
            return Parse::kBad;
        }
        pos = eol + 2;
        if (size == 0) {
            // Trailers end with an empty line.
            for (;;) {
                const auto end = data.find("\r\n", pos);
                if (end == std::string_view::npos) {
                    return Parse::kIncomplete;
                }
                const bool empty = end == pos;
                pos = end + 2;
                if (empty) {
                    consumed = pos;
                    return Parse::kDone;
                }
            }
        }
        if (data.size() < pos + size + 2) {
            return Parse::kIncomplete;
        }
        body.append(data.substr(pos, size));
        pos += size;
        if (data.substr(pos, 2) != "\r\n") {
            return Parse::kBad;
        }
        pos += 2;
    }
}

// Parses one response from the front of @p data. With @p eof, a body framed by connection close
// is complete.
Parse parse_one(std::string_view data, bool head, bool eof, HttpReply& out, std::size_t& consumed) {
    std::size_t offset = 0;
    for (;;) {  // skips interim 1xx responses
        const auto view = data.substr(offset);
        const auto end = view.find("\r\n\r\n");
        if (end == std::string_view::npos) {
            return eof && !view.empty() ? Parse::kBad : Parse::kIncomplete;
        }
        auto head_block = view.substr(0, end);
        const auto line_end = head_block.find("\r\n");
        const auto status_line = head_block.substr(0, line_end);
        if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
            status_line[8] != ' ') {
            return Parse::kBad;
        }
        int status = 0;
        const auto code = status_line.substr(9, 3);
        const auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
        if (ec != std::errc{} || p != code.data() + 3) {
            return Parse::kBad;
        }
        HttpReply reply;
        reply.status = status;
        std::string_view rest =
            line_end == std::string_view::npos ? std::string_view{} : head_block.substr(line_end + 2);
        while (!rest.empty()) {
            const auto eol = rest.find("\r\n");
            const auto line = rest.substr(0, eol);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) {
                return Parse::kBad;
            }
            reply.headers.emplace_back(std::string(line.substr(0, colon)),
                                       std::string(trim(line.substr(colon + 1))));
            if (eol == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(eol + 2);
        }
        const std::size_t body_start = offset + end + 4;
        if (status >= 100 && status < 200 && status != 101) {
            offset = body_start;
            continue;
        }
        const auto body_data = data.substr(body_start);
        if (head || status == 204 || status == 304 || status == 101) {
            consumed = body_start;
        } else if (auto te = reply.header("Transfer-Encoding"); te && contains_token(*te, "chunked")) {
            std::size_t used = 0;
            const auto r = parse_chunked(body_data, reply.body, used);
            if (r != Parse::kDone) {
                return r == Parse::kIncomplete && eof ? Parse::kBad : r;
            }
            consumed = body_start + used;
        } else if (auto cl = reply.header("Content-Length")) {
            std::size_t len = 0;
            const auto [q, ec2] = std::from_chars(cl->data(), cl->data() + cl->size(), len);
            if (ec2 != std::errc{} || q != cl->data() + cl->size()) {
                return Parse::kBad;
            }
            if (body_data.size() < len) {
                return eof ? Parse::kBad : Parse::kIncomplete;
            }
            reply.body.assign(body_data.substr(0, len));
            consumed = body_start + len;
        } else {
            if (!eof) {
                return Parse::kIncomplete;
            }
            reply.body.assign(body_data);
            consumed = data.size();
        }
        out = std::move(reply);
        return Parse::kDone;
    }
}

std::string build_request(std::uint16_t port,
                          std::string_view method,
                          std::string_view target,
                          std::string_view body,
                          const HttpHeaders& headers,
                          bool keep_alive) {
    auto has = [&](std::string_view name) {
        return std::any_of(headers.begin(), headers.end(),
                           [&](const auto& h) { return iequals(h.first, name); });
    };
    std::string req;
    req.reserve(256 + body.size());
    req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    if (!has("Host")) {
        req.append("Host: 127.0.0.1:").append(std::to_string(port)).append("\r\n");
    }
    for (const auto& [k, v] : headers) {
        req.append(k).append(": ").append(v).append("\r\n");
    }
    const bool wants_length = !body.empty() || method == "POST" || method == "PUT" ||
                              method == "PATCH";
    if (wants_length && !has("Content-Length") && !has("Transfer-Encoding")) {
        req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    if (!has("Connection")) {
        req.append(keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    }
    req.append("\r\n").append(body);
    return req;
}

HttpReply error_reply(std::string what) {
    HttpReply r;
    r.error = std::move(what);
    return r;
}

}  // namespace

std::optional<std::string> HttpReply::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) {
            return std::string(trim(v));
        }
    }
    return std::nullopt;
}

std::vector<std::string> HttpReply::headers_named(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) {
            out.emplace_back(trim(v));
        }
    }
    return out;
}

std::optional<HttpReply> parse_http_reply(std::string_view raw, bool head_request) {
    HttpReply reply;
    std::size_t consumed = 0;
    if (parse_one(raw, head_request, /*eof=*/true, reply, consumed) != Parse::kDone) {
        return std::nullopt;
    }
    return reply;
}

HttpConnection::HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout) : port_(port) {
    std::string error;
    fd_ = detail::connect_loopback(port, Clock::now() + timeout, error);
}

HttpConnection::HttpConnection(HttpConnection&& other) noexcept
    : port_(other.port_), fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

HttpConnection& HttpConnection::operator=(HttpConnection&& other) noexcept {
    if (this != &other) {
        close();
        port_ = other.port_;
        fd_ = std::exchange(other.fd_, -1);
        buffer_ = std::move(other.buffer_);
    }
    return *this;
}

HttpConnection::~HttpConnection() { close(); }

void HttpConnection::close() noexcept {
    detail::close_fd(std::exchange(fd_, -1));
    buffer_.clear();
}

bool HttpConnection::send_raw(std::string_view bytes, std::chrono::milliseconds timeout) {
    if (fd_ < 0) {
        return false;
    }
    std::string error;
    if (!detail::send_all(fd_, bytes, Clock::now() + timeout, error)) {
        close();
        return false;
    }
    return true;
}

HttpReply HttpConnection::read_reply(std::chrono::milliseconds timeout, bool head_request) {
    if (fd_ < 0) {
        return error_reply("connection is not open");
    }
    const auto deadline = Clock::now() + timeout;
    bool eof = false;
    for (;;) {
        HttpReply reply;
        std::size_t consumed = 0;
        const auto r = parse_one(buffer_, head_request, eof, reply, consumed);
        if (r == Parse::kDone) {
            buffer_.erase(0, consumed);
            const auto conn = reply.header("Connection");
            if (eof || (conn && contains_token(*conn, "close"))) {
                close();
            }
            return reply;
        }
        if (r == Parse::kBad || eof) {
            close();
            return error_reply(buffer_.empty() && eof ? "connection closed by peer"
                                                      : "malformed HTTP response");
        }
        std::string error;
        const long n = detail::recv_some(fd_, buffer_, deadline, error);
        if (n < 0) {
            close();
            return error_reply(error);
        }
        eof = n == 0;
    }
}

HttpReply HttpConnection::call(std::string_view method,
                               std::string_view target,
                               std::string_view body,
                               HttpHeaders headers,
                               std::chrono::milliseconds timeout) {
    if (fd_ < 0) {
        return error_reply("connection is not open");
    }
    const auto deadline = Clock::now() + timeout;
    if (!send_raw(build_request(port_, method, target, body, headers, /*keep_alive=*/true),
                  timeout)) {
        return error_reply("send failed");
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return read_reply(std::max(left, std::chrono::milliseconds(1)), method == "HEAD");
}

bool HttpConnection::peer_closed(std::chrono::milliseconds wait) {
    if (fd_ < 0) {
        return true;
    }
    std::string error;
    const long n = detail::recv_some(fd_, buffer_, Clock::now() + wait, error);
    if (n == 0 || (n < 0 && error.rfind("recv:", 0) == 0)) {
        close();
        return true;
    }
    return false;
}

HttpReply http_call(std::uint16_t port,
                    std::string_view method,
                    std::string_view target,
                    std::string_view body,
                    HttpHeaders headers,
                    std::chrono::milliseconds timeout) {
    return http_call_from({}, port, method, target, body, std::move(headers), timeout);
}

HttpReply http_call_from(std::string_view source_ip,
                         std::uint16_t port,
                         std::string_view method,
                         std::string_view target,
                         std::string_view body,
                         HttpHeaders headers,
                         std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string error;
    const int fd = detail::connect_loopback(port, deadline, error, source_ip);
    if (fd < 0) {
        return error_reply(error);
    }
    const auto request = build_request(port, method, target, body, headers, /*keep_alive=*/false);
    if (!detail::send_all(fd, request, deadline, error)) {
        detail::close_fd(fd);
        return error_reply(error);
    }
    std::string data;
    bool eof = false;
    for (;;) {
        HttpReply reply;
        std::size_t consumed = 0;
        const auto r = parse_one(data, method == "HEAD", eof, reply, consumed);
        if (r == Parse::kDone) {
            detail::close_fd(fd);
            return reply;
        }
        if (r == Parse::kBad || eof) {
            detail::close_fd(fd);
            return error_reply(data.empty() ? "connection closed by peer" : "malformed HTTP response");
        }
        const long n = detail::recv_some(fd, data, deadline, error);
        if (n < 0) {
            detail::close_fd(fd);
            return error_reply(error);
        }
        eof = n == 0;
    }
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string error;
    const int fd = detail::connect_loopback(port, deadline, error);
    if (fd < 0) {
        return {};
    }
    std::string data;
    // Read even when the send failed part-way: a server may answer (e.g. 413) and close early.
    detail::send_all(fd, bytes, deadline, error);
    while (detail::recv_some(fd, data, deadline, error) > 0) {
    }
    detail::close_fd(fd);
    return data;
}

}  // namespace moneta::testing
