// NOTE: deliberate simplifications: HTTP only (loopback/VPC to the internal API), one upstream
// address per client, responses read whole (JSON documents), no HTTP pipelining on a connection.
#include "moneta/http_client/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <deque>
#include <vector>

namespace moneta::http_client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using core::Errc;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Connection {
    explicit Connection(asio::any_io_executor ex) : stream(ex) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    core::SteadyTime last_used{};
    bool reused = false;
};
using ConnectionPtr = std::unique_ptr<Connection>;

}  // namespace

class Client::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(asio::any_io_executor ex, ClientConfig config, const core::Clock& clock)
        : executor_(ex), config_(std::move(config)), clock_(clock), resolver_(ex) {
        if (config_.host_header.empty()) {
            host_header_ = config_.host + ":" + std::to_string(config_.port);
        } else {
            host_header_ = config_.host_header;
        }
    }

    asio::awaitable<core::Result<Response>> request(std::string_view method, std::string_view target,
                                                    std::string_view body,
                                                    std::span<const Header> headers,
                                                    core::Deadline deadline, RequestControl control) {
        auto self = shared_from_this();  // outlive the Client while suspended
        ++stats_.requests_total;
        if (closed_) {
            co_return fail(Errc::kCancelled);
        }
        const Duration per_call = control.timeout.value_or(config_.default_timeout);
        if (deadline.expired(clock_)) {
            co_return fail(Errc::kDeadlineExceeded);
        }
        const core::Deadline call_deadline =
            deadline.min(core::Deadline::after(clock_, per_call));
        const bool idempotent = method == "GET" || method == "HEAD";
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto conn = co_await acquire(call_deadline);
            if (!conn) {
                co_return fail(conn.error());
            }
            ConnectionPtr c = std::move(*conn);
            const bool was_reused = c->reused;
            ++stats_.in_flight;
            auto res = co_await exchange(*c, method, target, body, headers, call_deadline);
            --stats_.in_flight;
            if (res) {
                release(std::move(c), res->second);
                co_return std::move(res->first);
            }
            discard(std::move(c));
            // A pooled connection the server closed while idle: retry an idempotent request once
            // on a fresh connection.
            if (res.error() == Errc::kConnectionClosed && was_reused && idempotent && attempt == 0 &&
                !call_deadline.expired(clock_)) {
                continue;
            }
            co_return fail(res.error());
        }
        co_return fail(Errc::kConnectionClosed);
    }

    void close() {
        closed_ = true;
        for (auto& c : idle_) {
            discard(std::move(c));
        }
        idle_.clear();
        for (auto* w : waiters_) {
            w->cancel();
        }
    }

    ClientStats stats_;

