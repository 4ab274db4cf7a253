/// @file services/moneta/src/consul_registration.hpp
/// @brief What moneta registers with its Consul agent (docs/consul.md): the service from the
/// `consul` config section and the ports actually bound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "moneta/consul/agent_client.hpp"
#include "settings.hpp"

namespace moneta {

/// {name}, {host} and {port} of @p id_template replaced (unknown braces are kept as written).
std::string expand_service_id(std::string_view id_template, std::string_view name, std::string_view host,
                              std::uint16_t port);

/// The registration: Name/ID from the config, Address (consul.address, else server.address
/// unless a wildcard), Port = @p port, Tags, Meta {version, metrics_path "/metrics",
/// metrics_port and admin_port = @p admin_port}, the TTL check; the agent and the timings.
/// Only meaningful when settings.consul.agent is set.
consul::ClientConfig consul_client_config(const Settings& settings, std::uint16_t port, std::uint16_t admin_port,
                                          std::string_view hostname);

}  // namespace moneta
