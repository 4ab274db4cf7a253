#include "client_impl.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <utility>

#include "moneta/core/assert.hpp"
#include "moneta/core/random.hpp"
#include "resp.hpp"

namespace moneta::redis {
namespace {

using core::Errc;
constexpr auto kUseAwaitable = net::as_tuple(net::use_awaitable);

void inc(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
}

// Completion of the background tasks: they return errors as values, so an exception here is a
// bug (or bad_alloc). Report it instead of swallowing it like `detached` would.
void report_exception(std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "moneta::redis: background task failed: %s\n", ex.what());
    } catch (...) {
        std::fprintf(stderr, "moneta::redis: background task failed\n");
    }
}

}  // namespace

Client::Impl::Impl(net::any_io_executor executor, ClientConfig config, core::Clock& clock)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      clock_(clock),
      arenas_(std::max<std::size_t>(config_.read_buffer_size, 1024)),
      waits_(executor_),
      deadline_timer_(executor_),
      backoff_timer_(executor_),
      run_done_(executor_) {
    // Never expires: async_stop() waiters are woken by cancel() when async_run() ends.
    run_done_.expires_at(net::steady_timer::time_point::max());
}

Client::Impl::~Impl() {
    // Every suspended call holds a reference to us, so nobody waits any more.
    MONETA_ASSERT(pending_.empty() || !conn_, "pending calls outlived the client");
}

void Client::Impl::check_thread() const {
    MONETA_ASSERT(loop_thread_ == std::thread::id{} || loop_thread_ == std::this_thread::get_id(),
                  "redis::Client used from a thread other than its io_context's");
}

void Client::Impl::start() {
    if (started_ || stopping_) {
        return;
    }
    started_ = true;
    running_ = true;
    // The frame owns a reference from its creation: the Client may be destroyed before the loop
    // ever runs this task.
    net::co_spawn(executor_, async_run(shared_from_this()), report_exception);
}

void Client::Impl::stop() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    backoff_timer_.cancel();
    disarm_deadline_timer();
    if (connecting_) {
        boost::system::error_code ignored;
        connecting_->resolver.cancel();
        connecting_->socket.close(ignored);
    }
    if (conn_) {
        fail_connection(conn_, Errc::kCancelled, "stopped");
    }
}

net::awaitable<void> Client::Impl::async_stop() {
    auto self = shared_from_this();
    stop();
    while (running_) {
        co_await run_done_.async_wait(kUseAwaitable);
    }
}

net::awaitable<bool> Client::Impl::async_wait_connected(Duration timeout) {
    auto self = shared_from_this();
    // Real time on purpose: with a FakeClock injected, the bound must still pass.
    const auto until = std::chrono::steady_clock::now() + timeout;
    net::steady_timer poll(executor_);
    while (!connected() && !stopping_ && std::chrono::steady_clock::now() < until) {
        poll.expires_after(std::chrono::milliseconds(5));
        auto [ec] = co_await poll.async_wait(kUseAwaitable);
        if (ec) {
            break;  // cancelled by our caller
        }
    }
    co_return connected();
}

// ---- background connection task -----------------------------------------------------------

Duration Client::Impl::backoff_delay(std::uint32_t attempt) {
    Duration d = config_.reconnect_backoff_min;
    for (std::uint32_t i = 0; i < attempt && d < config_.reconnect_backoff_max; ++i) {
        d *= 2;
    }
    d = std::min(d, config_.reconnect_backoff_max);
    // Jitter in [d/2, d]: many workers (and processes) losing Redis together must not reconnect
    // in lockstep.
    const auto half = d.count() / 2;
    const auto jitter = half > 0 ? static_cast<Duration::rep>(core::secure_random_u64() %
                                                              static_cast<std::uint64_t>(half + 1))
                                 : 0;
    return Duration(d.count() - half + jitter);
}

