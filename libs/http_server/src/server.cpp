// NOTE: deliberate simplifications: no TLS (nginx terminates it), no HTTP/2, no Expect:
// 100-continue (nginx buffers bodies), responses are written whole (bodies are small JSON).
#include "moneta/http/server.hpp"

#include "moneta/http/fd_limit.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <list>
#include <thread>
#include <tuple>
#include <vector>

#include "moneta/core/hex.hpp"
#include "moneta/core/random.hpp"
#include "moneta/core/thread_name.hpp"
#include "parse.hpp"
#include "response_writer.hpp"

namespace moneta::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using IoClock = std::chrono::steady_clock;  ///< socket deadlines are real time, like the sweep's timer
constexpr IoClock::time_point kNoDeadline = IoClock::time_point::max();

/// The sweep runs at a tenth of the shortest socket timeout, between 10 ms and 500 ms: a timeout
/// fires at most 10 % late (500 ms for the defaults), and an idle worker wakes twice a second.
Duration sweep_period(const ServerTimeouts& t) {
    const Duration shortest = std::min({t.header_read, t.body_read, t.idle, t.write});
    return std::clamp<Duration>(shortest / 10, std::chrono::milliseconds(10),
                                std::chrono::milliseconds(500));
}

/// One live connection. Owned by its worker's list, so the sweep (deadlines) and the drain
/// (idle connections) can reach its socket; everything a request needs is reused from here.
struct Connection {
    Connection(tcp::socket s, const ServerLimits& l)
        : socket(std::move(s)),
          in(detail::read_buffer_initial(l), detail::read_buffer_max(l)) {}

    tcp::socket socket;
    IoClock::time_point deadline = kNoDeadline;  ///< the sweep closes the socket past it
    bool busy = false;       ///< a request is being read, handled or written (the drain waits)
    bool timed_out = false;  ///< closed by the sweep
    detail::ReadBuffer in;
    std::string out;  ///< the response head, capacity kept between requests
    Request req;
    std::string remote_ip;
};

}  // namespace

class Server::Impl {
public:
    struct Worker {
        std::size_t index = 0;
        /// Run by this worker's one thread, and every socket on it is used only from that thread
        /// (the factory builds the worker's clients there; other threads only post()): Asio's
        /// per-socket reactor lock is then dead weight, three lock/unlock pairs per request
        /// (docs/performance.md, thirteenth round). The scheduler keeps its lock, so posting
        /// from another thread (drain, the fetch coalescer) stays safe.
        asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
        std::optional<tcp::acceptor> acceptor;
        std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
        WorkerHooks hooks;
        std::list<Connection> connections;
        bool draining = false;
        bool finished = false;
        std::optional<asio::steady_timer> drain_timer;
        std::optional<asio::steady_timer> accept_timer;  ///< backoff after a failed accept
        std::optional<asio::steady_timer> sweep_timer;   ///< closes connections past their deadline
        detail::DateCache date;
        WorkerServerStats stats;
        std::thread thread;
    };

    Impl(ServerConfig config, const core::Clock& clock, WorkerFactory factory)
        : config_(std::move(config)),
          clock_(clock),
          factory_(std::move(factory)),
          sweep_period_(sweep_period(config_.timeouts)) {
        for (std::string name : config_.edge.headers) {
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            edge_lower_.push_back(std::move(name));
        }
        edge_lengths_ = edge_name_lengths(edge_lower_);
        for (std::size_t k = 0; k < KnownHeaderIndex::kSize; ++k) {
            const auto h = static_cast<KnownHeader>(k);
            if (std::find(edge_lower_.begin(), edge_lower_.end(), known_header_name(h)) != edge_lower_.end()) {
                edge_known_ |= KnownHeaderIndex::bit(h);
            }
        }
        const std::size_t n = config_.threads == 0 ? 1 : config_.threads;
        for (std::size_t i = 0; i < n; ++i) {
            workers_.push_back(std::make_unique<Worker>());
            workers_.back()->index = i;
            stat_blocks_.push_back(&workers_.back()->stats);
        }
        stats_.emplace(stat_blocks_);
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
                core::set_thread_name(config_.thread_name + "-" + std::to_string(w->index));
                w->hooks = factory_(w->ioc, w->index);
                w->sweep_timer.emplace(w->ioc);
                arm_sweep(*w);
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

    const ServerStats& stats() const noexcept { return *stats_; }

    std::uint16_t port_ = 0;
    std::size_t max_connections_ = 0;

private:
    // --- deadlines: one timer per worker, not one per socket operation ---

    void arm_sweep(Worker& w) {
        w.sweep_timer->expires_after(sweep_period_);
        w.sweep_timer->async_wait([this, &w](boost::system::error_code ec) {
            if (ec || w.finished) {
                return;
            }
            const auto now = IoClock::now();
            for (Connection& c : w.connections) {
                if (c.deadline <= now) {
                    // Closing cancels the pending read or write; the session sees timed_out.
                    // No 408 (as with nginx's client_header_timeout): just the close.
                    c.deadline = kNoDeadline;
                    c.timed_out = true;
                    boost::system::error_code ignored;
                    c.socket.close(ignored);
                }
            }
            arm_sweep(w);
        });
    }

    static void set_deadline(Connection& c, Duration d) { c.deadline = IoClock::now() + d; }

    // --- drain ---

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
                c.socket.close(ignored);
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
                c.socket.close(ignored2);
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
        if (w.sweep_timer) {
            w.sweep_timer->cancel();
        }
        if (w.hooks.on_drained) {
            w.hooks.on_drained();
        }
        w.guard.reset();
    }

