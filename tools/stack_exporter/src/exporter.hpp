/// @file tools/stack_exporter/src/exporter.hpp
/// @brief The stack exporter's HTTP server: nginx stub_status and Redis INFO as Prometheus
/// metrics, and Consul-shaped registrations as http_sd targets (docs/observability.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "consul_agent.hpp"
#include "consul_sd.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/http/server.hpp"
#include "moneta/redis/config.hpp"

namespace moneta::stack_exporter {

struct ExporterConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 9113;  ///< 0 = ephemeral (tests)
    /// Redis to read INFO from; password from the environment (main.cpp), never a flag.
    redis::ClientConfig redis;
    /// nginx's stub_status listener (deploy/nginx: the status server on loopback); port 0 = no
    /// nginx (/metrics/nginx answers 404).
    std::string nginx_host = "127.0.0.1";
    std::uint16_t nginx_status_port = 0;
    std::string nginx_status_path = "/stub_status";
    /// The registrations JSON served as http_sd on GET /sd; empty = no /sd (404). Read at every
    /// request, so a rewritten file is served at Prometheus's next refresh.
    std::filesystem::path registrations;
    /// Also act as the local Consul agent's registration endpoints (consul_agent.hpp): services
    /// register themselves and /sd serves them next to the file's entries.
    bool consul_agent = false;
    SdNode node;
    /// Bound of one backend read (Redis INFO, stub_status): a scrape never hangs on a backend.
    core::Duration backend_timeout = std::chrono::seconds(2);
};

/// Counters of the exporter itself (its own GET /metrics).
struct ExporterStats {
    std::atomic<std::uint64_t> redis_scrapes{0};
    std::atomic<std::uint64_t> redis_failures{0};
    std::atomic<std::uint64_t> nginx_scrapes{0};
    std::atomic<std::uint64_t> nginx_failures{0};
    std::atomic<std::uint64_t> sd_requests{0};
    std::atomic<std::uint64_t> sd_failures{0};
    std::atomic<std::uint64_t> agent_calls{0};  ///< Consul agent API calls answered
};

/// Routes: GET /metrics (the exporter's own process_* and counters), GET /metrics/redis,
/// GET /metrics/nginx, GET /sd; with consul_agent also PUT /v1/agent/service/register,
/// PUT /v1/agent/check/pass/{id}, PUT /v1/agent/service/deregister/{id}, GET /v1/agent/services. A backend that does not answer gives `redis_up 0` /
/// `nginx_up 0` and a 200, as the usual exporters do, so Prometheus keeps scraping and an alert
/// can tell "Redis down" from "exporter down" (`up`).
/// NOTE: one worker thread: scrapes are rare, and one thread means one Redis connection.
/// @par Thread safety
/// start/request_stop/wait as http::Server.
class Exporter {
public:
    static boost::system::result<std::unique_ptr<Exporter>, std::string> create(ExporterConfig config,
                                                                                core::Clock& clock);
    ~Exporter();
    Exporter(const Exporter&) = delete;
    Exporter& operator=(const Exporter&) = delete;

    /// Binds and starts serving. @return the bound port.
    boost::system::result<std::uint16_t, std::string> start();
    void request_stop();
    void wait();
    const ExporterStats& stats() const noexcept { return stats_; }

private:
    Exporter(ExporterConfig config, core::Clock& clock);
    http::WorkerHooks make_worker(boost::asio::io_context& io);

    ExporterConfig config_;
    core::Clock& clock_;
    ExporterStats stats_;
    LocalAgent agent_;  ///< used by the one worker thread only
    std::unique_ptr<http::Server> server_;  ///< last: destroyed first
};

}  // namespace moneta::stack_exporter