net::awaitable<void> Client::Impl::async_run(std::shared_ptr<Impl> self) {
    loop_thread_ = std::this_thread::get_id();
    std::uint32_t attempt = 0;
    while (!stopping_) {
        auto conn = std::make_shared<Connection>(executor_, *arenas_);
        connecting_ = conn;
        std::string why;
        const Errc e = co_await async_connect(conn, why);
        connecting_.reset();
        if (stopping_) {
            break;
        }
        if (e == Errc::kOk) {
            attempt = 0;
            conn_ = conn;
            last_error_.clear();
            consecutive_timeouts_ = 0;
            stats_.connected.store(1, std::memory_order_relaxed);
            if (ever_connected_) {
                inc(stats_.reconnects_total);
            }
            ever_connected_ = true;
            net::co_spawn(executor_, async_write_loop(self, conn), report_exception);
            co_await async_read_loop(conn);  // returns once the connection is gone
            if (stopping_) {
                break;
            }
        } else {
            inc(stats_.connect_failures_total);
            last_error_ = std::move(why);
        }
        backoff_timer_.expires_after(backoff_delay(attempt));
        attempt = std::min<std::uint32_t>(attempt + 1, 30);
        co_await backoff_timer_.async_wait(kUseAwaitable);
    }
    running_ = false;
    run_done_.cancel();
}

net::awaitable<Errc> Client::Impl::async_connect(std::shared_ptr<Connection> conn, std::string& why) {
    // One guard for the whole connect + handshake: on expiry it closes the socket, which aborts
    // whichever operation is in progress.
    net::steady_timer guard(executor_);
    guard.expires_after(config_.connect_timeout);
    guard.async_wait([conn](const boost::system::error_code& ec) {
        if (!ec) {
            boost::system::error_code ignored;
            conn->timed_out = true;
            conn->resolver.cancel();
            conn->socket.close(ignored);
        }
    });
    struct CancelGuard {
        net::steady_timer& t;
        ~CancelGuard() { t.cancel(); }
    } cancel_guard{guard};

    auto fail = [&](Errc e, std::string text) {
        why = conn->timed_out ? "connect/handshake timed out" : std::move(text);
        return conn->timed_out ? Errc::kTimeout : e;
    };

    boost::system::error_code ec;
    const auto address = net::ip::make_address(config_.host, ec);
    if (!ec) {
        auto [cec] = co_await conn->socket.async_connect(
            net::ip::tcp::endpoint(address, config_.port), kUseAwaitable);
        ec = cec;
    } else {
        auto [rec, results] = co_await conn->resolver.async_resolve(
            config_.host, std::to_string(config_.port), kUseAwaitable);
        if (rec) {
            co_return fail(Errc::kConnectFailed, "resolve " + config_.host + ": " + rec.message());
        }
        auto [cec, endpoint] = co_await net::async_connect(conn->socket, results, kUseAwaitable);
        ec = cec;
    }
    if (ec || stopping_) {
        co_return fail(Errc::kConnectFailed, "connect: " + ec.message());
    }
    conn->socket.set_option(net::ip::tcp::no_delay(true), ec);
    conn->socket.set_option(net::socket_base::keep_alive(true), ec);

    // Handshake, pipelined: [AUTH] [SELECT] PING. PING proves the server answers (a stopped
    // Redis accepts TCP connections) and is the reply we wait for last.
    std::string hello;
    std::size_t expected = 0;
    if (!config_.password.empty()) {
        if (config_.username.empty()) {
            const std::string_view a[] = {"AUTH", config_.password};
            detail::append_command(hello, a);
        } else {
            const std::string_view a[] = {"AUTH", config_.username, config_.password};
            detail::append_command(hello, a);
        }
        ++expected;
    }
    const std::string db = std::to_string(config_.database);
    if (config_.database != 0) {
        const std::string_view a[] = {"SELECT", db};
        detail::append_command(hello, a);
        ++expected;
    }
    const std::string_view ping[] = {"PING"};
    detail::append_command(hello, ping);
    ++expected;

    auto [wec, written] = co_await net::async_write(conn->socket, net::buffer(hello), kUseAwaitable);
    if (wec) {
        co_return fail(Errc::kConnectFailed, "handshake write: " + wec.message());
    }
    std::size_t got = 0;
    std::string first_error;
    while (got < expected) {
        Reply reply;
        const auto status = conn->reader.next(reply);
        if (status == detail::ParseStatus::kError) {
            co_return fail(Errc::kProtocolError, std::string("handshake: protocol error: ") + conn->reader.error());
        }
        if (status == detail::ParseStatus::kNeedMore) {
            const auto room = conn->reader.prepare();
            if (room.empty()) {
                co_return fail(Errc::kProtocolError, std::string("handshake: ") + conn->reader.error());
            }
            auto [rec, n] = co_await conn->socket.async_read_some(net::buffer(room.data(), room.size()),
                                                                  kUseAwaitable);
            if (rec) {
                co_return fail(Errc::kConnectFailed, "handshake read: " + rec.message());
            }
            conn->reader.commit(n);
            continue;
        }
        ++got;
        if (reply.is_error() && first_error.empty()) {
            first_error = reply.as_string();
        }
    }
    if (!first_error.empty()) {
        // Wrong password, unknown database, LOADING...: retried with backoff, surfaced through
        // last_error() and kUnavailable on calls.
        co_return fail(Errc::kConnectFailed, "handshake: " + first_error);
    }
    if (conn->timed_out || stopping_) {
        co_return fail(Errc::kConnectFailed, "stopped");
    }
    co_return Errc::kOk;
}

