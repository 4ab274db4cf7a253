/// @file services/moneta/src/app.hpp
/// @brief Builds moneta from its Settings and runs it: the API server (thread-per-core), the admin
/// server (/metrics, /healthz, /readyz), per-worker Redis and internal-API clients, and the
/// Consul registration (its own thread; only with CONSUL_HTTP_ADDR, docs/consul.md).
#pragma once

#include <atomic>
#include <memory>

#include "moneta/core/clock.hpp"
#include "settings.hpp"

namespace moneta {

/// @par Thread safety
/// start()/stop()/wait() from one controlling thread; request_stop() from any thread.
class App {
public:
    /// Validates what can only be checked at run time (JWT keys, ...); the message names the cause.
    static boost::system::result<std::unique_ptr<App>, std::string> create(Settings settings,
                                                                           core::Clock& clock);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    /// Binds both ports and starts the worker threads. @return a message on failure.
    boost::system::result<void, std::string> start();
    /// Graceful stop: deregister from Consul (when registered; at most
    /// consul.deregister_timeout_ms), stop accepting, drain in-flight requests (up to settings.server.drain),
    /// close the Redis and internal-API clients, then return from wait(). Signal-safe enough to be
    /// called from a signal-handling thread.
    void request_stop();
    /// Reopens the log file by name (SIGHUP after a rotation renamed it); from any thread.
    void reopen_logs();
    /// Blocks until both servers have stopped.
    void wait();

    std::uint16_t port() const;
    std::uint16_t admin_port() const;

    class Impl;

private:
    explicit App(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace moneta
