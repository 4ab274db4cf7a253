#include "upstream_stub.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <utility>

namespace moneta::deploy_test {
namespace {

constexpr std::size_t kMaxBuffered = 1 << 20;  // a runaway peer is cut off, not buffered forever

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

struct Connection {
    int fd = -1;
    int id = 0;
    std::string in;
};

}  // namespace

std::optional<std::string> StubRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) {
            return v;
        }
    }
    return std::nullopt;
}

std::size_t StubRequest::count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(
        headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }
    ));
}

std::string StubRequest::dump() const {
    std::string out = request_line + "\n";
    for (const auto& [k, v] : headers) {
        out.append(k).append(": ").append(v).append("\n");
    }
    return out;
}

core::Result<std::unique_ptr<UpstreamStub>> UpstreamStub::start() {
    std::unique_ptr<UpstreamStub> stub(new UpstreamStub());
    stub->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (stub->listen_fd_ < 0 || ::pipe2(stub->wake_, O_CLOEXEC) != 0) {
        return core::make_error(core::Errc::kInternal);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(stub->listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(stub->listen_fd_, 64) != 0 ||
        ::getsockname(stub->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return core::make_error(core::Errc::kConnectFailed);
    }
    stub->port_ = ntohs(addr.sin_port);
    stub->thread_ = std::thread([s = stub.get()] { s->run(); });
    return stub;
}

UpstreamStub::~UpstreamStub() {
    stop();
    for (int fd : wake_) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

void UpstreamStub::stop() {
    if (thread_.joinable()) {
        const char byte = 'x';
        [[maybe_unused]] const auto n = ::write(wake_[1], &byte, 1);
        thread_.join();
    }
    if (listen_fd_ >= 0) {
        ::close(std::exchange(listen_fd_, -1));
    }
}

void UpstreamStub::set_response(StubResponse response) {
    std::lock_guard lock(mu_);
    response_ = std::move(response);
}

std::vector<StubRequest> UpstreamStub::requests() const {
    std::lock_guard lock(mu_);
    return requests_;
}

std::size_t UpstreamStub::request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
}

StubRequest UpstreamStub::last_request() const {
    std::lock_guard lock(mu_);
    if (requests_.empty()) {
        ADD_FAILURE() << "the upstream stub received no request";
        return {};
    }
    return requests_.back();
}

void UpstreamStub::run() {
    std::vector<Connection> conns;
    for (;;) {
        std::vector<pollfd> fds;
        fds.push_back({wake_[0], POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        for (const auto& c : conns) {
            fds.push_back({c.fd, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (fds[0].revents != 0) {
            break;
        }
        if ((fds[1].revents & POLLIN) != 0) {
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) {
                conns.push_back({fd, ++accepted_, {}});
            }
        }
        // fds[2 + i] belongs to conns[i] as they were before this round's accept.
        std::vector<int> to_close;
        for (std::size_t i = 2; i < fds.size(); ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            Connection& c = conns[i - 2];
            char buf[16384];
            const auto n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                to_close.push_back(c.fd);
                continue;
            }
            c.in.append(buf, static_cast<std::size_t>(n));
            if (!serve(c.fd, c.id, c.in)) {
                to_close.push_back(c.fd);
            }
        }
        for (int fd : to_close) {
            ::close(fd);
            std::erase_if(conns, [fd](const Connection& c) { return c.fd == fd; });
        }
    }
    for (const auto& c : conns) {
        ::close(c.fd);
    }
}

bool UpstreamStub::serve(int fd, int connection, std::string& in) {
    for (;;) {
        const auto head_end = in.find("\r\n\r\n");
        if (head_end == std::string::npos) {
            return in.size() <= kMaxBuffered;
        }
        StubRequest req;
        req.connection = connection;
        std::string_view head(in.data(), head_end);
        const auto line_end = head.find("\r\n");
        req.request_line = std::string(head.substr(0, line_end));
        const auto sp1 = req.request_line.find(' ');
        const auto sp2 = req.request_line.rfind(' ');
        if (sp1 != std::string::npos && sp2 > sp1) {
            req.method = req.request_line.substr(0, sp1);
            req.target = req.request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        }
        std::string_view rest =
            line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
        while (!rest.empty()) {
            const auto eol = rest.find("\r\n");
            const auto line = rest.substr(0, eol);
            const auto colon = line.find(':');
            req.headers.emplace_back(
                std::string(line.substr(0, colon)),
                colon == std::string_view::npos ? std::string{}
                                                : std::string(trim_ows(line.substr(colon + 1)))
            );
            if (eol == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(eol + 2);
        }
        std::size_t length = 0;
        if (const auto cl = req.header("Content-Length")) {
            const auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), length);
            if (ec != std::errc{} || p != cl->data() + cl->size()) {
                length = kMaxBuffered + 1;
            }
        }
        const bool chunked = req.header("Transfer-Encoding").has_value();
        if (chunked || length > kMaxBuffered) {
            std::lock_guard lock(mu_);
            requests_.push_back(std::move(req));
            return false;
        }
        const std::size_t body_start = head_end + 4;
        if (in.size() < body_start + length) {
            return true;  // the rest of the body is still on its way
        }
        req.body = in.substr(body_start, length);
        in.erase(0, body_start + length);
        const auto conn = req.header("Connection");
        const bool close = conn && iequals(*conn, "close");
        // Recorded before the answer leaves, so a client holding nginx's reply can rely on it.
        std::string reply;
        {
            std::lock_guard lock(mu_);
            reply = render(req);
            requests_.push_back(std::move(req));
        }
        if (!send_all(fd, reply) || close) {
            return false;
        }
    }
}

std::string UpstreamStub::render(const StubRequest& request) const {
    const std::string body =
        response_.body.empty() ? R"({"ok":true,"server_time_ms":)" + std::to_string(now_ms()) + "}"
                               : response_.body;
    std::string out;
    out.append("HTTP/1.1 ")
        .append(std::to_string(response_.status))
        .append(" ")
        .append(response_.reason)
        .append("\r\n");
    for (const auto& [k, v] : response_.headers) {
        out.append(k).append(": ").append(v).append("\r\n");
    }
    if (const auto id = request.header("X-Request-Id"); id && response_.echo_request_id) {
        out.append("X-Request-Id: ").append(*id).append("\r\n");
    }
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
    out.append(body);
    return out;
}

}  // namespace moneta::deploy_test
