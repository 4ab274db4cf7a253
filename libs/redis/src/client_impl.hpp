#pragma once

// NOTE: deliberate simplifications of Client::Impl
// - RESP2 only (our reader, src/reply_reader.hpp); no Pub/Sub, MONITOR or blocking commands (BLPOP would stall the
//   shared connection for everyone); no Cluster/Sentinel.
// - No timer per call: a suspended call waits on a core::OneShotWait in its coroutine frame (the
//   reader stores the reply and completes it). Timeouts come from ONE steady_timer per client,
//   armed at the earliest deadline among the waiting calls; when it fires it times out every
//   call past its deadline and re-arms at the next one. Deadlines are read on the injected
//   core::Clock; the timer sleeps the same amount of real time. With a FakeClock, a call times
//   out once the fake time has passed its deadline and the timer has fired (or re-checked).

// g++ 12 at -O3 reports -Wnull-dereference inside Asio's scheduler (thread_call_stack lookups
// that cannot be null there) once inlined into our code; silence it for Asio's headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#pragma GCC diagnostic pop

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/core/deadline.hpp"
#include "moneta/core/one_shot_wait.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/client.hpp"
#include "pending_queue.hpp"
#include "reply_arena.hpp"
#include "reply_reader.hpp"

namespace moneta::redis {

namespace net = boost::asio;

/// Lives in the coroutine frame of a suspended call.
struct Waiter {
    Waiter() = default;
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    /// A caller that leaves early (timeout, cancellation, frame destroyed) keeps its FIFO slot
    /// so ordering stays right; the slot just forgets where to deliver.
    ~Waiter() { abandon(); }
    void abandon() noexcept {
        if (queue != nullptr) {
            if (PendingSlot* s = queue->find(seq)) {
                s->waiter = nullptr;
            }
            queue = nullptr;
        }
    }

    core::OneShotWait wake;         ///< completed by dispatch(), complete_all() or the timeout scan
    core::SteadyTime expires_at;    ///< on the client's clock: the wait ends there at the latest
    core::Deadline deadline;        ///< the caller's: tells kDeadlineExceeded from kTimeout
    PendingQueue* queue = nullptr;  ///< set while our slot is queued
    std::uint64_t seq = 0;          ///< our slot's sequence number in *queue
    Reply single;
    Replies* many = nullptr;  ///< set for pipelines
    core::Errc error = core::Errc::kOk;
    bool done = false;
};

/// One TCP connection and what only makes sense with it. Shared by the reader and writer tasks,
/// so a late completion from an old connection never touches a newer one.
struct Connection {
    Connection(const net::any_io_executor& ex, detail::ArenaPool& arenas)
        : socket(ex), resolver(ex), reader(arenas) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    net::ip::tcp::socket socket;
    net::ip::tcp::resolver resolver;
    core::OneShotWait wake;  ///< the idle writer sleeps on it; complete() = "there is data"
    detail::ReplyReader reader;  ///< reads into arenas recycled through the client's pool
    std::string out;  ///< bytes being written (swapped with Impl::staging_)
    bool writer_idle = false;
    bool timed_out = false;  ///< the connect/handshake guard fired
};

class Client::Impl : public std::enable_shared_from_this<Client::Impl> {
public:
    Impl(net::any_io_executor executor, ClientConfig config, core::Clock& clock);
    ~Impl();

    void start();
    void stop();
    net::awaitable<void> async_stop();
    net::awaitable<bool> async_wait_connected(Duration timeout);

    net::awaitable<core::Result<Reply>> async_command(std::span<const std::string_view> args,
                                                      core::Deadline deadline,
                                                      CommandControl control);
    net::awaitable<core::Result<Replies>> async_pipeline(const Pipeline& pipeline,
                                                                    core::Deadline deadline,
                                                                    CommandControl control);
    net::awaitable<core::Result<Reply>> async_eval(const Script& script,
                                                   std::span<const std::string_view> keys,
                                                   std::span<const std::string_view> args,
                                                   core::Deadline deadline,
                                                   CommandControl control);