net::awaitable<void> Client::Impl::async_read_loop(std::shared_ptr<Connection> conn) {
    for (;;) {
        // Replies delivered by the last read may still be alive (their callers resume later):
        // prepare() never overwrites their bytes (docs/redis_client.md "Read path").
        const auto room = conn->reader.prepare();
        if (room.empty()) {
            fail_connection(conn, Errc::kProtocolError, std::string("protocol error: ") + conn->reader.error());
            co_return;
        }
        auto [ec, n] = co_await conn->socket.async_read_some(net::buffer(room.data(), room.size()),
                                                             kUseAwaitable);
        if (conn != conn_) {
            co_return;  // already torn down (stop, stuck detection, write error)
        }
        if (ec) {
            fail_connection(conn, Errc::kConnectionClosed,
                            ec == net::error::eof ? "connection closed by redis"
                                                  : "read: " + ec.message());
            co_return;
        }
        conn->reader.commit(n);
        for (;;) {
            Reply reply;
            const auto status = conn->reader.next(reply);
            if (status == detail::ParseStatus::kNeedMore) {
                break;
            }
            if (status == detail::ParseStatus::kError) {
                fail_connection(conn, Errc::kProtocolError, std::string("protocol error: ") + conn->reader.error());
                co_return;
            }
            if (!dispatch(std::move(reply))) {
                fail_connection(conn, Errc::kProtocolError, "reply without a request");
                co_return;
            }
        }
    }
}

// @p self keeps the client state alive while this task runs.
net::awaitable<void> Client::Impl::async_write_loop([[maybe_unused]] std::shared_ptr<Impl> self,
                                                    std::shared_ptr<Connection> conn) {
    while (conn == conn_) {
        if (staging_.empty()) {
            // Woken by enqueue() through complete(), which posts: calls made in the same loop
            // turn all land in staging_ before we run again, and leave in one write.
            conn->writer_idle = true;
            co_await conn->wake.async_wait(waits_, kUseAwaitable);
            conn->writer_idle = false;
            continue;
        }
        conn->out.swap(staging_);  // both buffers keep their capacity
        auto [ec, n] = co_await net::async_write(conn->socket, net::buffer(conn->out), kUseAwaitable);
        conn->out.clear();
        if (ec) {
            fail_connection(conn, Errc::kConnectionClosed, "write: " + ec.message());
            co_return;
        }
        inc(stats_.writes_total);
    }
}

// ---- per-call path --------------------------------------------------------------------------

bool Client::Impl::stuck() const {
    return config_.stuck_timeout > Duration::zero() && !pending_.empty() &&
           clock_.steady_now() - pending_.front().sent_at > config_.stuck_timeout;
}

Errc Client::Impl::admit(core::Deadline deadline, const CommandControl& control, std::size_t n,
                         Duration& timeout) {
    check_thread();
    if (stopping_) {
        return Errc::kCancelled;
    }
    if (deadline.expired(clock_)) {
        return Errc::kDeadlineExceeded;  // fail without sending
    }
    if (control.timeout && *control.timeout <= Duration::zero()) {
        return Errc::kInvalidArgument;
    }
    if (!conn_) {
        return Errc::kUnavailable;  // fail fast, never queue while disconnected
    }
    if (stuck()) {
        fail_connection(conn_, Errc::kConnectionClosed, "oldest command unanswered for too long");
        return Errc::kUnavailable;
    }
    if (pending_commands_ + n > config_.max_pending) {
        return Errc::kOverloaded;
    }
    timeout = deadline.clamp(clock_, control.timeout.value_or(config_.command_timeout));
    return Errc::kOk;
}

