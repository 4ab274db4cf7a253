// sshca-server: the SSH certificate authority (docs/sshca.md). main only wires.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "moneta/core/stop_signals.hpp"
#include "src/app.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"sshca-server: SSH certificate authority"};
    std::string config_path = "services/sshca/config/sshca.json";
    bool init = false;
    std::string rotate;
    int port = -1;
    cli.add_option("--config", config_path, "JSON config file");
    cli.add_option("--port", port, "port (overrides config and SSHCA_PORT)")->check(CLI::Range(0, 65535));
    cli.add_flag("--init", init, "create the CA keys when missing (first start)");
    cli.add_option("--rotate", rotate, "rotate the user CA key and exit: prepare | commit")
        ->check(CLI::IsMember({"prepare", "commit"}));
    CLI11_PARSE(cli, argc, argv);

    const moneta::core::StopSignals stop_signals;  // before any thread starts

    auto settings = moneta::sshca::load_settings(config_path);
    if (!settings) {
        std::fprintf(stderr, "sshca-server: config error: %s\n", settings.error().c_str());
        return 2;
    }
    if (port >= 0) {
        settings->port = static_cast<std::uint16_t>(port);
    }
    settings->ca.generate_missing = settings->ca.generate_missing || init;
    if (!rotate.empty()) {
        auto done = rotate == "prepare" ? moneta::sshca::CaKeys::prepare_rotation(settings->ca)
                                        : moneta::sshca::CaKeys::commit_rotation(settings->ca);
        if (!done) {
            std::fprintf(stderr, "sshca-server: %s\n", done.error().c_str());
            return 1;
        }
        std::fprintf(stderr, "sshca-server: %s\n", done->c_str());
        return 0;
    }
    auto app = moneta::sshca::App::create(std::move(*settings), moneta::core::SystemClock::instance());
    if (!app) {
        std::fprintf(stderr, "sshca-server: %s\n", app.error().c_str());
        return 2;
    }
    auto bound = (*app)->start();
    if (!bound) {
        std::fprintf(stderr, "sshca-server: %s\n", bound.error().c_str());
        return 1;
    }
    std::fprintf(stderr, "sshca-server: listening on port %u (user CA %s)\n", static_cast<unsigned>(*bound),
                 (*app)->authority().user_ca_fingerprint().c_str());
    stop_signals.wait();
    (*app)->request_stop();
    (*app)->wait();
    return 0;
}
