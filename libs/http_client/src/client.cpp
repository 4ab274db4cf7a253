// NOTE: deliberate simplifications: HTTP only (loopback/VPC to the internal API), one upstream
// address per client, responses read whole (JSON documents), no HTTP pipelining on a connection.
#include "moneta/http_client/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
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

/// Holds a gauge up for a scope, so it stays right when a cancelled coroutine unwinds.
class GaugeGuard {
public:
    explicit GaugeGuard(std::atomic<std::int64_t>& gauge) : gauge_(gauge) { ++gauge_; }
    GaugeGuard(const GaugeGuard&) = delete;
    GaugeGuard& operator=(const GaugeGuard&) = delete;
    ~GaugeGuard() { --gauge_; }

private:
    std::atomic<std::int64_t>& gauge_;
};

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
            Lease lease(*this, std::move(*conn));
            if (call_deadline.expired(clock_)) {
                // Handed over just as the budget ran out: nothing was sent, so the connection
                // is still good for the next caller.
                release(lease.take(), true);
                co_return fail(Errc::kTimeout);
            }
            const bool was_reused = lease->reused;
            auto res = co_await exchange(*lease, method, target, body, headers, call_deadline);
            if (res) {
                release(lease.take(), res->second);
                co_return std::move(res->first);
            }
            discard(lease.take());
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
        // Waiters first, so the discards below cannot hand their slots to anyone.
        while (!waiters_.empty()) {
            Waiter* w = waiters_.front();
            waiters_.pop_front();
            w->queued = false;
            w->timer.cancel();  // resumes with kCancelled (closed_)
        }
        std::vector<ConnectionPtr> idle = std::move(idle_);
        idle_.clear();
        for (auto& c : idle) {
            discard(std::move(c));
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

    /// A caller queued for capacity. It lives in the waiting coroutine's frame; waiters_ points
    /// to it. Whoever frees capacity pops the first waiter still waiting and hands the capacity
    /// to it directly (pop_waiter), so each release wakes a distinct waiter and nobody can take
    /// the capacity in between.
    struct Waiter {
        Waiter(Impl& p, asio::any_io_executor ex)
            : pool(p), pending(p.stats_.pending), timer(ex) {}
        Waiter(const Waiter&) = delete;
        Waiter& operator=(const Waiter&) = delete;
        // Also runs when the frame is destroyed without resuming (io_context shutdown), or after
        // a hand-off the caller no longer wants: pass on whatever it was given.
        ~Waiter() { pool.abandon(*this); }

        Impl& pool;
        GaugeGuard pending;
        asio::steady_timer timer;  // expires at the caller's deadline; cancelled to wake it
        ConnectionPtr conn;        // a released keep-alive connection, handed over
        bool slot = false;         // or room for one new connection, already counted in open_
        bool queued = false;       // still in waiters_
    };

    /// Owns a connection (counted in open_) while one call uses it. If the call's coroutine
    /// unwinds instead (a cancelled coroutine throws at its next co_await), the connection is
    /// closed and its slot freed rather than leaked.
    class Lease {
    public:
        Lease(Impl& pool, ConnectionPtr c) : pool_(pool), conn_(std::move(c)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { pool_.discard(std::move(conn_)); }

        Connection& operator*() const { return *conn_; }
        Connection* operator->() const { return conn_.get(); }
        ConnectionPtr take() { return std::move(conn_); }

    private:
        Impl& pool_;
        ConnectionPtr conn_;
    };

    asio::awaitable<core::Result<ConnectionPtr>> acquire(core::Deadline deadline) {
        if (closed_) {
            co_return core::make_error(Errc::kCancelled);  // e.g. a retry after close()
        }
        while (!idle_.empty()) {
            ConnectionPtr c = std::move(idle_.back());
            idle_.pop_back();
            if (clock_.steady_now() - c->last_used < config_.idle_timeout &&
                c->stream.socket().is_open()) {
                c->reused = true;
                co_return c;
            }
            discard(std::move(c));  // idle_ only fills when nobody waits, so this wakes no one
        }
        if (open_ < config_.max_connections) {
            ++open_;  // counted now, so callers arriving during the connect cannot overshoot
            co_return co_await connect(deadline);
        }
        if (waiters_.size() >= config_.max_pending) {
            ++stats_.rejected_total;
            co_return core::make_error(Errc::kOverloaded);
        }
        auto granted = co_await wait_for_capacity(deadline);
        if (!granted) {
            co_return granted.error();
        }
        if (*granted) {
            co_return std::move(*granted);  // a released connection
        }
        co_return co_await connect(deadline);  // a freed slot, already counted in open_
    }

    /// Queues the caller until it is handed a released connection (non-null) or a freed slot
    /// (null), its deadline passes (kTimeout), or close() or the caller's own cancellation ends
    /// the wait (kCancelled).
    asio::awaitable<core::Result<ConnectionPtr>> wait_for_capacity(core::Deadline deadline) {
        Waiter w(*this, executor_);
        w.timer.expires_after(deadline.time_left(clock_));
        w.queued = true;
        waiters_.push_back(&w);
        auto [ec] = co_await w.timer.async_wait(kTuple);
        const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
        if (closed_ || cs.cancelled() != asio::cancellation_type::none) {
            // Anything handed over meanwhile goes back to the pool in ~Waiter. Checked before
            // the next co_await, which would throw in a cancelled coroutine.
            co_return core::make_error(Errc::kCancelled);
        }
        if (w.conn) {
            co_return std::move(w.conn);
        }
        if (w.slot) {
            w.slot = false;
            co_return ConnectionPtr{};
        }
        // Nothing handed over: the timer ran out (pop_waiter skips such waiters). ~Waiter
        // removes us from the queue.
        co_return core::make_error(ec ? Errc::kCancelled : Errc::kTimeout);
    }

    /// Opens a connection in a slot the caller already counted in open_. On failure the slot
    /// is freed (discard), which may hand it to a waiter.
    asio::awaitable<core::Result<ConnectionPtr>> connect(core::Deadline deadline) {
        ++stats_.connections_open;
        Lease c(*this, std::make_unique<Connection>(executor_));
        auto [rec, results] = co_await resolver_.async_resolve(
            config_.host, std::to_string(config_.port), kTuple);
        if (rec) {
            co_return core::make_error(Errc::kConnectFailed);  // ~Lease frees the slot
        }
        c->stream.expires_after(std::min(config_.connect_timeout, deadline.time_left(clock_)));
        auto [ec, ep] = co_await c->stream.async_connect(results, kTuple);
        (void)ep;
        if (ec) {
            co_return core::make_error(ec == beast::error::timeout ? Errc::kTimeout
                                                                    : Errc::kConnectFailed);
        }
        c->stream.socket().set_option(tcp::no_delay(true), ec);
        ++stats_.connections_created_total;
        co_return c.take();
    }

    /// @return the response and whether the connection may be reused.
    asio::awaitable<core::Result<std::pair<Response, bool>>> exchange(
        Connection& c, std::string_view method, std::string_view target, std::string_view body,
        std::span<const Header> headers, core::Deadline deadline) {
        const GaugeGuard in_flight(stats_.in_flight);
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

    /// Returns a connection after a call. A keep-alive one goes straight to the first waiter,
    /// or to the idle list if nobody waits.
    void release(ConnectionPtr c, bool keep_alive) {
        if (!keep_alive || closed_) {
            discard(std::move(c));
            return;
        }
        c->last_used = clock_.steady_now();
        c->stream.expires_never();
        c->reused = true;
        if (Waiter* w = pop_waiter()) {
            w->conn = std::move(c);
            return;
        }
        idle_.push_back(std::move(c));
    }

    void discard(ConnectionPtr c) {
        if (!c) {
            return;
        }
        boost::system::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        c->stream.socket().close(ignored);
        --stats_.connections_open;
        free_slot();
    }

    /// A slot in open_ is no longer used: it becomes the first waiter's, who will connect with
    /// it, or is given up.
    void free_slot() {
        if (Waiter* w = pop_waiter()) {
            w->slot = true;  // open_ unchanged: the slot changes hands
            return;
        }
        --open_;
    }

    /// Removes and returns the first waiter that is still waiting, its timer cancelled so it
    /// resumes. A waiter whose timer has already fired has a kTimeout completion queued: it
    /// must not be handed anything (it would drop it), so it is skipped.
    Waiter* pop_waiter() {
        while (!closed_ && !waiters_.empty()) {
            Waiter* w = waiters_.front();
            waiters_.pop_front();
            w->queued = false;
            if (w->timer.cancel() > 0) {
                return w;
            }
        }
        return nullptr;
    }

    /// A waiter that leaves without using what it was handed passes it on.
    void abandon(Waiter& w) {
        if (w.queued) {
            std::erase(waiters_, &w);
            w.queued = false;
        }
        if (w.conn) {
            release(std::move(w.conn), true);
        } else if (w.slot) {
            w.slot = false;
            free_slot();
        }
    }

    asio::any_io_executor executor_;
    ClientConfig config_;
    const core::Clock& clock_;
    tcp::resolver resolver_;
    std::string host_header_;
    std::vector<ConnectionPtr> idle_;
    std::deque<Waiter*> waiters_;  // FIFO; entries live in waiting coroutines' frames
    std::size_t open_ = 0;  // connections open or connecting, plus slots handed to waiters
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
