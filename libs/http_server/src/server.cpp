// NOTE: deliberate simplifications: no TLS (nginx terminates it), no HTTP/2, no Expect:
// 100-continue (nginx buffers bodies), responses are written whole (bodies are small JSON).
#include "moneta/http/server.hpp"

#include "moneta/http/fd_limit.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <cctype>
#include <ctime>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "parse.hpp"

namespace moneta::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

Method to_method(bhttp::verb v) noexcept {
    switch (v) {
        case bhttp::verb::get: return Method::kGet;
        case bhttp::verb::head: return Method::kHead;
        case bhttp::verb::post: return Method::kPost;
        case bhttp::verb::put: return Method::kPut;
        case bhttp::verb::delete_: return Method::kDelete;
        case bhttp::verb::patch: return Method::kPatch;
        case bhttp::verb::options: return Method::kOptions;
        default: return Method::kOther;
    }
}

/// RFC 9110 IMF-fixdate, recomputed at most once per second per thread.
std::string_view http_date() {
    thread_local std::time_t cached_second = 0;
    thread_local char buf[40];
    thread_local std::size_t len = 0;
    const std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_second = now;
    }
    return {buf, len};
}

/// One live connection, so shutdown can close the idle ones.
struct Connection {
    beast::tcp_stream* stream;
    bool busy = false;
};

}  // namespace

class Server::Impl {
public:
    struct Worker {
        std::size_t index = 0;
        asio::io_context ioc{1};
        std::optional<tcp::acceptor> acceptor;
        std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
        WorkerHooks hooks;
        std::list<Connection> connections;
        bool draining = false;
        bool finished = false;
        std::optional<asio::steady_timer> drain_timer;
        std::optional<asio::steady_timer> accept_timer;  ///< backoff after a failed accept
        std::thread thread;
    };

    Impl(ServerConfig config, const core::Clock& clock, WorkerFactory factory)
        : config_(std::move(config)), clock_(clock), factory_(std::move(factory)) {
        for (std::string name : config_.edge.headers) {
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            edge_lower_.push_back(std::move(name));
        }
        const std::size_t n = config_.threads == 0 ? 1 : config_.threads;
        for (std::size_t i = 0; i < n; ++i) {
            workers_.push_back(std::make_unique<Worker>());
            workers_.back()->index = i;
        }
    }

    core::Result<std::uint16_t> listen() {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(config_.address, ec);
        if (ec) {
            return core::make_error(core::Errc::kInvalidArgument);
        }
        std::uint16_t port = config_.port;
        for (auto& w : workers_) {
            tcp::acceptor acc(w->ioc);
            const tcp::endpoint ep(address, port);
            acc.open(ep.protocol(), ec);
            if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
            if (!ec) acc.set_option(ReusePort(true), ec);
            if (!ec) acc.bind(ep, ec);
            if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
            if (ec) {
                return ec;
            }
            port = acc.local_endpoint().port();
            w->acceptor.emplace(std::move(acc));
        }
        port_ = port;
        // Client connections get what the descriptor limit leaves after the reserve, split over
        // the workers, so accept() reaches EMFILE only when something else leaks (docs).
        max_connections_ = connection_cap(fd_soft_limit(), config_.limits.fd_reserve,
                                          workers_.size(),
                                          config_.limits.max_connections_per_worker);
        return port;
    }

    void start() {
        for (auto& wp : workers_) {
            Worker* w = wp.get();
            w->guard.emplace(w->ioc.get_executor());
            w->thread = std::thread([this, w] {
                w->hooks = factory_(w->ioc, w->index);
                asio::co_spawn(w->ioc, accept_loop(*w), asio::detached);
                w->ioc.run();
            });
        }
    }

    void request_stop(Duration drain) {
        for (auto& wp : workers_) {
            Worker* w = wp.get();
            asio::post(w->ioc, [this, w, drain] { begin_drain(*w, drain); });
        }
    }

    void wait() {
        for (auto& w : workers_) {
            if (w->thread.joinable()) {
                w->thread.join();
            }
        }
    }

    ServerStats stats_;
    std::uint16_t port_ = 0;
    std::size_t max_connections_ = 0;

private:
    void begin_drain(Worker& w, Duration drain) {
        if (w.draining) {
            return;
        }
        w.draining = true;
        boost::system::error_code ignored;
        if (w.acceptor) {
            w.acceptor->close(ignored);
        }
        if (w.accept_timer) {
            w.accept_timer->cancel();
        }
        for (Connection& c : w.connections) {
            if (!c.busy) {
                c.stream->socket().close(ignored);
            }
        }
        w.drain_timer.emplace(w.ioc);
        w.drain_timer->expires_after(drain);
        w.drain_timer->async_wait([this, &w](boost::system::error_code ec) {
            if (ec) {
                return;
            }
            boost::system::error_code ignored2;
            for (Connection& c : w.connections) {
                c.stream->socket().close(ignored2);
            }
            maybe_finish(w);
        });
        maybe_finish(w);
    }

