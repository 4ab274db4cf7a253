#include "moneta/testing/fake_consul_agent.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <boost/json.hpp>

namespace moneta::testing {

namespace {

std::string lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

/// %XX decoding of a path segment (the agent's router decodes before looking the id up).
std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
            const std::string hex(s.substr(i + 1, 2));
            out += static_cast<char>(std::stoi(hex, nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string reply(int status, std::string_view reason, std::string_view body, std::string_view content_type) {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    r += "Vary: Accept-Encoding\r\n";
    if (!content_type.empty()) {
        r += "Content-Type: " + std::string(content_type) + "\r\n";
    }
    r += "X-Consul-Default-Acl-Policy: allow\r\n";
    r += "Date: Sun, 06 Dec 2026 05:00:00 GMT\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r += body;
    return r;
}

/// The checks a register body must pass to be accepted as the agent accepts it.
std::optional<std::string> validate_registration(const std::string& body, std::string& id, std::string& check_id) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return "Request decode failed: invalid JSON";
    }
    const auto& o = v.as_object();
    const auto* name = o.if_contains("Name");
    if (name == nullptr || !name->is_string() || name->as_string().empty()) {
        return "Missing service name";
    }
    const auto* sid = o.if_contains("ID");
    id = sid != nullptr && sid->is_string() ? std::string(sid->as_string()) : std::string(name->as_string());
    check_id = "service:" + id;
    if (const auto* check = o.if_contains("Check"); check != nullptr) {
        if (!check->is_object()) {
            return "Request decode failed: Check";
        }
        const auto& c = check->as_object();
        if (const auto* cid = c.if_contains("CheckID"); cid != nullptr && cid->is_string()) {
            check_id = std::string(cid->as_string());
        }
        const auto* ttl = c.if_contains("TTL");
        if (ttl == nullptr || !ttl->is_string()) {
            return "Check is not valid: TTL required for this fake";
        }
    }
    return std::nullopt;
}

}  // namespace

FakeConsulAgent::FakeConsulAgent(std::uint16_t port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
        const int err = errno;
        ::close(listen_fd_);
        throw std::runtime_error(std::string("FakeConsulAgent: bind/listen: ") + std::strerror(err));
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
}

FakeConsulAgent::~FakeConsulAgent() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
}

void FakeConsulAgent::require_token(std::string token) {
    std::lock_guard lock(mu_);
    token_ = std::move(token);
}
void FakeConsulAgent::fail_all(std::optional<int> status) {
    std::lock_guard lock(mu_);
    fail_all_ = status;
}
void FakeConsulAgent::legacy_unknown_check(bool on) {
    std::lock_guard lock(mu_);
    legacy_ = on;
}
void FakeConsulAgent::forget_all() {
    std::lock_guard lock(mu_);
    services_.clear();
    checks_.clear();
}
std::vector<FakeConsulAgent::Call> FakeConsulAgent::calls() const {
    std::lock_guard lock(mu_);
    return calls_;
}
std::vector<FakeConsulAgent::Call> FakeConsulAgent::calls_to(const std::string& prefix) const {
    std::lock_guard lock(mu_);
    std::vector<Call> out;
    for (const auto& c : calls_) {
        if (c.path.starts_with(prefix)) {
            out.push_back(c);
        }
    }
    return out;
}
std::map<std::string, std::string> FakeConsulAgent::services() const {
    std::lock_guard lock(mu_);
    return services_;
}

void FakeConsulAgent::serve() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) {
            continue;
        }
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
            handle(fd);
            ::close(fd);
        }
    }
}