    // --- accept ---

    asio::awaitable<void> accept_loop(Worker& w) {
        w.accept_timer.emplace(w.ioc);
        WorkerServerStats& st = w.stats;
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
                bump(st.accept_errors_total);
                if (ec == boost::system::errc::too_many_files_open ||
                    ec == boost::system::errc::too_many_files_open_in_system) {
                    bump(st.accept_fd_exhausted_total);
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
            bump(st.connections_accepted_total);
            // Over the cap: accept and close at once (not "stop accepting"). The peer (nginx)
            // sees the close immediately and tries another upstream; a connection left in the
            // backlog would look established to it and wait for its read timeout instead.
            if (w.connections.size() >= max_connections_) {
                bump(st.connections_rejected_total);
                boost::system::error_code ignored;
                sock.close(ignored);
                continue;
            }
            boost::system::error_code ignored;
            sock.set_option(tcp::no_delay(true), ignored);
            auto it = w.connections.emplace(w.connections.end(), std::move(sock), config_.limits);
            asio::co_spawn(w.ioc, session(w, it), [&st](std::exception_ptr e) {
                if (e) {
                    bump(st.handler_exceptions_total);
                }
            });
        }
    }

    // --- responses ---

    // A response is written by the session's own coroutine, not a nested one: begin_write()
    // serializes, the session co_awaits the returned write, end_write() settles it. One frame
    // less per request (frames beyond Asio's per-thread cache are heap allocations).

    /// Serializes @p r into the connection's head buffer; @return the write of head and body in
    /// one writev, to be awaited at once (it references @p bufs, the response and c.out).
    auto begin_write(Connection& c, const Response& r, const detail::HeadOptions& o,
                     std::array<asio::const_buffer, 2>& bufs) {
        const std::string_view body = detail::serialize_head(c.out, r, o);
        bufs = {asio::buffer(c.out), asio::buffer(body)};
        set_deadline(c, config_.timeouts.write);
        return asio::async_write(c.socket, bufs, kTuple);
    }

    /// @return the bytes written (0 when the write failed or timed out).
    std::size_t end_write(Worker& w, Connection& c, const std::tuple<boost::system::error_code, std::size_t>& done) {
        const auto& [ec, n] = done;
        c.deadline = kNoDeadline;
        if (ec && c.timed_out) {
            bump(w.stats.timeouts_total);
        }
        return ec ? 0 : n;
    }

    /// A server-made error (before any handler ran): api.md §4 body, Connection: close.
    asio::awaitable<void> write_error(Worker& w, Connection& c, const detail::HeadVerdict& v) {
        bump(w.stats.bad_requests_total);
        Response r = config_.error_page(v.status, v.code, v.message, clock_.wall_ms());
        r.close = true;
        detail::HeadOptions o;
        o.date = w.date.now();
        o.keep_alive = false;
        std::array<asio::const_buffer, 2> bufs;
        (void)end_write(w, c, co_await begin_write(c, r, o, bufs));
    }

    // --- context ---