private:
    core::Result<Response> fail(Errc e) {
        ++stats_.errors_total;
        if (e == Errc::kTimeout) {
            ++stats_.timeouts_total;
        }
        return core::make_error(e);
    }
    core::Result<Response> fail(const boost::system::error_code& ec) {
        ++stats_.errors_total;
        if (ec == Errc::kTimeout) {
            ++stats_.timeouts_total;
        }
        return ec;
    }

    asio::awaitable<core::Result<ConnectionPtr>> acquire(core::Deadline deadline) {
        for (;;) {
            while (!idle_.empty()) {
                ConnectionPtr c = std::move(idle_.back());
                idle_.pop_back();
                if (clock_.steady_now() - c->last_used < config_.idle_timeout &&
                    c->stream.socket().is_open()) {
                    c->reused = true;
                    co_return c;
                }
                discard(std::move(c));
            }
            if (open_ < config_.max_connections) {
                co_return co_await connect(deadline);
            }
            if (waiters_.size() >= config_.max_pending) {
                ++stats_.rejected_total;
                co_return core::make_error(Errc::kOverloaded);
            }
            // Wait for a release (which cancels our timer) or the deadline.
            asio::steady_timer timer(executor_);
            timer.expires_after(deadline.time_left(clock_));
            waiters_.push_back(&timer);
            ++stats_.pending;
            auto [ec] = co_await timer.async_wait(kTuple);
            --stats_.pending;
            std::erase(waiters_, &timer);
            if (closed_) {
                co_return core::make_error(Errc::kCancelled);
            }
            if (!ec) {
                co_return core::make_error(Errc::kTimeout);  // waited the whole budget
            }
        }
    }

    asio::awaitable<core::Result<ConnectionPtr>> connect(core::Deadline deadline) {
        ++open_;
        ++stats_.connections_open;
        auto c = std::make_unique<Connection>(executor_);
        auto [rec, results] = co_await resolver_.async_resolve(
            config_.host, std::to_string(config_.port), kTuple);
        if (rec) {
            discard(std::move(c));
            co_return core::make_error(Errc::kConnectFailed);
        }
        c->stream.expires_after(std::min(config_.connect_timeout, deadline.time_left(clock_)));
        auto [ec, ep] = co_await c->stream.async_connect(results, kTuple);
        (void)ep;
        if (ec) {
            discard(std::move(c));
            co_return core::make_error(ec == beast::error::timeout ? Errc::kTimeout
                                                                    : Errc::kConnectFailed);
        }
        c->stream.socket().set_option(tcp::no_delay(true), ec);
        ++stats_.connections_created_total;
        co_return c;
    }

    /// @return the response and whether the connection may be reused.
    asio::awaitable<core::Result<std::pair<Response, bool>>> exchange(
        Connection& c, std::string_view method, std::string_view target, std::string_view body,
        std::span<const Header> headers, core::Deadline deadline) {
        bhttp::request<bhttp::string_body> req;
        req.method_string(method);
        req.target(target);
        req.version(11);
        req.set(bhttp::field::host, host_header_);
        for (const Header& h : headers) {
            req.set(h.name, h.value);
        }
        if (!body.empty() || method == "POST" || method == "PUT") {
            req.set(bhttp::field::content_type, "application/json");
            req.body() = std::string(body);
            req.prepare_payload();
        }
        req.keep_alive(true);
        const Duration left = deadline.time_left(clock_);
        if (left <= Duration::zero()) {
            co_return core::make_error(Errc::kTimeout);
        }
        c.stream.expires_after(left);
        auto [wec, wn] = co_await bhttp::async_write(c.stream, req, kTuple);
        (void)wn;
        if (wec) {
            co_return core::make_error(map_io_error(wec));
        }
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(config_.max_response_bytes);
        auto [rec, rn] = co_await bhttp::async_read(c.stream, c.buffer, parser, kTuple);
        (void)rn;
        if (rec) {
            co_return core::make_error(map_io_error(rec));
        }
        auto& msg = parser.get();
        Response out;
        out.status = static_cast<int>(msg.result_int());
        out.body = std::move(msg.body());
        if (auto it = msg.find(bhttp::field::content_type); it != msg.end()) {
            out.content_type = std::string(it->value());
        }
        if (auto it = msg.find(bhttp::field::retry_after); it != msg.end()) {
            out.retry_after = std::string(it->value());
        }
        co_return std::pair{std::move(out), msg.keep_alive()};
    }

    static Errc map_io_error(const boost::system::error_code& ec) {
        if (ec == beast::error::timeout) {
            return Errc::kTimeout;
        }
        if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
            return Errc::kConnectionClosed;
        }
        // Any other parser error: the peer sent something that is not a valid, bounded response.
        if (ec.category() == make_error_code(bhttp::error::bad_target).category()) {
            return Errc::kProtocolError;
        }
        return Errc::kConnectionClosed;
    }

    void release(ConnectionPtr c, bool keep_alive) {
        if (!keep_alive || closed_) {
            discard(std::move(c));
        } else {
            c->last_used = clock_.steady_now();
            c->stream.expires_never();
            idle_.push_back(std::move(c));
        }
        wake_one();
    }

    void discard(ConnectionPtr c) {
        if (!c) {
            return;
        }
        boost::system::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        c->stream.socket().close(ignored);
        --open_;
        --stats_.connections_open;
        wake_one();
    }

    void wake_one() {
        if (!waiters_.empty()) {
            waiters_.front()->cancel();
        }
    }

    asio::any_io_executor executor_;
    ClientConfig config_;
    const core::Clock& clock_;
    tcp::resolver resolver_;
    std::string host_header_;
    std::vector<ConnectionPtr> idle_;
    std::deque<asio::steady_timer*> waiters_;
    std::size_t open_ = 0;
    bool closed_ = false;
};

Client::Client(asio::any_io_executor executor, ClientConfig config, const core::Clock& clock)
    : impl_(std::make_shared<Impl>(executor, std::move(config), clock)) {}
Client::~Client() { impl_->close(); }

asio::awaitable<core::Result<Response>> Client::async_request(std::string_view method,
                                                              std::string_view target,
                                                              std::string_view body,
                                                              std::span<const Header> headers,
                                                              core::Deadline deadline,
                                                              RequestControl control) {
    return impl_->request(method, target, body, headers, deadline, control);
}

void Client::close() { impl_->close(); }
const ClientStats& Client::stats() const noexcept { return impl_->stats_; }

}  // namespace moneta::http_client
