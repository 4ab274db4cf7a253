// moneta_otlp_sink --port N [--pid-file F]: a minimal OTLP/HTTP receiver for ./dev bench. Reads
// each HTTP/1.1 request (head + Content-Length body), answers `200` with an empty
// ExportTraceServiceResponse, counts posts and bytes, prints the counts on SIGTERM/SIGINT. It
// never decodes (the tests do that: tests/libs/trace); it only has to be cheap and always say 200
// so the rows measure moneta's cost of tracing, not a collector's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

std::size_t content_length(std::string_view head) {
    std::size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
        pos += 2;
        constexpr std::string_view kName = "content-length:";
        if (head.size() - pos < kName.size()) {
            break;
        }
        bool match = true;
        for (std::size_t i = 0; i < kName.size(); ++i) {
            const char c = head[pos + i];
            if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != kName[i]) {
                match = false;
                break;
            }
        }
        if (match) {
            return std::strtoul(head.data() + pos + kName.size(), nullptr, 10);
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string_view(argv[i]) == "--port") {
            port = std::atoi(argv[i + 1]);
        }
    }
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: moneta_otlp_sink --port N\n");
        return 2;
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 64) != 0) {
        std::perror("moneta_otlp_sink: listen");
        return 1;
    }
    unsigned long long posts = 0;
    unsigned long long bytes = 0;
    std::string in;
    char buf[65536];
    static constexpr std::string_view kOk =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    while (g_stop == 0) {
        pollfd p{lfd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) {
            continue;
        }
        const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        in.clear();
        std::size_t need = 0;
        for (;;) {
            pollfd q{fd, POLLIN, 0};
            if (::poll(&q, 1, 5000) <= 0) {
                break;
            }
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            in.append(buf, static_cast<std::size_t>(n));
            const std::size_t head_end = in.find("\r\n\r\n");
            if (need == 0 && head_end != std::string::npos) {
                need = head_end + 4 + content_length(std::string_view(in).substr(0, head_end + 2));
            }
            if (need != 0 && in.size() >= need) {
                ++posts;
                bytes += need;
                (void)::send(fd, kOk.data(), kOk.size(), MSG_NOSIGNAL);
                break;
            }
        }
        ::close(fd);
    }
    std::fprintf(stderr, "moneta_otlp_sink: %llu posts, %llu bytes\n", posts, bytes);
    return 0;
}
