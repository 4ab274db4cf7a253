/// @file moneta/testing/fake_consul_agent.hpp
/// @brief A protocol-exact fake of the Consul agent's registration endpoints on a loopback port,
/// recording every call (method, target, headers, body). Answers as the agent does (docs/consul.md
/// "Agent API"): 200 with an empty body on success; 400 on a body that is not a registration;
/// 403 "Permission denied" without the required X-Consul-Token; 404 "Unknown check ID" /
/// "Unknown service ID" (or, in legacy mode, older agents' 500 `CheckID "..." does not have
/// associated TTL`); 405 for another method. Target moneta::fake_consul.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace moneta::testing {

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (the accessors lock).
class FakeConsulAgent {
public:
    struct Call {
        std::string method;
        std::string target;                         ///< as sent (path and query)
        std::string path;                           ///< target without the query
        std::string query;                          ///< after '?', raw
        std::map<std::string, std::string> headers;  ///< names lower-cased
        std::string body;
        int status = 0;                              ///< what the fake answered
        std::chrono::steady_clock::time_point at;
    };

    /// Listens on 127.0.0.1:@p port (0 = ephemeral) at once.
    explicit FakeConsulAgent(std::uint16_t port = 0);
    ~FakeConsulAgent();
    FakeConsulAgent(const FakeConsulAgent&) = delete;
    FakeConsulAgent& operator=(const FakeConsulAgent&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    /// When set, calls without `X-Consul-Token: <token>` get 403.
    void require_token(std::string token);
    /// Answers every call with @p status (e.g. 500) until cleared (nullopt).
    void fail_all(std::optional<int> status);
    /// Older agents: an unknown check on pass is a 500 "does not have associated TTL".
    void legacy_unknown_check(bool on);
    /// An agent restart: every registration is forgotten (the next pass gets "unknown check").
    void forget_all();

    std::vector<Call> calls() const;
    /// Calls whose path starts with @p prefix.
    std::vector<Call> calls_to(const std::string& prefix) const;
    /// Registered services: ID → register body.
    std::map<std::string, std::string> services() const;

private:
    void serve();
    void handle(int fd);
    Call answer(Call call, std::string& response);

    std::uint16_t port_ = 0;
    int listen_fd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mu_;
    std::vector<Call> calls_;
    std::map<std::string, std::string> services_;  ///< id → body
    std::map<std::string, std::string> checks_;    ///< check id → service id
    std::string token_;
    std::optional<int> fail_all_;
    bool legacy_ = false;
    std::thread thread_;
};

}  // namespace moneta::testing
