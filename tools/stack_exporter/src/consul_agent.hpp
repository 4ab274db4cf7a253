/// @file tools/stack_exporter/src/consul_agent.hpp
/// @brief The registration endpoints of a Consul agent, enough for the dev stack: services
/// register themselves here (moneta's libs/consul), and /sd serves the live registrations with
/// the health their TTL checks give, as a real agent + Prometheus's Consul SD would.
///
/// Protocol-exact for what it implements (docs/consul.md "The agent API used"):
/// - `PUT /v1/agent/service/register` — JSON body; 200 with an empty body; 400 with the agent's
///   kind of text when the body is not a registration (not JSON, no Name, bad Port, bad TTL);
/// - `PUT /v1/agent/check/pass/<check id>` — 200; 404 `Unknown check ID "<id>" ...` when unknown;
/// - `PUT /v1/agent/service/deregister/<service id>` — 200; 404 `Unknown service ID "<id>" ...`.
/// A check starts critical, turns passing on a pass, and critical again TTL after the last pass;
/// a service critical for its DeregisterCriticalServiceAfter is removed (the agent's reaper).
/// ACLs are off, as on a dev agent: X-Consul-Token is accepted and ignored (never stored).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>

#include "moneta/core/clock.hpp"

namespace moneta::stack_exporter {

struct AgentAnswer {
    int status = 200;
    std::string body;  ///< empty on success, as the agent answers
};

/// A Go duration ("15s", "1500ms", "1m30s", "0.5s"); nullopt when not one or negative.
std::optional<core::Duration> parse_go_duration(std::string_view text);

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (the exporter's one worker thread owns it).
class LocalAgent {
public:
    explicit LocalAgent(const core::Clock& clock) : clock_(clock) {}

    AgentAnswer register_service(std::string_view body);
    /// @p check_id / @p service_id: the raw path segment (percent-decoded here).
    AgentAnswer pass(std::string_view check_id);
    AgentAnswer deregister(std::string_view service_id);

    /// Removes what the reaper would, then appends each live registration body to @p out and its
    /// health ("passing" / "critical") to @p health by service ID.
    void collect(boost::json::array& out, std::map<std::string, std::string, std::less<>>& health);
    /// `GET /v1/agent/services`: ID → {ID, Service, Tags, Meta, Port, Address}.
    std::string services_json();
    std::size_t size() const noexcept { return services_.size(); }

private:
    struct Service {
        std::string body;  ///< the register body as received (re-served by /sd)
        std::string check_id;
        core::Duration ttl{0};                  ///< 0: no TTL check (always passing)
        core::Duration deregister_after{0};     ///< 0: never reaped
        core::SteadyTime critical_since{};      ///< when the check last turned critical
        std::optional<core::SteadyTime> last_pass;
    };
    bool passing(const Service& s, core::SteadyTime now) const;
    void reap(core::SteadyTime now);

    const core::Clock& clock_;
    std::map<std::string, Service, std::less<>> services_;  ///< by service ID
};

}  // namespace moneta::stack_exporter