    bool connected() const noexcept { return conn_ != nullptr; }
    const ClientStats& stats() const noexcept { return stats_; }
    const std::string& last_error() const noexcept { return last_error_; }
    const ClientConfig& config() const noexcept { return config_; }

private:
    enum class Encoding { kEvalSha, kEval };

    net::awaitable<void> async_run(std::shared_ptr<Impl> self);
    net::awaitable<core::Errc> async_connect(std::shared_ptr<Connection> conn, std::string& why);
    net::awaitable<void> async_read_loop(std::shared_ptr<Connection> conn);
    net::awaitable<void> async_write_loop(std::shared_ptr<Impl> self, std::shared_ptr<Connection> conn);
    net::awaitable<core::Result<Reply>> async_eval_once(const Script& script,
                                                        std::span<const std::string_view> keys,
                                                        std::span<const std::string_view> args,
                                                        Encoding encoding,
                                                        core::Deadline deadline,
                                                        CommandControl control);

    /// Checks that a call of @p n commands may be sent now and computes its timeout.
    core::Errc admit(core::Deadline deadline, const CommandControl& control, std::size_t n,
                     Duration& timeout);
    /// Registers @p w for @p n replies (the bytes must already be in staging_), sets its
    /// expiry (now + @p timeout) and wakes the writer.
    void enqueue(Waiter& w, std::size_t n, Duration timeout, core::Deadline deadline);
    /// Suspends until @p w is completed (reply, error, timeout) or the caller is cancelled.
    net::awaitable<core::Errc> async_wait_reply(Waiter& w);
    /// What a wait on w.wake that ended with @p ec means (async_wait_reply's second half, for
    /// coroutines that wait inline to save a frame).
    core::Errc settle_wait(Waiter& w, const boost::system::error_code& ec);
    /// Arms deadline_timer_ for @p at unless it is armed for an earlier time already.
    void arm_deadline_timer(core::SteadyTime at);
    /// Cancels deadline_timer_ (nothing waits, or we stop).
    void disarm_deadline_timer();
    /// deadline_timer_ fired: times out every waiting call past its expiry, re-arms for the rest.
    void expire_waiters();
    void on_timeout();
    bool stuck() const;
    /// Delivers one reply to the head of the FIFO. False on a protocol violation.
    bool dispatch(Reply&& reply);
    /// Tears @p conn down if it is the current connection: every pending call gets @p reason.
    void fail_connection(const std::shared_ptr<Connection>& conn, core::Errc reason, std::string why);
    void complete_all(core::Errc reason);
    core::Result<Reply> finish(core::Errc e);
    Duration backoff_delay(std::uint32_t attempt);
    void check_thread() const;

    net::any_io_executor executor_;
    ClientConfig config_;
    core::Clock& clock_;
    detail::ArenaPoolOwner arenas_;  ///< reply buffers, reused across reads and reconnects
    ClientStats stats_;

    std::shared_ptr<Connection> conn_;        ///< set while connected
    std::shared_ptr<Connection> connecting_;  ///< set during connect + handshake
    std::string staging_;                     ///< commands queued since the writer's last swap
    PendingQueue pending_;                    ///< FIFO of unanswered commands/pipelines
    std::size_t pending_commands_ = 0;        ///< sum of remaining over pending_
    std::uint32_t consecutive_timeouts_ = 0;
    std::string last_error_;

    core::WaitList waits_;             ///< every suspended call's wake
    net::steady_timer deadline_timer_;  ///< armed at the earliest expiry among waiting calls
    core::SteadyTime deadline_armed_at_;  ///< on clock_; valid while deadline_armed_
    std::uint64_t deadline_generation_ = 0;  ///< tells a superseded timer completion apart
    bool deadline_armed_ = false;
    net::steady_timer backoff_timer_;
    net::steady_timer run_done_;  ///< async_stop() sleeps on it until async_run() ends
    bool started_ = false;
    bool running_ = false;
    bool stopping_ = false;
    bool ever_connected_ = false;
    std::thread::id loop_thread_;
};

}  // namespace moneta::redis