    void build_context(Request& req) {
        core::RequestContext& ctx = req.context();
        // Assigned into the string the connection's Request keeps, so its capacity is reused.
        const auto rid = req.header(KnownHeader::kXRequestId);
        if (rid && core::is_valid_request_id(*rid)) {
            ctx.request_id.assign(*rid);
        } else {
            std::array<std::uint8_t, 16> bytes{};
            core::secure_random_bytes(bytes);
            ctx.request_id.resize(32);
            core::write_hex(bytes, ctx.request_id.data());
        }
        std::optional<core::TraceContext> parent;
        if (auto tp = req.header(KnownHeader::kTraceparent)) {
            parent = core::TraceContext::parse(*tp);
        }
        if (!parent) {
            if (auto tp = req.header(KnownHeader::kElasticApmTraceparent)) {
                parent = core::TraceContext::parse(*tp);
            }
        }
        ctx.parent = parent;
        ctx.trace = parent ? parent->child() : core::TraceContext::new_root(true);
        // Assigned (not replaced): the connection's Request keeps the string's capacity.
        ctx.tracestate.clear();
        if (parent) {
            if (auto ts = req.header(KnownHeader::kTracestate); ts && core::TraceContext::valid_tracestate(*ts)) {
                ctx.tracestate.assign(*ts);
            }
        }
        // X-Request-Timeout-Ms is edge-only on moneta: apply_edge_trust removed it unless the
        // request came through nginx. A tiny value is raised to the floor, so a client cannot
        // make every dependency call fail at once; the result never exceeds the default.
        Duration budget = config_.timeouts.default_deadline;
        if (auto t = req.header(KnownHeader::kXRequestTimeoutMs)) {
            if (auto ms = core::parse_timeout_ms(*t)) {
                const Duration asked = std::max<Duration>(*ms, config_.timeouts.min_client_deadline);
                budget = std::min(budget, asked);
            }
        }
        ctx.deadline = core::Deadline::after(clock_, budget);
    }

    // --- one connection ---

    enum class Read { kOk, kClosed, kTimedOut, kEof };

    /// One read into the buffer's free space, awaited by the session itself (no frame of its
    /// own): `settle_read(c, co_await read_some(c))`.
    auto read_some(Connection& c) {
        return c.socket.async_read_some(asio::buffer(c.in.room(), c.in.room_size()), kTuple);
    }

    static Read settle_read(Connection& c, const std::tuple<boost::system::error_code, std::size_t>& done) {
        const auto& [ec, n] = done;
        if (ec) {
            return c.timed_out ? Read::kTimedOut : ec == asio::error::eof ? Read::kEof : Read::kClosed;
        }
        c.in.commit(n);
        return Read::kOk;
    }

