/// @file moneta/redis/client.hpp
/// @brief Asynchronous Redis client: one pipelined connection per io_context, C++20 coroutines.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

#include "moneta/core/clock.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/config.hpp"
#include "moneta/redis/stats.hpp"

namespace moneta::redis {

/// One TCP connection to Redis, shared by every coroutine of one io_context (thread-per-core:
/// the app creates one Client per worker thread). Commands are pipelined: each call appends its
/// RESP bytes to a shared buffer and waits; everything queued in the same loop turn goes out in
/// one write; replies are matched to callers in FIFO order. The connection is (re)established
/// in the background with exponential backoff; while it is down, calls fail fast with
/// kUnavailable. See docs/redis_client.md for the design.
///
/// Usage:
/// @code
///   redis::Client redis(io.get_executor(), config, core::SystemClock::instance());
///   redis.start();
///   // in a coroutine on io:
///   auto r = co_await redis.async_command({"GET", key}, ctx.deadline);
///   if (!r) { /* transport error: r.error() == core::Errc::kTimeout, ... */ }
///   else if (r->is_error()) { /* Redis said -ERR */ }
///   else if (r->is_nil()) { /* miss */ }
/// @endcode
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe — every member except stats() must be called
/// on the thread running the executor given to the constructor (construction may happen on any
/// thread before the loop runs). stats() may be read from any thread.
class Client final : public Commands {
public:
    /// Does not connect yet (see start()). @p clock must outlive the client.
    Client(boost::asio::any_io_executor executor, ClientConfig config, core::Clock& clock);
    /// stop()s; coroutines still suspended in calls complete with kCancelled later.
    ~Client() override;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Begins connecting (and reconnecting) in the background. Idempotent.
    void start();
    /// Closes the connection, stops reconnecting and completes every pending call with
    /// kCancelled (the callers resume in later loop turns). Does not wait.
    void stop();
    /// stop() and then wait until the background connection task has finished.
    boost::asio::awaitable<void> async_stop();
    /// Waits (bounded polling) until connected() or @p timeout passes.
    /// @return connected()
    boost::asio::awaitable<bool> async_wait_connected(Duration timeout);

    bool connected() const noexcept override;
    const ClientStats& stats() const noexcept;
    /// Why the last connection attempt or connection failed (e.g. the AUTH error text);
    /// empty when the current connection is healthy.
    std::string last_error() const;
    const ClientConfig& config() const noexcept;

    class Impl;

private:
    // moneta::redis::Commands
    boost::asio::awaitable<core::Result<Reply>> do_async_command(
        std::span<const std::string_view> args, core::Deadline deadline, CommandControl control) override;
    boost::asio::awaitable<core::Result<Replies>> do_async_pipeline(
        const Pipeline& pipeline, core::Deadline deadline, CommandControl control) override;
    boost::asio::awaitable<core::Result<Reply>> do_async_eval(const Script& script,
                                                              std::span<const std::string_view> keys,
                                                              std::span<const std::string_view> args,
                                                              core::Deadline deadline,
                                                              CommandControl control) override;

    // Shared with the background tasks and suspended calls, which may outlive the Client.
    std::shared_ptr<Impl> impl_;
};

}  // namespace moneta::redis
