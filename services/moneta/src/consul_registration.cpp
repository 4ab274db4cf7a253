#include "consul_registration.hpp"

#ifndef MONETA_VERSION
#define MONETA_VERSION "dev"
#endif

namespace moneta {

std::string expand_service_id(std::string_view id_template, std::string_view name, std::string_view host,
                              std::uint16_t port) {
    std::string out;
    out.reserve(id_template.size() + 32);
    for (std::size_t i = 0; i < id_template.size();) {
        const std::string_view rest = id_template.substr(i);
        if (rest.starts_with("{name}")) {
            out += name;
            i += 6;
        } else if (rest.starts_with("{host}")) {
            out += host;
            i += 6;
        } else if (rest.starts_with("{port}")) {
            out += std::to_string(port);
            i += 6;
        } else {
            out += id_template[i++];
        }
    }
    return out;
}

consul::ClientConfig consul_client_config(const Settings& settings, std::uint16_t port, std::uint16_t admin_port,
                                          std::string_view hostname) {
    const ConsulSettings& c = settings.consul;
    consul::ClientConfig out;
    if (c.agent) {
        out.agent = *c.agent;
    }
    consul::ServiceRegistration& r = out.service;
    r.name = c.service_name;
    r.id = expand_service_id(c.id, c.service_name, hostname, port);
    r.address = c.address;
    if (r.address.empty()) {
        const std::string& bound = settings.server.address;
        const bool wildcard = bound.empty() || bound == "0.0.0.0" || bound == "::" || bound == "[::]";
        r.address = wildcard ? std::string() : bound;
    }
    r.port = port;
    r.tags = c.tags;
    // Prometheus scrapes the admin port (deploy/prometheus relabels on metrics_port/metrics_path).
    r.meta = {{"version", MONETA_VERSION},
              {"metrics_path", "/metrics"},
              {"metrics_port", std::to_string(admin_port)},
              {"admin_port", std::to_string(admin_port)}};
    r.ttl = c.ttl;
    r.deregister_critical_after = c.deregister_critical_after;
    out.timing.pass_interval = c.pass_interval;
    out.timing.backoff_initial = c.backoff_initial;
    out.timing.backoff_max = c.backoff_max;
    out.request_timeout = c.request_timeout;
    out.connect_timeout = std::min<consul::Duration>(c.request_timeout, std::chrono::seconds(1));
    return out;
}

}  // namespace moneta
