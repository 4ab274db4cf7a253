#include "moneta/trace/http_transport.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fcntl.h>

namespace moneta::trace {
namespace {

using Clock = std::chrono::steady_clock;

bool is_token_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<unsigned char>(a[i]);
        const auto y = static_cast<unsigned char>(b[i]);
        if (std::tolower(x) != std::tolower(y)) {
            return false;
        }
    }
    return true;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

/// Milliseconds left until @p end (at least 0), for poll().
int ms_left(Clock::time_point end) noexcept {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

bool wait_fd(int fd, short events, Clock::time_point end) noexcept {
    pollfd p{fd, events, 0};
    for (;;) {
        const int r = ::poll(&p, 1, ms_left(end));
        if (r > 0) {
            return true;
        }
        if (r == 0 || errno != EINTR) {
            return false;
        }
    }
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        return std::nullopt;
    }
    url.remove_prefix(kScheme.size());
    Endpoint e;
    const std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) {
        e.path.assign(url.substr(slash));
    }
    const std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
        const std::string_view p = authority.substr(colon + 1);
        unsigned v = 0;
        const auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (p.empty() || ec != std::errc{} || ptr != p.data() + p.size() || v == 0 || v > 65535) {
            return std::nullopt;
        }
        e.port = static_cast<std::uint16_t>(v);
        authority = authority.substr(0, colon);
    }
    if (authority.empty()) {
        return std::nullopt;
    }
    for (char c : authority) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
            return std::nullopt;
        }
    }
    for (char c : e.path) {
        if (c <= ' ' || c == 0x7f) {
            return std::nullopt;
        }
    }
    e.host.assign(authority);
    return e;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_headers(std::string_view spec) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!spec.empty()) {
        const std::size_t comma = spec.find(',');
        const std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        if (trim(item).empty()) {
            continue;
        }
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view name = trim(item.substr(0, eq));
        const std::string_view value = trim(item.substr(eq + 1));
        if (name.empty()) {
            return std::nullopt;
        }
        for (char c : name) {
            if (!is_token_char(c)) {
                return std::nullopt;
            }
        }
        for (char c : value) {
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f) {
                return std::nullopt;
            }
        }
        out.emplace_back(std::string(name), std::string(value));
    }
    return out;
}

HttpTransport::HttpTransport(Endpoint endpoint, std::vector<std::pair<std::string, std::string>> headers)
    : endpoint_(std::move(endpoint)) {
    head_prefix_ = "POST " + endpoint_.path + " HTTP/1.1\r\nHost: " + endpoint_.host + ":" +
                   std::to_string(endpoint_.port) +
                   "\r\nContent-Type: application/x-protobuf\r\nUser-Agent: moneta-trace\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) {
        head_prefix_ += k;
        head_prefix_ += ": ";
        head_prefix_ += v;
        head_prefix_ += "\r\n";
    }
}

PostResult HttpTransport::post(std::string_view body, core::Duration timeout) {
    // A fresh connection per batch: at most a few batches a second, and no connection state to
    // go stale while the collector restarts.
    const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(endpoint_.port);
    if (::getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
        return {};
    }
    Fd sock;
    sock.fd = ::socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, res->ai_protocol);
    if (sock.fd < 0) {
        ::freeaddrinfo(res);
        return {};
    }
    const int rc = ::connect(sock.fd, res->ai_addr, res->ai_addrlen);
    ::freeaddrinfo(res);
    if (rc != 0) {
        if (errno != EINPROGRESS || !wait_fd(sock.fd, POLLOUT, end)) {
            return {};
        }
        int err = 0;
        socklen_t len = sizeof(err);
        if (::getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            return {};
        }
    }
    request_.assign(head_prefix_);
    request_ += "Content-Length: ";
    request_ += std::to_string(body.size());
    request_ += "\r\n\r\n";
    request_.append(body);
    std::size_t sent = 0;
    while (sent < request_.size()) {
        const ssize_t n = ::send(sock.fd, request_.data() + sent, request_.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(sock.fd, POLLOUT, end)) {
                return {};
            }
        } else {
            return {};
        }
    }
    // The status line and headers are all we need (the body is an ExportTraceServiceResponse,
    // possibly with partial_success, which we do not act on). Read until CRLFCRLF, bounded.
    char buf[8192];
    std::size_t have = 0;
    std::string_view head;
    for (;;) {
        const ssize_t n = ::recv(sock.fd, buf + have, sizeof(buf) - have, 0);
        if (n > 0) {
            have += static_cast<std::size_t>(n);
            const std::string_view v(buf, have);
            const std::size_t e = v.find("\r\n\r\n");
            if (e != std::string_view::npos) {
                head = v.substr(0, e + 2);
                break;
            }
            if (have == sizeof(buf)) {
                return {};
            }
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(sock.fd, POLLIN, end)) {
                return {};
            }
        } else {
            return {};
        }
    }
    // "HTTP/1.x SSS ..."
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || head[8] != ' ') {
        return {};
    }
    PostResult r;
    const auto [p, ec] = std::from_chars(head.data() + 9, head.data() + 12, r.status);
    if (ec != std::errc{} || p != head.data() + 12 || r.status < 100 || r.status > 599) {
        return {};
    }
    std::size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
        const std::size_t eol = head.find("\r\n", pos);
        const std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 2;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || !iequals(line.substr(0, colon), "retry-after")) {
            continue;
        }
        // delta-seconds only; an HTTP-date falls back to our own backoff.
        const std::string_view v = trim(line.substr(colon + 1));
        unsigned secs = 0;
        const auto [q, e2] = std::from_chars(v.data(), v.data() + v.size(), secs);
        if (!v.empty() && e2 == std::errc{} && q == v.data() + v.size()) {
            r.retry_after = std::chrono::seconds(std::min(secs, 86400U));
        }
    }
    return r;
}

}  // namespace moneta::trace