    asio::awaitable<void> session(Worker& w, std::list<Connection>::iterator it) {
        Connection& c = *it;
        WorkerServerStats& st = w.stats;
        bump(st.connections_active, std::int64_t{1});
        struct Unregister {
            Impl& self;
            Worker& w;
            std::list<Connection>::iterator it;
            ~Unregister() {
                w.connections.erase(it);
                bump(w.stats.connections_active, std::int64_t{-1});
                self.maybe_finish(w);
            }
        } unregister{*this, w, it};

        {
            boost::system::error_code ec;
            const auto ep = c.socket.remote_endpoint(ec);
            if (!ec) {
                c.remote_ip = ep.address().to_string();
            }
        }
        const ServerLimits& limits = config_.limits;
        Request& req = c.req;
        const Request::IndexedFields fields = req.indexed_fields();
        fields.fields.reserve(limits.header_count);  // fixed slots for the connection's life
        detail::HeadFacts facts;
        std::array<asio::const_buffer, 2> out_bufs;  // the response being written

        for (;;) {
            c.busy = false;
            if (w.draining) {
                break;
            }
            // 1. The head, up to CRLFCRLF: idle timeout until the first byte, then one total
            //    header-read budget (a slowloris cannot extend it byte by byte).
            c.in.compact(limits.header_bytes + detail::kReadSlack);
            bool started = !c.in.empty();
            // The header-read budget runs from the head's first byte, but it is armed only before
            // a wait for more of the head: a head that arrived whole (most) is never waited for,
            // and costs no clock read for it.
            bool arm_header_deadline = started;
            if (!started) {
                set_deadline(c, config_.timeouts.idle);
            }
            std::size_t head_len = 0;
            std::size_t searched = 0;
            bool closed = false;
            bool parsed = false;     // the head was found and parsed in one pass
            bool try_whole = true;   // that pass is tried once per request
            for (;;) {
                // Most heads arrive whole in one read: the strict pass finds where the head ends
                // while it cuts it, with no search for CRLFCRLF first. Once per request (a head
                // arriving in pieces is not parsed again at every read); anything but a whole,
                // acceptable head goes the long way below, which gives it its verdict.
                if (try_whole && !c.in.empty()) {
                    try_whole = false;
                    head_len = detail::parse_whole_head(c.in.view(), limits, facts, fields.fields, &fields.known);
                    if (head_len != 0) {
                        parsed = true;
                        break;
                    }
                }
                // An empty buffer (a keep-alive connection between requests) holds no head, nothing
                // over a limit and no target: straight to the read.
                if (!c.in.empty()) {
                    const detail::HeadScan scan = detail::scan_head(c.in.view(), searched);
                    if (scan.skip > 0) {
                        c.in.consume(scan.skip);
                        searched = 0;
                        continue;
                    }
                    if (scan.head_len != 0) {
                        head_len = scan.head_len;
                        break;
                    }
                    if (c.in.size() > limits.header_bytes) {
                        break;
                    }
                    // A request target already over its limit answers 414 now, not 431 later.
                    // Checked before every wait for more bytes (also after skipped leading CRLFs),
                    // so the answer does not depend on how the bytes were split into reads.
                    if (detail::target_too_long(c.in.view(), limits.uri_bytes)) {
                        break;
                    }
                }
                if (arm_header_deadline) {
                    arm_header_deadline = false;
                    set_deadline(c, config_.timeouts.header_read);
                }
                const Read r = settle_read(c, co_await read_some(c));
                if (r != Read::kOk) {
                    if (r == Read::kTimedOut) {
                        bump(st.timeouts_total);
                    }
                    closed = true;
                    break;
                }
                if (!started) {
                    started = true;
                    arm_header_deadline = true;
                }
                c.busy = true;
            }
            if (closed) {
                break;
            }
            c.busy = true;
            // Over a limit before the head ended: a long request target is 414, whichever limit
            // (uri_bytes or header_bytes) it reached first; anything else is 431.
            if (head_len == 0 || head_len > limits.header_bytes) {
                if (detail::target_too_long(c.in.view(), limits.uri_bytes)) {
                    co_await write_error(w, c, {414, "URI_TOO_LONG", "The request URI is too long."});
                } else {
                    co_await write_error(w, c, {431, "HEADERS_TOO_LARGE",
                                                "The request headers are too large."});
                }
                break;
            }
            // 2. One strict pass over the head into the Request's slots and its index of the known
            //    headers (views into c.in).
            auto parse = [&] {
                return detail::parse_head(c.in.view().substr(0, head_len), limits, facts, fields.fields,
                                          &fields.known);
            };
            const detail::HeadVerdict verdict = parsed ? detail::HeadVerdict{} : parse();
            if (verdict.status != 0) {
                co_await write_error(w, c, verdict);
                break;
            }
            // 3. The body, from the bytes already read when they are there. A move of the buffer
            //    (a body larger than its current capacity) re-parses the head at its new place.
            std::string_view body;
            std::size_t request_len = head_len;
            detail::HeadVerdict body_error;
            bool body_closed = false;
            if (facts.chunked) {
                detail::ChunkedDecoder decoder(limits.body_bytes);
                for (;;) {
                    std::size_t len = c.in.size() - head_len;
                    const auto status = decoder.feed(c.in.data() + head_len, len);
                    c.in.resize(head_len + len);
                    if (status == detail::ChunkedDecoder::Status::kDone) {
                        break;
                    }
                    if (status == detail::ChunkedDecoder::Status::kTooLarge) {
                        body_error = {413, "PAYLOAD_TOO_LARGE", "The request body is too large."};
                        break;
                    }
                    if (status == detail::ChunkedDecoder::Status::kMalformed) {
                        body_error = {400, "INVALID_REQUEST", "The request body is malformed."};
                        break;
                    }
                    if (c.in.room_size() == 0) {
                        // Grow (a chunked body has no announced size); never past the maximum.
                        const std::size_t want = std::min(c.in.size() + detail::kReadSlack,
                                                          detail::read_buffer_max(limits));
                        const auto rs = want > c.in.size() ? c.in.reserve(want)
                                                           : detail::ReadBuffer::Reserve::kTooLarge;
                        if (rs == detail::ReadBuffer::Reserve::kTooLarge) {
                            body_error = {400, "INVALID_REQUEST", "The request body is malformed."};
                            break;
                        }
                        if (rs == detail::ReadBuffer::Reserve::kMoved) {
                            (void)parse();
                        }
                    }
                    set_deadline(c, config_.timeouts.body_read);
                    const Read r = settle_read(c, co_await read_some(c));
                    if (r == Read::kEof) {
                        body_error = {400, "INVALID_REQUEST", "The request body is malformed."};
                        break;
                    }
                    if (r != Read::kOk) {
                        body_closed = true;
                        if (r == Read::kTimedOut) {
                            bump(st.timeouts_total);
                        }
                        break;
                    }
                }
                body = {c.in.data() + head_len, decoder.decoded()};
                request_len = head_len + decoder.decoded();
            } else if (facts.has_content_length && facts.content_length > 0) {
                const std::size_t need = head_len + static_cast<std::size_t>(facts.content_length);
                if (c.in.size() < need) {
                    // parse_head refused a Content-Length over body_bytes, so this fits the max.
                    if (c.in.reserve(need) == detail::ReadBuffer::Reserve::kMoved) {
                        (void)parse();
                    }
                    set_deadline(c, config_.timeouts.body_read);
                }
                while (c.in.size() < need) {
                    const Read r = settle_read(c, co_await read_some(c));
                    if (r == Read::kEof) {
                        body_error = {400, "INVALID_REQUEST", "The request body is malformed."};
                        break;
                    }
                    if (r != Read::kOk) {
                        body_closed = true;
                        if (r == Read::kTimedOut) {
                            bump(st.timeouts_total);
                        }
                        break;
                    }
                }
                body = c.in.view().substr(head_len, need - head_len);
                request_len = need;
            }
            if (body_closed) {
                bump(st.bad_requests_total);
                break;
            }
            if (body_error.status != 0) {
                co_await write_error(w, c, body_error);
                break;
            }
            c.deadline = kNoDeadline;  // the handler runs under its own request deadline

            // 4. The handler.
            const auto t0 = clock_.steady_now();
            bump(st.requests_total);
            bump(st.requests_in_flight, std::int64_t{1});
            req.set_line(facts.method, facts.method_string, facts.target, facts.path_len);
            req.set_body(body);
            req.set_remote_ip(c.remote_ip);
            req.clear_params();
            // Only a field whose name has the length of an edge name can be one: most direct
            // requests have none, and the scan is skipped (its verdict would be all false).
            EdgeVerdict edge;
            if ((facts.name_lengths & edge_lengths_) != 0) {
                edge = apply_edge_trust(fields.fields, config_.edge.token, edge_lower_);
            }
            if (!edge.trusted) {
                fields.known.forget(edge_known_);  // the fields it removed are gone from the index too
            }
            if (edge.dropped != 0) {
                bump(st.edge_headers_dropped_total, std::uint64_t{edge.dropped});
            }
            if (edge.auth_rejected) {
                bump(st.edge_auth_rejected_total);
            }
            build_context(req);

            Response res;
            try {
                res = co_await w.hooks.handler(req);
            } catch (const std::exception&) {
                bump(st.handler_exceptions_total);
                res = config_.error_page(500, "INTERNAL", "Something went wrong. Try again shortly.",
                                         clock_.wall_ms());
            }
            req.end(res.status);  // what a wrapper left to settle (a destroyed session: ~Request)
            bump(st.requests_in_flight, std::int64_t{-1});
            if (res.drop) {
                // Abortive close, no bytes written: the peer sees a reset, as from a crashed
                // upstream. No access record either: there was no response.
                boost::system::error_code ignored;
                c.socket.set_option(asio::socket_base::linger(true, 0), ignored);
                c.socket.close(ignored);
                break;
            }
            detail::HeadOptions o;
            o.date = w.date.now();
            o.request_id = req.context().request_id;
            o.head_method = req.method() == Method::kHead;
            o.version = facts.version;
            o.keep_alive = facts.keep_alive && !res.close && !w.draining;
            const std::size_t written = end_write(w, c, co_await begin_write(c, res, o, out_bufs));
            if (w.hooks.on_access) {
                w.hooks.on_access(AccessRecord{req, res.status, written, clock_.steady_now() - t0});
            }
            req.recycle_response_buffer(std::move(res.body));
            if (written == 0 || !o.keep_alive) {
                break;
            }
            c.in.consume(request_len);
        }
        boost::system::error_code ignored;
        c.socket.shutdown(tcp::socket::shutdown_send, ignored);
        c.socket.close(ignored);
    }

    ServerConfig config_;
    std::vector<std::string> edge_lower_;  ///< config_.edge.headers, lower-cased once
    std::uint32_t edge_known_ = 0;         ///< the KnownHeaderIndex bits of the edge-only headers
    std::uint64_t edge_lengths_ = 0;       ///< edge_name_lengths(edge_lower_)
    const core::Clock& clock_;
    WorkerFactory factory_;
    Duration sweep_period_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<const WorkerServerStats*> stat_blocks_;
    std::optional<ServerStats> stats_;
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
const ServerStats& Server::stats() const noexcept { return impl_->stats(); }
std::uint16_t Server::port() const noexcept { return impl_->port_; }
std::size_t Server::max_connections_per_worker() const noexcept { return impl_->max_connections_; }

}  // namespace moneta::http
