/// @file tools/stack_exporter/src/consul_sd.hpp
/// @brief Consul-shaped service registrations → Prometheus http_sd target groups carrying the
/// labels Prometheus's own Consul SD would set (__meta_consul_*), so the relabel rules of
/// deploy/prometheus/prometheus.yml.template work unchanged against a real Consul.
///
/// Why: Debian 12's prometheus is built without consul_sd_configs (ops.md §0.1), and Consul is
/// not installable. The dev stack writes what each process would register with its Consul agent
/// (the body of `PUT /v1/agent/service/register`) into one JSON array; this mapping serves it to
/// Prometheus's http_sd_configs.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace moneta::stack_exporter {

/// The agent's node, as Consul SD reports it (__meta_consul_node, _dc, _address).
struct SdNode {
    std::string name = "moneta-dev";
    std::string datacenter = "dev";
    std::string address = "127.0.0.1";  ///< also the target host of a registration without Address
};

/// @param registrations a JSON array of objects
///   `{"ID": "moneta-8081", "Name": "moneta", "Address": "127.0.0.1", "Port": 8081,
///     "Tags": ["prometheus"], "Meta": {"metrics_port": "9091"}}`
///   (Name and Port required; ID defaults to Name and must be unique, as in Consul).
/// @return the http_sd body: one target group per registration,
///   `{"targets": ["<Address or node address>:<Port>"], "labels": {"__meta_consul_service": ...,
///     "__meta_consul_service_id", "__meta_consul_service_address", "__meta_consul_service_port",
///     "__meta_consul_tags": ",a,b,", "__meta_consul_service_metadata_<key>", "__meta_consul_node",
///     "__meta_consul_dc", "__meta_consul_address", "__meta_consul_health": "passing"}}`;
///   Meta keys are sanitised to label-name characters as Prometheus does. Or why the input was
///   refused (the message names the entry).
/// @param health `__meta_consul_health` by service ID (live registrations with TTL checks,
///   consul_agent.hpp); an ID not in it (the static file's entries) is "passing".
boost::system::result<std::string, std::string> registrations_to_http_sd(
    std::string_view registrations, const SdNode& node,
    const std::map<std::string, std::string, std::less<>>* health = nullptr);

}  // namespace moneta::stack_exporter
