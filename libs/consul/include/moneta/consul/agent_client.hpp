/// @file moneta/consul/agent_client.hpp
/// @brief Registers one service with the local Consul agent and keeps its TTL check passing, on
/// its own thread and io_context (never on a request worker): a Registrar (registrar.hpp) says
/// what to send and when; this performs each call over HTTP/1.1 (one short connection per call,
/// `Connection: close`: one call per pass interval does not need a pool), bounded by
/// connect/request timeouts, and parses the answer strictly (Beast's parser, 64 KiB cap).
/// A down or failing agent costs a backoff and one log line per link change. docs/consul.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "moneta/consul/registrar.hpp"
#include "moneta/consul/registration.hpp"
#include "moneta/core/clock.hpp"

namespace moneta::log {
class Logger;
}

namespace moneta::consul {

struct ClientConfig {
    AgentConfig agent;
    ServiceRegistration service;
    RegistrarConfig timing;  ///< timing.ttl is taken from service.ttl
    Duration connect_timeout = std::chrono::milliseconds(1000);
    Duration request_timeout = std::chrono::milliseconds(2000);  ///< one call, connect included
    std::string pass_note = "serving";  ///< the `note` of each pass (the check's Output)
};

/// Counters for tests and metrics (read from any thread).
struct ClientStats {
    std::atomic<std::uint64_t> registers_ok{0};
    std::atomic<std::uint64_t> passes_ok{0};
    std::atomic<std::uint64_t> failures{0};      ///< calls that failed (any op)
    std::atomic<std::uint64_t> lost{0};          ///< passes answered "unknown check": re-registered
    std::atomic<std::uint64_t> deregisters_ok{0};
    std::atomic<bool> registered{false};         ///< the last register/pass succeeded
};

/// @par Thread safety
/// start()/stop() from one controlling thread; stats() from any.
class Client {
public:
    /// @param logger may be null (no log lines). The token never reaches it.
    Client(ClientConfig config, const core::Clock& clock, log::Logger* logger);
    ~Client();  ///< stop(0) if still running
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    /// Starts the thread: the first register goes out at once.
    void start();
    /// Stops scheduling, cancels a call in flight, sends the deregister when a register was ever
    /// sent, and joins the thread, all within about @p budget (a dead agent cannot delay the
    /// caller's shutdown longer). @return true when the agent confirmed the deregister (200/404).
    bool stop(std::chrono::milliseconds budget);

    const ClientStats& stats() const noexcept;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace moneta::consul
