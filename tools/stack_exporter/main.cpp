// stack_exporter: nginx stub_status and Redis INFO as Prometheus metrics, and the dev stack's
// Consul-shaped registrations as Prometheus http_sd targets (docs/observability.md). main wires.
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "moneta/core/stop_signals.hpp"
#include "src/exporter.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"stack_exporter: nginx + Redis metrics and http_sd targets for Prometheus"};
    moneta::stack_exporter::ExporterConfig config;
    int port = 9113;
    int redis_port = 6379;
    int nginx_status_port = 0;
    std::string registrations;
    cli.add_option("--address", config.address, "listen address")->capture_default_str();
    cli.add_option("--port", port, "listen port")->check(CLI::Range(0, 65535))->capture_default_str();
    cli.add_option("--redis-host", config.redis.host, "Redis host (password: MONETA_REDIS_PASSWORD)")
        ->capture_default_str();
    cli.add_option("--redis-port", redis_port, "Redis port")->check(CLI::Range(1, 65535))->capture_default_str();
    cli.add_option("--nginx-host", config.nginx_host, "nginx status listener host")->capture_default_str();
    cli.add_option("--nginx-status-port", nginx_status_port, "nginx status listener port (0 = no nginx)")
        ->check(CLI::Range(0, 65535));
    cli.add_option("--nginx-status-path", config.nginx_status_path, "stub_status location")->capture_default_str();
    cli.add_option("--registrations", registrations, "Consul-shaped registrations JSON served on /sd");
    cli.add_flag("--consul-agent", config.consul_agent,
                 "also serve the Consul agent's registration endpoints (services register here; /sd serves them)");
    cli.add_option("--node", config.node.name, "Consul node name reported by /sd")->capture_default_str();
    cli.add_option("--datacenter", config.node.datacenter, "Consul datacenter reported by /sd")->capture_default_str();
    CLI11_PARSE(cli, argc, argv);
    config.port = static_cast<std::uint16_t>(port);
    config.redis.port = static_cast<std::uint16_t>(redis_port);
    config.nginx_status_port = static_cast<std::uint16_t>(nginx_status_port);
    config.registrations = registrations;
    // The password never goes on the command line (visible in ps), as for moneta.
    if (const char* password = std::getenv("MONETA_REDIS_PASSWORD"); password != nullptr) {
        config.redis.password = password;
    }

    // Before any thread starts: every thread inherits the blocked stop signals.
    const moneta::core::StopSignals stop_signals;

    auto exporter =
        moneta::stack_exporter::Exporter::create(std::move(config), moneta::core::SystemClock::instance());
    if (!exporter) {
        std::fprintf(stderr, "stack_exporter: %s\n", exporter.error().c_str());
        return 2;
    }
    auto bound = (*exporter)->start();
    if (!bound) {
        std::fprintf(stderr, "stack_exporter: %s\n", bound.error().c_str());
        return 1;
    }
    std::fprintf(stderr, "stack_exporter: listening on port %u\n", static_cast<unsigned>(*bound));
    stop_signals.wait();
    (*exporter)->request_stop();
    (*exporter)->wait();
    return 0;
}
