#include "load_driver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include "response_parser.hpp"

namespace moneta::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

struct Connection {
    int fd = -1;
    bool busy = false;
    std::string out;            // the request being written
    std::size_t out_done = 0;
    std::vector<char> in;       // bytes read, not yet consumed
    std::size_t in_len = 0;
    std::uint64_t start_ns = 0; // send time (closed loop) or intended time (open loop)
    std::size_t index = 0;      // request index
};

int open_connection(const LoadOptions& o, std::string& error) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(o.port);
    if (::inet_pton(AF_INET, o.address.c_str(), &addr.sin_addr) != 1) {
        error = "bad address " + o.address;
        ::close(fd);
        return -1;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        error = std::string("connect: ") + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

double cpu_seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

class Driver {
public:
    Driver(const LoadOptions& o, const std::vector<RenderedRequest>& r, LoadResult& res)
        : opt_(o), requests_(r), result_(res), next_index_(o.once ? 0 : o.offset % std::max<std::size_t>(1, r.size())), seq_(o.seq_start) {}

    bool run(std::string& error) {
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        conns_.resize(static_cast<std::size_t>(std::max(1, opt_.connections)));
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            if (!connect_slot(i, error)) {
                ::close(epoll_);
                return false;
            }
            conns_[i].in.resize(64 * 1024);
        }
        if (opt_.capture) result_.captured.assign(requests_.size(), {});
        rusage ru0{};
        ::getrusage(RUSAGE_SELF, &ru0);
        start_ns_ = now_ns();
        end_ns_ = start_ns_ + static_cast<std::uint64_t>(opt_.duration_sec * 1e9);
        const std::uint64_t period_ns = opt_.rate > 0 ? static_cast<std::uint64_t>(1e9 / opt_.rate) : 0;
        std::uint64_t next_due = start_ns_;
        std::uint64_t last_response_ns = start_ns_;
        std::vector<epoll_event> events(conns_.size());
        for (;;) {
            const std::uint64_t now = now_ns();
            const bool sending = !exhausted() && (opt_.once || now < end_ns_);
            if (sending) {
                if (period_ns == 0) {
                    while (!free_.empty() && !exhausted()) send_on(pop_free(), now_ns());
                } else {
                    while (next_due <= now && !exhausted_due()) {
                        due_.push_back(next_due);
                        next_due += period_ns;
                        ++scheduled_;
                    }
                    result_.max_backlog = std::max<std::uint64_t>(result_.max_backlog, due_.size());
                    while (!free_.empty() && !due_.empty()) {
                        send_on(pop_free(), due_.front());
                        due_.pop_front();
                    }
                }
            }
            const std::size_t in_flight = conns_.size() - free_.size();
            if (!sending && in_flight == 0) break;
            // After the duration, wait at most 5 s for answers still in flight.
            if (!sending && now > std::max(end_ns_, last_response_ns) + 5'000'000'000ULL) {
                result_.errors += in_flight;
                break;
            }
            timespec timeout{0, 100'000'000};
            if (sending && period_ns != 0 && due_.empty()) {
                const std::uint64_t wait = next_due > now ? next_due - now : 0;
                timeout = {static_cast<time_t>(wait / 1'000'000'000ULL), static_cast<long>(wait % 1'000'000'000ULL)};
            } else if (sending && period_ns == 0 && !free_.empty()) {
                timeout = {0, 0};
            }
            const int n = ::epoll_pwait2(epoll_, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
            if (n < 0 && errno != EINTR) {
                error = std::string("epoll: ") + std::strerror(errno);
                return false;
            }
            for (int i = 0; i < n; ++i) {
                const auto slot = static_cast<std::size_t>(events[static_cast<std::size_t>(i)].data.u64);
                if (on_event(slot, events[static_cast<std::size_t>(i)].events)) last_response_ns = now_ns();
            }
        }
        rusage ru1{};
        ::getrusage(RUSAGE_SELF, &ru1);
        result_.cpu_user_sec = cpu_seconds(ru1.ru_utime) - cpu_seconds(ru0.ru_utime);
        result_.cpu_system_sec = cpu_seconds(ru1.ru_stime) - cpu_seconds(ru0.ru_stime);
        result_.elapsed_sec = static_cast<double>(last_response_ns - start_ns_) / 1e9;
        for (auto& c : conns_) {
            if (c.fd >= 0) ::close(c.fd);
        }
        ::close(epoll_);
        return true;
    }

private:
    bool exhausted() const {
        return (opt_.once && next_index_ >= requests_.size()) ||
               (opt_.max_requests > 0 && result_.sent >= opt_.max_requests);
    }
    // Open loop: stop scheduling once every request was scheduled (once, max_requests) or the
    // time is up.
    bool exhausted_due() const {
        return (opt_.once && scheduled_ >= requests_.size()) ||
               (opt_.max_requests > 0 && scheduled_ >= opt_.max_requests);
    }

    bool connect_slot(std::size_t i, std::string& error) {
        auto& c = conns_[i];
        c.fd = open_connection(opt_, error);
        if (c.fd < 0) return false;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
        c.busy = false;
        c.in_len = 0;
        free_.push_back(i);
        return true;
    }

    std::size_t pop_free() {
        const std::size_t i = free_.back();
        free_.pop_back();
        return i;
    }

    void send_on(std::size_t slot, std::uint64_t start) {
        auto& c = conns_[slot];
        const std::size_t index = opt_.once ? next_index_ : next_index_ % requests_.size();
        ++next_index_;
        const auto& req = requests_[index];
        c.out.assign(req.bytes);
        if (!req.placeholders.empty()) fill_placeholders(req, c.out.data(), ++seq_, wall_ms());
        c.out_done = 0;
        c.busy = true;
        c.index = index;
        c.start_ns = opt_.rate > 0 ? start : now_ns();
        ++result_.sent;
        flush(slot);
    }

    void flush(std::size_t slot) {
        auto& c = conns_[slot];
        while (c.out_done < c.out.size()) {
            const ssize_t w = ::send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
            if (w > 0) {
                c.out_done += static_cast<std::size_t>(w);
                continue;
            }
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLOUT;
                ev.data.u64 = slot;
                ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
                return;
            }
            fail(slot);
            return;
        }
    }

    // Returns true when a response completed.
    bool on_event(std::size_t slot, std::uint32_t events) {
        auto& c = conns_[slot];
        if (c.fd < 0) return false;
        if ((events & EPOLLOUT) != 0 && c.out_done < c.out.size()) {
            flush(slot);
            if (c.fd >= 0 && c.out_done == c.out.size()) {
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u64 = slot;
                ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
            }
        }
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return false;
        bool completed = false;
        for (;;) {
            if (c.in_len == c.in.size()) c.in.resize(c.in.size() * 2);
            const ssize_t r = ::recv(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len, 0);
            if (r > 0) {
                c.in_len += static_cast<std::size_t>(r);
                continue;
            }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            // Closed by the server (or an error): answer what is complete, lose the rest.
            const int fd = c.fd;
            while (c.busy && try_complete(slot)) completed = true;
            if (c.fd == fd) fail(slot);
            return completed;
        }
        while (c.busy && try_complete(slot)) completed = true;
        return completed;
    }

    bool try_complete(std::size_t slot) {
        auto& c = conns_[slot];
        if (!c.busy) return false;
        ParsedResponse resp;
        const auto st = parse_response(std::string_view(c.in.data(), c.in_len), resp);
        if (st == ParseStatus::kIncomplete) return false;
        if (st == ParseStatus::kInvalid) {
            fail(slot);
            return false;
        }
        const std::uint64_t done = now_ns();
        result_.latency.record((done - c.start_ns) / 1000);
        ++result_.completed;
        ++result_.statuses[resp.status];
        if (resp.status < 200 || resp.status > 299) ++result_.non_2xx;
        if (opt_.capture) capture(c.index, resp.body);
        std::memmove(c.in.data(), c.in.data() + resp.size, c.in_len - resp.size);
        c.in_len -= resp.size;
        c.busy = false;
        if (resp.close) {
            fail(slot, false);
        } else {
            free_.push_back(slot);
        }
        return true;
    }

    void capture(std::size_t index, std::string_view body) {
        constexpr std::string_view kKey = "\"session_id\":\"";
        const auto at = body.find(kKey);
        if (at == std::string_view::npos) return;
        const auto from = at + kKey.size();
        const auto end = body.find('"', from);
        if (end == std::string_view::npos) return;
        result_.captured[index] = std::string(body.substr(from, end - from));
    }

    // Drops the connection (counting its in-flight request as an error) and opens a new one.
    void fail(std::size_t slot, bool count_error = true) {
        auto& c = conns_[slot];
        if (c.busy && count_error) ++result_.errors;
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
        c.busy = false;
        std::string ignored;
        // Remove a stale free-list entry, if any, before re-adding.
        free_.erase(std::remove(free_.begin(), free_.end(), slot), free_.end());
        if (!connect_slot(slot, ignored)) {
            ++result_.errors;
        }
    }

    const LoadOptions& opt_;
    const std::vector<RenderedRequest>& requests_;
    LoadResult& result_;
    int epoll_ = -1;
    std::vector<Connection> conns_;
    std::vector<std::size_t> free_;
    std::deque<std::uint64_t> due_;
    std::size_t next_index_ = 0;
    std::uint64_t scheduled_ = 0;
    std::uint64_t seq_ = 0;
    std::uint64_t start_ns_ = 0;
    std::uint64_t end_ns_ = 0;
};

}  // namespace

bool run_load(const LoadOptions& options, const std::vector<RenderedRequest>& requests, LoadResult& result,
              std::string& error) {
    if (requests.empty()) {
        error = "no requests";
        return false;
    }
    Driver driver(options, requests, result);
    return driver.run(error);
}

}  // namespace moneta::bench
