// internal_api: the reference internal API (system of record) on SQLite. main only wires.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "moneta/core/stop_signals.hpp"
#include "src/app.hpp"
#include "src/fixtures.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"internal_api: reference internal API on SQLite"};
    std::string config_path = "services/internal_api/config/internal_api.json";
    std::string db;
    std::string fixtures;
    int port = -1;
    bool dump = false;
    std::size_t bench_accounts = 0;
    bool fault_control = false;
    cli.add_option("--config", config_path, "JSON config file");
    cli.add_option("--db", db, "SQLite file (overrides config)");
    cli.add_option("--fixtures", fixtures, "fixtures file (overrides config)");
    cli.add_option("--port", port, "port (overrides config and INTERNAL_API_PORT)")->check(CLI::Range(0, 65535));
    cli.add_flag("--dump-fixtures", dump, "print the expanded fixtures and exit");
    cli.add_flag("--fault-control", fault_control, "TESTS ONLY: enable PUT/GET /_fault fault injection");
    cli.add_option("--dump-bench-accounts", bench_accounts, "print N 'account profile content' lines and exit");
    CLI11_PARSE(cli, argc, argv);

    if (dump || bench_accounts > 0) {
        const std::string path = fixtures.empty() ? "fixtures/demo.json" : fixtures;
        if (dump) {
            auto text = moneta::internal_api::expand_fixtures_json(path);
            if (!text) {
                std::fprintf(stderr, "internal_api: %s\n", text.error().c_str());
                return 2;
            }
            std::printf("%s\n", text->c_str());
            return 0;
        }
        auto f = moneta::internal_api::load_fixtures(path);
        if (!f) {
            std::fprintf(stderr, "internal_api: %s\n", f.error().c_str());
            return 2;
        }
        for (std::size_t i = 0; i < bench_accounts && i < f->playable.size(); ++i) {
            std::printf("%s\n", f->playable[i].c_str());
        }
        return 0;
    }

    // Before any thread starts: every thread inherits the blocked stop signals.
    const moneta::core::StopSignals stop_signals;

    auto settings = moneta::internal_api::load_settings(config_path);
    if (!settings) {
        std::fprintf(stderr, "internal_api: config error: %s\n", settings.error().c_str());
        return 2;
    }
    if (!db.empty()) settings->db = db;
    if (!fixtures.empty()) settings->fixtures = fixtures;
    if (port >= 0) settings->port = static_cast<std::uint16_t>(port);
    settings->fault_control = fault_control;
    if (fault_control) {
        std::fprintf(stderr, "internal_api: fault injection enabled (--fault-control, tests only)\n");
    }
    auto app = moneta::internal_api::App::create(std::move(*settings), moneta::core::SystemClock::instance());
    if (!app) {
        std::fprintf(stderr, "internal_api: %s\n", app.error().c_str());
        return 2;
    }
    auto bound = (*app)->start();
    if (!bound) {
        std::fprintf(stderr, "internal_api: %s\n", bound.error().c_str());
        return 1;
    }
    std::fprintf(stderr, "internal_api: listening on port %u\n", static_cast<unsigned>(*bound));
    stop_signals.wait();
    (*app)->request_stop();
    (*app)->wait();
    return 0;
}
