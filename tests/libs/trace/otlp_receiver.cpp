#include "otlp_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace moneta::testing {

std::string ReceivedPost::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

OtlpReceiver::OtlpReceiver() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
        throw std::runtime_error("OtlpReceiver: cannot listen");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
}

OtlpReceiver::~OtlpReceiver() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    thread_.join();
    ::close(listen_fd_);
}

void OtlpReceiver::script(std::vector<ScriptedAnswer> answers) {
    std::lock_guard lock(mu_);
    script_.assign(answers.begin(), answers.end());
}

std::vector<ReceivedPost> OtlpReceiver::posts() const {
    std::lock_guard lock(mu_);
    return posts_;
}

std::size_t OtlpReceiver::post_count() const {
    std::lock_guard lock(mu_);
    return posts_.size();
}

std::vector<opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest> OtlpReceiver::accepted() const {
    std::lock_guard lock(mu_);
    std::vector<opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest> out;
    for (std::size_t i = 0; i < posts_.size(); ++i) {
        if (answered_[i] != 200) {
            continue;
        }
        opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
        if (req.ParseFromString(posts_[i].body)) {
            out.push_back(std::move(req));
        }
    }
    return out;
}

std::size_t OtlpReceiver::bad_bodies() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& p : posts_) {
        opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
        n += req.ParseFromString(p.body) ? 0 : 1;
    }
    return n;
}

void OtlpReceiver::serve() {
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (stop_) {
                return;
            }
        }
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

void OtlpReceiver::handle(int fd) {
    // One request per connection is what the exporter sends (Connection: close); a keep-alive
    // client would get its next request read too.
    std::string in;
    char buf[16384];
    for (;;) {
        std::size_t head_end = in.find("\r\n\r\n");
        while (head_end == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 5000) <= 0) {
                return;
            }
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                return;
            }
            in.append(buf, static_cast<std::size_t>(n));
            head_end = in.find("\r\n\r\n");
        }
        ReceivedPost post;
        const std::string head = in.substr(0, head_end);
        std::size_t pos = head.find("\r\n");
        const std::string line = head.substr(0, pos);
        const std::size_t sp1 = line.find(' ');
        const std::size_t sp2 = line.find(' ', sp1 + 1);
        post.method = line.substr(0, sp1);
        post.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::size_t content_length = 0;
        while (pos != std::string::npos && pos < head.size()) {
            const std::size_t start = pos + 2;
            const std::size_t eol = head.find("\r\n", start);
            const std::string h = head.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
            pos = eol;
            const std::size_t colon = h.find(':');
            if (colon == std::string::npos) {
                continue;
            }
            std::string name = h.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            std::string value = h.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            if (name == "content-length") {
                content_length = std::stoul(value);
            }
            post.headers.emplace_back(std::move(name), std::move(value));
        }
        const std::size_t need = head_end + 4 + content_length;
        while (in.size() < need) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 5000) <= 0) {
                return;
            }
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                return;
            }
            in.append(buf, static_cast<std::size_t>(n));
        }
        post.body = in.substr(head_end + 4, content_length);
        in.erase(0, need);
        ScriptedAnswer answer;
        {
            std::lock_guard lock(mu_);
            if (!script_.empty()) {
                answer = script_.front();
                script_.pop_front();
            }
            posts_.push_back(std::move(post));
            answered_.push_back(answer.status);
        }
        std::string out = "HTTP/1.1 " + std::to_string(answer.status) +
                          (answer.status == 200 ? " OK" : " Unavailable") +
                          "\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n";
        if (!answer.retry_after.empty()) {
            out += "Retry-After: " + answer.retry_after + "\r\n";
        }
        out += "Connection: close\r\n\r\n";
        (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        return;
    }
}

}  // namespace moneta::testing