    void maybe_finish(Worker& w) {
        if (!w.draining || w.finished || !w.connections.empty()) {
            return;
        }
        w.finished = true;
        if (w.drain_timer) {
            w.drain_timer->cancel();
        }
        if (w.hooks.on_drained) {
            w.hooks.on_drained();
        }
        w.guard.reset();
    }

    asio::awaitable<void> accept_loop(Worker& w) {
        w.accept_timer.emplace(w.ioc);
        Duration backoff = Duration::zero();
        for (;;) {
            auto [ec, sock] = co_await w.acceptor->async_accept(kTuple);
            if (ec) {
                if (ec == asio::error::operation_aborted || w.draining) {
                    co_return;
                }
                // EMFILE/ENFILE leave the connection in the backlog and the listener readable:
                // retrying at once would spin a core while nothing can change. Wait, doubling
                // up to the maximum, and keep serving the connections we have meanwhile.
                ++stats_.accept_errors_total;
                if (ec == boost::system::errc::too_many_files_open ||
                    ec == boost::system::errc::too_many_files_open_in_system) {
                    ++stats_.accept_fd_exhausted_total;
                }
                backoff = backoff == Duration::zero()
                              ? config_.accept_backoff.first
                              : std::min(backoff * 2, config_.accept_backoff.max);
                w.accept_timer->expires_after(backoff);
                (void)co_await w.accept_timer->async_wait(kTuple);
                if (w.draining) {
                    co_return;
                }
                continue;
            }
            backoff = Duration::zero();
            ++stats_.connections_accepted_total;
            // Over the cap: accept and close at once (not "stop accepting"). The peer (nginx)
            // sees the close immediately and tries another upstream; a connection left in the
            // backlog would look established to it and wait for its read timeout instead.
            if (w.connections.size() >= max_connections_) {
                ++stats_.connections_rejected_total;
                boost::system::error_code ignored;
                sock.close(ignored);
                continue;
            }
            boost::system::error_code ignored;
            sock.set_option(tcp::no_delay(true), ignored);
            asio::co_spawn(w.ioc, session(w, std::move(sock)), [this](std::exception_ptr e) {
                if (e) {
                    ++stats_.handler_exceptions_total;
                }
            });
        }
    }

    /// Writes a server-made error and reports whether the write succeeded.
    asio::awaitable<void> write_error(beast::tcp_stream& stream, int status, std::string_view code,
                                      std::string_view message, bool retryable,
                                      std::string_view request_id) {
        Response r = error_response(status, code, message, retryable, clock_.wall_ms());
        r.close = true;
        co_await write_response(stream, r, request_id, false, 11, false);
    }