void Client::Impl::enqueue(Waiter& w, std::size_t n, Duration timeout, core::Deadline deadline) {
    const core::SteadyTime now = clock_.steady_now();
    w.seq = pending_.push(PendingSlot{&w, static_cast<std::uint32_t>(n), now});
    w.queue = &pending_;
    w.expires_at = now + timeout;
    w.deadline = deadline;
    pending_commands_ += n;
    stats_.pending.store(static_cast<std::int64_t>(pending_commands_), std::memory_order_relaxed);
    inc(stats_.commands_total, n);
    inc(stats_.round_trips_total);
    if (conn_->writer_idle) {
        conn_->writer_idle = false;
        conn_->wake.complete();
    }
    arm_deadline_timer(w.expires_at);
}

net::awaitable<Errc> Client::Impl::async_wait_reply(Waiter& w) {
    if (w.done) {
        co_return w.error;  // completed before we got to wait
    }
    auto [ec] = co_await w.wake.async_wait(waits_, kUseAwaitable);
    co_return settle_wait(w, ec);
}

Errc Client::Impl::settle_wait(Waiter& w, const boost::system::error_code& ec) {
    if (w.done) {
        return w.error;  // a reply, a dropped connection or expire_waiters() decided
    }
    // Only our caller's cancellation ends a wait undecided. Give up but keep the FIFO slot: the
    // late reply is discarded on arrival.
    MONETA_ASSERT(ec, "woken without a result");
    (void)ec;
    w.abandon();
    return Errc::kCancelled;
}

void Client::Impl::arm_deadline_timer(core::SteadyTime at) {
    // Deadlines are mostly now + command_timeout, so a new call rarely expires before the
    // armed time: the timer is armed about once per command_timeout, not once per call.
    if (deadline_armed_ && deadline_armed_at_ <= at) {
        return;
    }
    deadline_armed_ = true;
    deadline_armed_at_ = at;
    const std::uint64_t generation = ++deadline_generation_;
    // expires_after() cancels a wait armed for later; its completion then finds a newer
    // generation (as does one that had already fired but not yet run).
    deadline_timer_.expires_after(at - clock_.steady_now());
    deadline_timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
        if (ec || generation != self->deadline_generation_) {
            return;
        }
        self->deadline_armed_ = false;
        self->expire_waiters();
    });
}

void Client::Impl::disarm_deadline_timer() {
    if (deadline_armed_) {
        deadline_armed_ = false;
        ++deadline_generation_;
        deadline_timer_.cancel();
    }
}

void Client::Impl::expire_waiters() {
    const core::SteadyTime now = clock_.steady_now();
    core::SteadyTime next = core::SteadyTime::max();
    bool waiting = false;
    // A scan of at most max_pending entries, about once per command_timeout. on_timeout() may
    // drop the connection, which completes and clears the whole queue: the loop then ends.
    for (std::size_t i = 0; i < pending_.size(); ++i) {
        Waiter* w = pending_.at(i).waiter;
        if (w == nullptr) {
            continue;
        }
        if (w->expires_at > now) {
            waiting = true;
            next = std::min(next, w->expires_at);
            continue;
        }
        // Give up but keep the FIFO slot: the late reply is discarded on arrival.
        w->abandon();
        inc(stats_.timeouts_total);
        // The caller's deadline, not our command budget, ended the wait: it says nothing about
        // the server, so it must not count towards dropping the connection (else any client
        // with a 1 ms X-Request-Timeout-Ms could make us reconnect, failing everyone's calls).
        const bool caller_deadline = w->deadline.expired(clock_);
        w->error = caller_deadline ? Errc::kDeadlineExceeded : Errc::kTimeout;
        w->done = true;
        w->wake.complete();  // resumes the caller in a later loop turn
        if (!caller_deadline) {
            on_timeout();
        }
    }
    if (waiting && !pending_.empty()) {
        arm_deadline_timer(next);
    }
}

