/// @file moneta/consul/registration.hpp
/// @brief What a service tells its local Consul agent, and how to reach that agent: the body of
/// `PUT /v1/agent/service/register`, the request paths, and the agent address and ACL token from
/// the environment (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE) as Consul's own
/// CLI reads them. Pure functions: no I/O except reading the token file. docs/consul.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace moneta::consul {

/// One service instance with one TTL check (Consul agent API "Register Service").
struct ServiceRegistration {
    std::string id;       ///< unique on the agent (ID); also names the check "service:<id>"
    std::string name;     ///< Name (required by Consul)
    std::string address;  ///< Address; empty = omitted (the agent then advertises its node address)
    std::uint16_t port = 0;
    std::vector<std::string> tags;
    std::map<std::string, std::string> meta;  ///< Meta: string → string (Consul's type)
    std::chrono::milliseconds ttl{15000};     ///< Check.TTL
    /// Check.DeregisterCriticalServiceAfter: the agent removes us when the check stayed critical
    /// this long (a crashed process that never deregistered). Consul's floor is one minute.
    std::chrono::milliseconds deregister_critical_after{std::chrono::minutes(10)};

    /// "service:<id>": the id Consul gives a service's only check; we set it explicitly.
    std::string check_id() const { return "service:" + id; }
};

/// A Go duration string as Consul parses it: "15s", "1500ms", "10m" (the largest exact unit).
std::string go_duration(std::chrono::milliseconds d);

/// The JSON body of `PUT /v1/agent/service/register`:
/// `{"ID":..,"Name":..,"Address":..,"Port":..,"Tags":[..],"Meta":{..},
///   "Check":{"CheckID":"service:<id>","Name":"<name> TTL","TTL":"15s",
///            "DeregisterCriticalServiceAfter":"10m"}}` (Address omitted when empty).
std::string encode_register_body(const ServiceRegistration& r);

/// RFC 3986 percent-encoding of one path segment or query value (unreserved and ':' '@' kept).
std::string percent_encode(std::string_view s);

/// Request targets (origin form) on the agent's HTTP API.
inline constexpr std::string_view kRegisterPath = "/v1/agent/service/register";
std::string pass_path(std::string_view check_id, std::string_view note);  ///< /v1/agent/check/pass/<id>?note=..
std::string deregister_path(std::string_view service_id);                ///< /v1/agent/service/deregister/<id>

/// Where the agent listens and the ACL token to send. The token goes out as `X-Consul-Token`
/// and nowhere else: never logged, never in a URL.
struct AgentConfig {
    std::string host;
    std::uint16_t port = 8500;
    std::string token;  ///< empty = no header (an agent without ACLs)
};

/// CONSUL_HTTP_ADDR's forms: "host:port", "http://host:port", "host" (port 8500), "[::1]:8500".
/// "https://..." and "unix://..." are refused by name (not supported: terminate TLS in a local
/// agent, which is how Consul agents are normally reached). A path, user info or junk is refused.
boost::system::result<AgentConfig, std::string> parse_agent_address(std::string_view addr);

/// Reads the environment through @p getenv (tests inject one): CONSUL_HTTP_ADDR unset or empty →
/// nullopt (registration off); else the address, and the token from CONSUL_HTTP_TOKEN or, when
/// that is empty, the first line of the file named by CONSUL_HTTP_TOKEN_FILE.
/// @return a message naming the variable on any error (bad address, unreadable token file).
using Getenv = std::function<const char*(const char*)>;
boost::system::result<std::optional<AgentConfig>, std::string> agent_from_environment(const Getenv& getenv);

}  // namespace moneta::consul