/// Reads requests on one connection (keep-alive honoured) until close, `Connection: close`, a
/// malformed request or 2 s of silence.
void FakeConsulAgent::handle(int fd) {
    std::string buf;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
        const auto head_end = buf.find("\r\n\r\n");
        if (head_end == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) {
                continue;
            }
            char chunk[4096];
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return;
            }
            buf.append(chunk, static_cast<std::size_t>(n));
            if (buf.size() > 64 * 1024) {
                return;
            }
            continue;
        }
        Call call;
        std::string_view head(buf.data(), head_end);
        const auto line_end = head.find("\r\n");
        const std::string_view request_line = head.substr(0, line_end);
        const auto sp1 = request_line.find(' ');
        const auto sp2 = request_line.rfind(' ');
        std::string response;
        if (sp1 == std::string_view::npos || sp2 == sp1 || request_line.substr(sp2 + 1) != "HTTP/1.1") {
            response = reply(400, "Bad Request", "bad request line", "text/plain; charset=utf-8");
            ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
            return;
        }
        call.method = std::string(request_line.substr(0, sp1));
        call.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
        const auto q = call.target.find('?');
        call.path = call.target.substr(0, q);
        call.query = q == std::string::npos ? "" : call.target.substr(q + 1);
        std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
            auto end = head.find("\r\n", pos);
            if (end == std::string_view::npos) {
                end = head.size();
            }
            const std::string_view line = head.substr(pos, end - pos);
            const auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                std::string value(line.substr(colon + 1));
                while (!value.empty() && value.front() == ' ') {
                    value.erase(0, 1);
                }
                call.headers[lower(std::string(line.substr(0, colon)))] = value;
            }
            pos = end + 2;
        }
        std::size_t length = 0;
        if (auto it = call.headers.find("content-length"); it != call.headers.end()) {
            length = std::stoul(it->second);
        }
        if (call.headers.count("transfer-encoding") != 0) {
            response = reply(400, "Bad Request", "chunked bodies are not expected here", "text/plain");
            ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
            return;
        }
        while (buf.size() < head_end + 4 + length) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 2000) <= 0) {
                return;
            }
            char chunk[4096];
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                return;
            }
            buf.append(chunk, static_cast<std::size_t>(n));
        }
        call.body = buf.substr(head_end + 4, length);
        buf.erase(0, head_end + 4 + length);
        call.at = std::chrono::steady_clock::now();
        const bool close = lower(call.headers["connection"]) == "close";
        Call recorded = answer(std::move(call), response);
        {
            std::lock_guard lock(mu_);
            calls_.push_back(std::move(recorded));
        }
        ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
        if (close) {
            return;
        }
    }
}

FakeConsulAgent::Call FakeConsulAgent::answer(Call call, std::string& response) {
    std::lock_guard lock(mu_);
    const auto set = [&](int status, std::string_view reason, std::string_view body) {
        call.status = status;
        response = reply(status, reason, body, body.empty() ? "" : "text/plain; charset=utf-8");
    };
    if (fail_all_) {
        set(*fail_all_, "Error", "fake agent failure");
        return call;
    }
    if (!token_.empty()) {
        const auto it = call.headers.find("x-consul-token");
        if (it == call.headers.end() || it->second != token_) {
            set(403, "Forbidden", "Permission denied");
            return call;
        }
    }
    static constexpr std::string_view kRegister = "/v1/agent/service/register";
    static constexpr std::string_view kPass = "/v1/agent/check/pass/";
    static constexpr std::string_view kDeregister = "/v1/agent/service/deregister/";
    const bool known = call.path == kRegister || call.path.starts_with(kPass) || call.path.starts_with(kDeregister);
    if (!known) {
        set(404, "Not Found", "404 page not found\n");
        return call;
    }
    if (call.method != "PUT") {
        set(405, "Method Not Allowed", "method " + call.method + " not allowed");
        return call;
    }
    if (call.path == kRegister) {
        std::string id;
        std::string check_id;
        if (auto bad = validate_registration(call.body, id, check_id)) {
            set(400, "Bad Request", *bad);
            return call;
        }
        services_[id] = call.body;
        checks_[check_id] = id;
        set(200, "OK", "");
        return call;
    }
    if (call.path.starts_with(kPass)) {
        const std::string id = unescape(call.path.substr(kPass.size()));
        if (checks_.count(id) == 0) {
            if (legacy_) {
                set(500, "Internal Server Error", "CheckID \"" + id + "\" does not have associated TTL");
            } else {
                set(404, "Not Found", "Unknown check ID \"" + id + "\". Ensure that the check ID is passed, not the check name.");
            }
            return call;
        }
        set(200, "OK", "");
        return call;
    }
    const std::string id = unescape(call.path.substr(kDeregister.size()));
    if (services_.erase(id) == 0) {
        set(404, "Not Found", "Unknown service ID \"" + id + "\". Ensure that the service ID is passed, not the service name.");
        return call;
    }
    for (auto it = checks_.begin(); it != checks_.end();) {
        it = it->second == id ? checks_.erase(it) : std::next(it);
    }
    set(200, "OK", "");
    return call;
}

}  // namespace moneta::testing
