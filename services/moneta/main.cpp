// moneta: the playback API. main only wires: flags → settings → App → run until SIGTERM/SIGINT
// (SIGHUP reopens the log file).
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "moneta/core/stop_signals.hpp"
#include "app.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"moneta: the playback API"};
    std::string config_path = "services/moneta/config/moneta.json";
    cli.add_option("--config", config_path, "JSON config file")->check(CLI::ExistingFile);
    CLI11_PARSE(cli, argc, argv);

    // Before any thread starts: every thread inherits the blocked stop signals.
    const moneta::core::StopSignals stop_signals;

    auto settings = moneta::load_settings(config_path);
    if (!settings) {
        std::fprintf(stderr, "moneta: config error: %s\n", settings.error().c_str());
        return 2;
    }
    auto app = moneta::App::create(std::move(*settings), moneta::core::SystemClock::instance());
    if (!app) {
        std::fprintf(stderr, "moneta: %s\n", app.error().c_str());
        return 2;
    }
    if (auto started = (*app)->start(); !started) {
        std::fprintf(stderr, "moneta: %s\n", started.error().c_str());
        return 1;
    }
    stop_signals.wait([&] { (*app)->reopen_logs(); });
    (*app)->request_stop();
    (*app)->wait();
    return 0;
}