void Client::Impl::on_timeout() {
    ++consecutive_timeouts_;
    if (!conn_) {
        return;
    }
    if (config_.max_consecutive_timeouts != 0 &&
        consecutive_timeouts_ >= config_.max_consecutive_timeouts) {
        fail_connection(conn_, Errc::kConnectionClosed, "too many consecutive timeouts");
    } else if (stuck()) {
        fail_connection(conn_, Errc::kConnectionClosed, "oldest command unanswered for too long");
    }
}

bool Client::Impl::dispatch(Reply&& reply) {
    if (pending_.empty()) {
        return false;
    }
    consecutive_timeouts_ = 0;  // the connection is alive
    PendingSlot& slot = pending_.front();
    if (Waiter* w = slot.waiter) {
        if (w->many != nullptr) {
            w->many->push_back(std::move(reply));
        } else {
            w->single = std::move(reply);
        }
    } else {
        inc(stats_.late_replies_total);
    }
    --pending_commands_;
    stats_.pending.store(static_cast<std::int64_t>(pending_commands_), std::memory_order_relaxed);
    if (--slot.remaining == 0) {
        if (Waiter* w = slot.waiter) {
            w->done = true;
            w->queue = nullptr;
            w->wake.complete();  // resumes the caller in a later loop turn
        }
        pending_.pop_front();
    }
    return true;
}

void Client::Impl::complete_all(Errc reason) {
    pending_.for_each([reason](PendingSlot& slot) {
        if (Waiter* w = slot.waiter) {
            w->error = reason;
            w->done = true;
            w->queue = nullptr;
            w->wake.complete();
        }
    });
    pending_.clear();
    pending_commands_ = 0;
    stats_.pending.store(0, std::memory_order_relaxed);
    disarm_deadline_timer();  // nothing waits any more
}

void Client::Impl::fail_connection(const std::shared_ptr<Connection>& conn, Errc reason, std::string why) {
    if (!conn || conn != conn_) {
        return;
    }
    auto dead = std::move(conn_);  // conn may alias conn_: keep the object alive here
    boost::system::error_code ignored;
    dead->socket.close(ignored);  // aborts the reader's and writer's operations
    dead->wake.complete();  // the writer sees conn != conn_ and ends
    stats_.connected.store(0, std::memory_order_relaxed);
    last_error_ = std::move(why);
    staging_.clear();
    consecutive_timeouts_ = 0;
    complete_all(reason);
}

core::Result<Reply> Client::Impl::finish(Errc e) {
    inc(stats_.errors_total);
    return core::make_error(e);
}

net::awaitable<core::Result<Reply>> Client::Impl::async_command(std::span<const std::string_view> args,
                                                                core::Deadline deadline,
                                                                CommandControl control) {
    auto self = shared_from_this();  // suspended calls keep the client state alive
    if (args.empty()) {
        co_return finish(Errc::kInvalidArgument);
    }
    Duration timeout{};
    if (const Errc e = admit(deadline, control, 1, timeout); e != Errc::kOk) {
        co_return finish(e);
    }
    Waiter w;
    detail::append_command(staging_, args);
    enqueue(w, 1, timeout, deadline);
    // The wait inline, not a nested coroutine: one frame less per call (docs/redis_client.md).
    Errc e = w.error;
    if (!w.done) {
        auto [ec] = co_await w.wake.async_wait(waits_, kUseAwaitable);
        e = settle_wait(w, ec);
    }
    if (e != Errc::kOk) {
        co_return finish(e);
    }
    if (w.single.is_error()) {
        inc(stats_.error_replies_total);
    }
    co_return std::move(w.single);
}