    asio::awaitable<std::size_t> write_response(beast::tcp_stream& stream, const Response& r,
                                                std::string_view request_id, bool head,
                                                unsigned version, bool keep_alive) {
        bhttp::response<bhttp::string_body> res;
        res.version(version);
        res.result(static_cast<unsigned>(r.status));
        res.set(bhttp::field::date, http_date());
        if (!r.body.empty() || r.status >= 200) {
            if (!r.body.empty()) {
                res.set(bhttp::field::content_type, r.content_type);
            }
        }
        if (!request_id.empty()) {
            res.set("X-Request-Id", request_id);
        }
        bool has_retry_after = false;
        for (const auto& [name, value] : r.headers) {
            res.insert(name, value);
            has_retry_after = has_retry_after || beast::iequals(name, "retry-after");
        }
        // Every 503/504 is retryable: tell the client when (RFC 9110 §10.2.3), whoever built it.
        if ((r.status == 503 || r.status == 504) && !has_retry_after) {
            res.set(bhttp::field::retry_after, "1");
        }
        res.keep_alive(keep_alive);
        const std::size_t body_size = r.body.size();
        if (r.status == 204 || r.status == 304) {
            // no body, no Content-Length
        } else if (head) {
            res.content_length(body_size);
        } else {
            res.body() = r.body;  // NOTE: one copy of a small JSON body
            res.prepare_payload();
        }
        stream.expires_after(config_.timeouts.write);
        if (head) {
            bhttp::response_serializer<bhttp::string_body> sr(res);
            sr.split(true);
            auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kTuple);
            co_return ec ? 0 : n;
        }
        auto [ec, n] = co_await bhttp::async_write(stream, res, kTuple);
        if (ec == beast::error::timeout) {
            ++stats_.timeouts_total;
        }
        co_return ec ? 0 : n;
    }

    void build_context(Request& req) {
        core::RequestContext& ctx = req.context();
        const auto rid = req.header("x-request-id");
        ctx.request_id = rid && core::is_valid_request_id(*rid) ? std::string(*rid)
                                                                 : core::new_request_id();
        std::optional<core::TraceContext> parent;
        if (auto tp = req.header("traceparent")) {
            parent = core::TraceContext::parse(*tp);
        }
        if (!parent) {
            if (auto tp = req.header("elastic-apm-traceparent")) {
                parent = core::TraceContext::parse(*tp);
            }
        }
        ctx.parent = parent;
        ctx.trace = parent ? parent->child() : core::TraceContext::new_root(true);
        // X-Request-Timeout-Ms is edge-only on moneta: apply_edge_trust removed it unless the
        // request came through nginx. A tiny value is raised to the floor, so a client cannot
        // make every dependency call fail at once; the result never exceeds the default.
        Duration budget = config_.timeouts.default_deadline;
        if (auto t = req.header("x-request-timeout-ms")) {
            if (auto ms = core::parse_timeout_ms(*t)) {
                const Duration asked = std::max<Duration>(*ms, config_.timeouts.min_client_deadline);
                budget = std::min(budget, asked);
            }
        }
        ctx.deadline = core::Deadline::after(clock_, budget);
    }

    asio::awaitable<void> session(Worker& w, tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        auto conn = w.connections.insert(w.connections.end(), Connection{&stream});
        ++stats_.connections_active;
        struct Unregister {
            Impl& self;
            Worker& w;
            std::list<Connection>::iterator it;
            ~Unregister() {
                w.connections.erase(it);
                --self.stats_.connections_active;
                self.maybe_finish(w);
            }
        } unregister{*this, w, conn};

        std::string remote_ip;
        {
            boost::system::error_code ec;
            const auto ep = stream.socket().remote_endpoint(ec);
            if (!ec) {
                remote_ip = ep.address().to_string();
            }
        }
        const ServerLimits& limits = config_.limits;
        beast::flat_buffer buffer(limits.header_bytes + limits.body_bytes + 8192);
        Request req;
        req.mutable_headers().reserve(limits.header_count);

        for (;;) {
            conn->busy = false;
            if (w.draining) {
                break;
            }
            // 1. The head, up to CRLFCRLF: idle timeout until the first byte, then one total
            //    header-read budget (a slowloris cannot extend it byte by byte).
            bool started = buffer.size() > 0;
            stream.expires_after(started ? config_.timeouts.header_read : config_.timeouts.idle);
            std::size_t head_len = 0;
            std::size_t searched = 0;
            bool closed = false;
            for (;;) {
                const std::string_view data(static_cast<const char*>(buffer.data().data()),
                                            buffer.size());
                const detail::HeadScan scan = detail::scan_head(data, searched);
                if (scan.skip > 0) {
                    buffer.consume(scan.skip);
                    continue;
                }
                if (scan.head_len != 0) {
                    head_len = scan.head_len;
                    break;
                }
                if (data.size() > limits.header_bytes) {
                    break;
                }
                auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
                if (ec) {
                    // beast::tcp_stream closes the socket when its timer fires, so a timed-out
                    // client gets no 408 (as with nginx's client_header_timeout): just the close.
                    if (ec == beast::error::timeout) {
                        ++stats_.timeouts_total;
                    }
                    closed = true;
                    break;
                }
                buffer.commit(n);
                // A request target already over its limit answers 414 now, not 431 later.
                if (detail::target_too_long({static_cast<const char*>(buffer.data().data()), buffer.size()},
                                            limits.uri_bytes)) {
                    break;
                }
                if (!started) {
                    started = true;
                    stream.expires_after(config_.timeouts.header_read);
                }
                conn->busy = true;
            }
            if (closed) {
                break;
            }
            conn->busy = true;
            // Over a limit before the head ended: a long request target is 414, whichever limit
            // (uri_bytes or header_bytes) it reached first; anything else is 431.
            if ((head_len == 0 || head_len > limits.header_bytes) &&
                detail::target_too_long({static_cast<const char*>(buffer.data().data()), buffer.size()},
                                        limits.uri_bytes)) {
                ++stats_.bad_requests_total;
                co_await write_error(stream, 414, "URI_TOO_LONG", "The request URI is too long.",
                                     false, "");
                break;
            }
            if (head_len == 0 || head_len > limits.header_bytes) {
                ++stats_.bad_requests_total;
                co_await write_error(stream, 431, "HEADERS_TOO_LARGE",
                                     "The request headers are too large.", false, "");
                break;
            }
            // 2. Strict checks, then Beast parses the checked head; the body follows under the
            //    body limit.
            const std::string_view head(static_cast<const char*>(buffer.data().data()), head_len);
            detail::RequestParser parser;
            const auto verdict = detail::parse_head(head, limits, parser);
            if (verdict.status != 0) {
                ++stats_.bad_requests_total;
                co_await write_error(stream, verdict.status, verdict.code, verdict.message, false, "");
                break;
            }
            buffer.consume(head_len);
            const std::size_t head_fields = detail::field_count(parser);
            auto& msg = parser.get();
            const std::string_view target(msg.target().data(), msg.target().size());
            if (!parser.is_done()) {
                stream.expires_after(config_.timeouts.body_read);
                boost::system::error_code rec;
                for (;;) {
                    buffer.consume(detail::put_body(
                        parser, {static_cast<const char*>(buffer.data().data()), buffer.size()},
                        head_fields, rec));
                    if (rec != bhttp::error::need_more) {
                        break;
                    }
                    const std::size_t room = beast::read_size(buffer, 65536);
                    if (room == 0) {
                        rec = bhttp::error::buffer_overflow;
                        break;
                    }
                    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(room), kTuple);
                    if (ec) {
                        // EOF: the body is incomplete (what Beast's put_eof answers).
                        rec = ec;
                        if (ec == asio::error::eof) {
                            rec = bhttp::error::partial_message;
                        }
                        break;
                    }
                    buffer.commit(n);
                }
                if (rec) {
                    ++stats_.bad_requests_total;
                    if (rec == bhttp::error::body_limit) {
                        co_await write_error(stream, 413, "PAYLOAD_TOO_LARGE",
                                             "The request body is too large.", false, "");
                    } else if (rec == beast::error::timeout) {
                        ++stats_.timeouts_total;  // socket already closed by the stream's timer
                    } else if (rec != bhttp::error::end_of_stream &&
                               rec != asio::error::eof && rec != asio::error::connection_reset) {
                        co_await write_error(stream, 400, "INVALID_REQUEST",
                                             "The request body is malformed.", false, "");
                    }
                    break;
                }
            }

            // 3. The handler.
            const auto t0 = clock_.steady_now();
            ++stats_.requests_total;
            ++stats_.requests_in_flight;
            req.set_line(to_method(msg.method()),
                         std::string_view(msg.method_string().data(), msg.method_string().size()),
                         target);
            auto& headers = req.mutable_headers();
            headers.clear();
            for (const auto& f : msg) {
                headers.push_back({std::string_view(f.name_string().data(), f.name_string().size()),
                                   std::string_view(f.value().data(), f.value().size())});
            }
            req.set_body(msg.body());
            req.set_remote_ip(remote_ip);
            req.clear_params();
            const EdgeVerdict edge = apply_edge_trust(headers, config_.edge.token, edge_lower_);
            if (edge.dropped != 0) {
                stats_.edge_headers_dropped_total.fetch_add(edge.dropped, std::memory_order_relaxed);
            }
            if (edge.auth_rejected) {
                ++stats_.edge_auth_rejected_total;
            }
            build_context(req);

            Response res;
            try {
                res = co_await w.hooks.handler(req);
            } catch (const std::exception&) {
                ++stats_.handler_exceptions_total;
                res = error_response(500, "INTERNAL", "Something went wrong. Try again shortly.",
                                     true, clock_.wall_ms());
            }
            --stats_.requests_in_flight;
            if (res.drop) {
                // Abortive close, no bytes written: the peer sees a reset, as from a crashed
                // upstream. No access record either: there was no response.
                boost::system::error_code ignored;
                stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
                stream.socket().close(ignored);
                break;
            }
            const bool keep_alive = msg.keep_alive() && !res.close && !w.draining;
            const std::size_t written =
                co_await write_response(stream, res, req.context().request_id,
                                        req.method() == Method::kHead, msg.version(), keep_alive);
            if (w.hooks.on_access) {
                w.hooks.on_access(AccessRecord{req, res.status, written, clock_.steady_now() - t0});
            }
            if (written == 0 || !keep_alive) {
                break;
            }
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.socket().close(ignored);
    }

    ServerConfig config_;
    std::vector<std::string> edge_lower_;  ///< config_.edge.headers, lower-cased once
    const core::Clock& clock_;
    WorkerFactory factory_;
    std::vector<std::unique_ptr<Worker>> workers_;
};

Server::Server(ServerConfig config, const core::Clock& clock, WorkerFactory factory)
    : impl_(std::make_unique<Impl>(std::move(config), clock, std::move(factory))) {}
Server::~Server() {
    impl_->request_stop(Duration::zero());
    impl_->wait();
}
core::Result<std::uint16_t> Server::listen() { return impl_->listen(); }
void Server::start() { impl_->start(); }
void Server::request_stop(Duration drain) { impl_->request_stop(drain); }
void Server::wait() { impl_->wait(); }
const ServerStats& Server::stats() const noexcept { return impl_->stats_; }
std::uint16_t Server::port() const noexcept { return impl_->port_; }
std::size_t Server::max_connections_per_worker() const noexcept { return impl_->max_connections_; }

}  // namespace moneta::http
