/// @file services/internal_api/src/app.hpp
/// @brief The reference internal API (api.md §7): HTTP handlers over a per-thread SQLite Store.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "moneta/core/clock.hpp"
#include "moneta/http/server.hpp"
#include "moneta/trace/exporter.hpp"
#include "moneta/trace/sampler.hpp"
#include "fault.hpp"

namespace moneta::internal_api {

struct Settings {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8082;
    std::size_t threads = 1;
    std::filesystem::path db = ".dev/data/internal_api.sqlite";
    std::filesystem::path fixtures = "fixtures/demo.json";
    std::string token;  ///< service token (secret)
    /// Test-only fault injection (PUT/GET /_fault, fault.hpp). Set by `--fault-control` only,
    /// never from the config file, so no deployed config can turn it on.
    bool fault_control = false;
};

boost::system::result<Settings, std::string> load_settings(const std::filesystem::path& file);

/// Requests served per endpoint (GET /internal/metrics), so tests can prove a warm start made
/// zero calls here.
struct ApiStats {
    std::atomic<std::uint64_t> accounts{0};
    std::atomic<std::uint64_t> contents{0};
    std::atomic<std::uint64_t> batch_upserts{0};
    std::atomic<std::uint64_t> progress_reads{0};
    std::atomic<std::uint64_t> unauthorized{0};
};

class App {
public:
    /// Opens the db and loads the fixtures.
    static boost::system::result<std::unique_ptr<App>, std::string> create(Settings settings, const core::Clock& clock);
    /// Releases held fault-injection requests before the server drains.
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;
    boost::system::result<std::uint16_t, std::string> start();
    void request_stop();
    void wait();
    const ApiStats& stats() const noexcept { return stats_; }

private:
    App(Settings settings, const core::Clock& clock);
    http::WorkerHooks make_worker(boost::asio::io_context& io);

    Settings settings_;
    const core::Clock& clock_;
    ApiStats stats_;
    std::unique_ptr<fault::FaultControl> fault_;  ///< null unless settings_.fault_control
    /// Continues moneta's traces (docs/tracing.md): parent-based head decision (a direct call
    /// without traceparent uses MONETA_TRACE_SAMPLE_RATIO, default 1 %), errors always kept.
    trace::Sampler sampler_{trace::SamplerConfig{}};
    std::unique_ptr<trace::Exporter> exporter_;   ///< null unless MONETA_OTLP_ENDPOINT is set
    std::unique_ptr<http::Server> server_;        ///< last: destroyed first
};

}  // namespace moneta::internal_api