net::awaitable<core::Result<Replies>> Client::Impl::async_pipeline(const Pipeline& pipeline,
                                                                              core::Deadline deadline,
                                                                              CommandControl control) {
    auto self = shared_from_this();
    Replies replies;
    if (pipeline.empty()) {
        co_return replies;
    }
    // Sends and waits inline, like async_eval: one coroutine frame per pipeline (a nested send
    // and wait were two more, each a heap allocation once Asio's per-thread frame cache is used
    // up). The second pass runs only for NOSCRIPT recovery.
    std::string loads;          // SCRIPT LOAD of the pipeline's scripts (second pass only)
    std::size_t load_count = 0;
    for (;;) {
        const std::size_t n = load_count + pipeline.size();
        Duration timeout{};
        Errc e = admit(deadline, control, n, timeout);
        if (e == Errc::kOk) {
            replies.clear();
            replies.reserve(n);
            Waiter w;
            w.many = &replies;
            staging_.append(loads);
            staging_.append(pipeline.wire());
            enqueue(w, n, timeout, deadline);
            e = w.error;
            if (!w.done) {
                auto [ec] = co_await w.wake.async_wait(waits_, kUseAwaitable);
                e = settle_wait(w, ec);
            }
        }
        if (e != Errc::kOk) {
            inc(stats_.errors_total);
            co_return core::make_error(e);
        }
        if (load_count != 0) {
            for (std::size_t i = 0; i < load_count; ++i) {
                if (replies[i].is_error()) {
                    inc(stats_.error_replies_total);
                }
            }
            replies.erase(replies.begin(), replies.begin() + static_cast<std::ptrdiff_t>(load_count));
            break;
        }
        const bool noscript = pipeline.has_scripts() &&
                              std::any_of(replies.begin(), replies.end(),
                                          [](const Reply& r) { return r.is_error_with_prefix("NOSCRIPT"); });
        if (!noscript) {
            break;
        }
        // The script cache was flushed (restart, failover, SCRIPT FLUSH). One more round trip:
        // SCRIPT LOAD of the pipeline's scripts, then the whole pipeline again (its contract:
        // safe to repeat), so its commands still run in their order.
        inc(stats_.noscript_reloads_total);
        const auto scripts = pipeline.scripts();
        for (const Script* sc : scripts) {
            const std::string_view load[] = {"SCRIPT", "LOAD", sc->source()};
            detail::append_command(loads, load);
        }
        load_count = scripts.size();
    }
    for (const auto& r : replies) {
        if (r.is_error()) {
            inc(stats_.error_replies_total);
        }
    }
    co_return replies;
}

net::awaitable<core::Result<Reply>> Client::Impl::async_eval_once(const Script& script,
                                                                  std::span<const std::string_view> keys,
                                                                  std::span<const std::string_view> args,
                                                                  Encoding encoding,
                                                                  core::Deadline deadline,
                                                                  CommandControl control) {
    Duration timeout{};
    if (const Errc e = admit(deadline, control, 1, timeout); e != Errc::kOk) {
        co_return finish(e);
    }
    Waiter w;
    detail::append_eval(staging_, encoding == Encoding::kEvalSha ? detail::EvalKind::kEvalSha : detail::EvalKind::kEval,
                        script, keys, args);
    enqueue(w, 1, timeout, deadline);
    if (const Errc e = co_await async_wait_reply(w); e != Errc::kOk) {
        co_return finish(e);
    }
    co_return std::move(w.single);
}

net::awaitable<core::Result<Reply>> Client::Impl::async_eval(const Script& script,
                                                             std::span<const std::string_view> keys,
                                                             std::span<const std::string_view> args,
                                                             core::Deadline deadline,
                                                             CommandControl control) {
    auto self = shared_from_this();
    // The EVALSHA attempt inline (admit, queue, wait): a heartbeat's Redis call is one coroutine
    // frame, not three; only the rare NOSCRIPT retry goes through async_eval_once.
    Duration timeout{};
    if (const Errc e = admit(deadline, control, 1, timeout); e != Errc::kOk) {
        co_return finish(e);
    }
    core::Result<Reply> r = core::make_error(Errc::kCancelled);
    {
        Waiter w;
        detail::append_eval(staging_, detail::EvalKind::kEvalSha, script, keys, args);
        enqueue(w, 1, timeout, deadline);
        Errc e = w.error;
        if (!w.done) {
            auto [ec] = co_await w.wake.async_wait(waits_, kUseAwaitable);
            e = settle_wait(w, ec);
        }
        if (e != Errc::kOk) {
            co_return finish(e);
        }
        r = std::move(w.single);
    }
    if (r && r->is_error_with_prefix("NOSCRIPT")) {
        // The script cache was flushed (restart, failover, SCRIPT FLUSH). EVAL runs the script and
        // caches it again in one round trip, so the next EVALSHA hits.
        inc(stats_.noscript_reloads_total);
        r = co_await async_eval_once(script, keys, args, Encoding::kEval, deadline, control);
    }
    if (r && r->is_error()) {
        inc(stats_.error_replies_total);
    }
    co_return r;
}

}  // namespace moneta::redis
