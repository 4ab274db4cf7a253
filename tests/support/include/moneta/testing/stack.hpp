/// @file moneta/testing/stack.hpp
/// @brief The whole dev stack as real processes on free loopback ports, for integration and
/// contract tests: redis-server, internal_api (SQLite, fixtures), moneta and nginx (the shipped
/// template). Target moneta::test_stack.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moneta/testing/http.hpp"
#include "moneta/testing/nginx.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/redis_cluster.hpp"
#include "moneta/testing/redis_server.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {

struct StackOptions {
    std::filesystem::path fixtures;  ///< empty = <source>/fixtures/demo.json
    /// Extra environment for moneta (e.g. {"MONETA_LEASE_SEC", "5"}), applied after the defaults.
    std::vector<std::pair<std::string, std::string>> moneta_env;
    bool redis_aof = false;  ///< appendonly yes, appendfsync everysec (the dev stack's setting)
    int moneta_threads = 2;
    int edge_rate_per_sec = 1000;
    int edge_rate_burst = 1000;
    bool with_nginx = true;
    /// Start internal_api with --fault-control (PUT/GET /_fault; docs/fixtures.md "Fault
    /// injection"), for set_internal_api_fault().
    bool internal_api_fault_control = false;
    /// moneta processes behind nginx (1 or 2: the second has its own ports and log, and shares
    /// Redis and the internal API, as `./dev up --cluster` runs them). The instance-indexed
    /// members below take 0 (the first, the default) or 1.
    int moneta_instances = 1;
    /// A real Redis Cluster (3 masters + 3 replicas, AOF everysec, password) instead of one
    /// redis-server, and moneta in `redis.mode` cluster with every node as a seed, as
    /// `./dev up --cluster` runs it. redis_aof is then implied.
    bool redis_cluster = false;
    std::chrono::milliseconds cluster_node_timeout{1000};
};

/// Not copyable or movable (children are tied to this object). Start it once per test suite:
/// under ASan it takes a few seconds.
class Stack {
public:
    explicit Stack(StackOptions options = {});
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    /// Starts everything and waits until /readyz answers 200 through nginx.
    [[nodiscard]] ::testing::AssertionResult start();
    /// (Re)starts moneta instance @p i alone on the same ports and waits for /readyz.
    [[nodiscard]] ::testing::AssertionResult start_moneta(int i = 0);
    /// SIGTERM (graceful: drain + final progress flush); @return the exit status.
    int stop_moneta(std::chrono::milliseconds grace = std::chrono::seconds(20), int i = 0);
    /// SIGKILL: a crash.
    void kill_moneta(int i = 0);
    bool moneta_running(int i = 0);
    int moneta_instances() const noexcept { return opts_.moneta_instances; }

    /// SIGSTOP / SIGCONT the internal API (a hung system of record: connections are accepted by
    /// the kernel, nothing answers).
    void pause_internal_api();
    void resume_internal_api();

    /// PUT /_fault on the internal API (needs StackOptions::internal_api_fault_control), e.g.
    /// `{"mode":"blackhole"}` or `{"mode":"error_rate","rate":0.5}`. Success means 200/204.
    [[nodiscard]] ::testing::AssertionResult set_internal_api_fault(std::string_view json);
    /// SIGTERM the internal API and wait for it to exit: connections are now refused (the
    /// "refuse" fault: a real ECONNREFUSED).
    void stop_internal_api();
    /// Starts it again on the same port with the same SQLite file (progress written so far is
    /// kept) and waits until /healthz answers 200.
    [[nodiscard]] ::testing::AssertionResult start_internal_api();
    bool internal_api_running();

    /// A token signed with the stack's HS256 secret (iss/aud of the dev config).
    std::string token(std::string_view sub, std::string_view pid, std::int64_t ttl_s = 600) const;

    /// A /v1 call through nginx as a player makes it, via the CDN: with the CDN's secret origin
    /// header (X-Origin-Verify: cdn_origin_secret()), so nginx believes a CloudFront-Viewer-Country
    /// in @p extra (docs/edge.md "CDN trust"). Content-Type: application/json, Bearer @p token
    /// when not empty.
    HttpReply call(std::string_view method, std::string_view target, std::string_view body,
                   const std::string& token, HttpHeaders extra = {}) const;
    /// The same through nginx from a client that bypassed the CDN (no origin header): nginx drops
    /// CloudFront-Viewer-Country and forwards the TCP peer as X-Forwarded-For.
    HttpReply call_edge_direct(std::string_view method, std::string_view target, std::string_view body,
                               const std::string& token, HttpHeaders extra = {}) const;
    /// The same straight to moneta's port (no edge, no X-Edge-Auth: moneta must ignore
    /// X-Viewer-Country, X-Forwarded-For and X-Request-Timeout-Ms in @p extra).
    HttpReply call_moneta(std::string_view method, std::string_view target, std::string_view body,
                          const std::string& token, HttpHeaders extra = {}) const;
    /// Straight to moneta's port as the edge: with edge_auth_header(), so moneta honours
    /// X-Viewer-Country, X-Forwarded-For and X-Request-Timeout-Ms in @p extra.
    HttpReply call_moneta_as_edge(std::string_view method, std::string_view target, std::string_view body,
                                  const std::string& token, HttpHeaders extra = {}) const;
    /// {"X-Edge-Auth", edge_token()}: what nginx adds to every request it proxies to moneta.
    std::pair<std::string, std::string> edge_auth_header() const { return {"X-Edge-Auth", edge_token_}; }
    /// A call to moneta's admin port with `Authorization: Bearer <admin_token()>`.
    HttpReply call_admin(std::string_view method, std::string_view target, std::string_view body = {}) const;
    /// A call to the internal API with the service token.
    HttpReply call_internal(std::string_view method, std::string_view target, std::string_view body = {}) const;

    /// Sum of every series of @p name on moneta's /metrics whose label text contains @p labels:
    /// of instance @p i, or of every instance (-1, the default: the stack's total; an instance
    /// that is down adds 0).
    double metric(std::string_view name, std::string_view labels = "", int i = -1) const;
    /// internal_api_requests_total, summed over endpoints containing @p endpoint ("" = all).
    double internal_api_calls(std::string_view endpoint = "") const;

    const std::string& jwt_secret() const noexcept { return secret_; }
    /// The stack's secrets, random per start(), handed out as ./dev up does (scripts/stack.sh):
    /// moneta gets MONETA_REDIS_PASSWORD, MONETA_EDGE_TOKEN and MONETA_ADMIN_TOKEN in its
    /// environment; Redis its password in a 0600 config file; nginx the edge token and the CDN
    /// origin secret in its rendered config.
    const std::string& redis_password() const noexcept { return redis_password_; }
    const std::string& edge_token() const noexcept { return edge_token_; }
    const std::string& admin_token() const noexcept { return admin_token_; }
    const std::string& cdn_origin_secret() const noexcept { return cdn_origin_secret_; }
    /// The internal API's service token (Bearer), e.g. for a scraper of /internal/metrics.
    const std::string& internal_api_token() const noexcept { return internal_token_; }
    /// SIGSTOP / SIGCONT Redis: the one server, or every node of the cluster (replicas too, so
    /// that a pause shorter than the node timeout never starts a failover).
    void pause_redis();
    void resume_redis();
    /// The single redis-server (not in cluster mode).
    RedisServer& redis() { return *redis_; }
    /// The cluster (StackOptions::redis_cluster only).
    RedisCluster& cluster() { return *cluster_; }
    /// redis-cli-like text of one command (see RedisServer::command), routed to the key's master
    /// in cluster mode (RedisCluster::command).
    std::string redis_cmd(std::vector<std::string> args) {
        return cluster_ ? cluster_->command(args) : redis_->command(std::move(args));
    }
    /// The same as a list of reply elements.
    std::vector<std::string> redis_list(std::vector<std::string> args) {
        return cluster_ ? cluster_->command_list(args) : redis_->command_list(std::move(args));
    }

    std::uint16_t edge_port() const noexcept { return nginx_ ? nginx_->port() : 0; }
    /// nginx's loopback stub_status listener (deploy/nginx), 0 without nginx.
    std::uint16_t edge_status_port() const noexcept { return nginx_ ? nginx_->status_port() : 0; }
    std::uint16_t moneta_port(int i = 0) const noexcept { return instance(i).port; }
    std::uint16_t admin_port(int i = 0) const noexcept { return instance(i).admin_port; }
    std::uint16_t internal_api_port() const noexcept { return ia_port_; }
    /// PIDs for sample_process() (load.hpp); -1 when not started.
    pid_t moneta_pid(int i = 0) const noexcept { return instance(i).proc ? instance(i).proc->pid() : -1; }
    pid_t internal_api_pid() const noexcept { return internal_api_ ? internal_api_->pid() : -1; }
    pid_t redis_pid() const noexcept { return redis_ ? redis_->pid() : -1; }
    pid_t nginx_pid() const noexcept { return nginx_ ? nginx_->pid() : -1; }
    const std::filesystem::path& dir() const noexcept { return dir_.path(); }
    /// moneta's JSON log (ECS lines) and its stdout/stderr (instance @p i).
    std::string moneta_log(int i = 0) const;
    std::string moneta_output(int i = 0) const;

private:
    struct Instance {
        std::optional<Process> proc;
        std::uint16_t port = 0;
        std::uint16_t admin_port = 0;
        int starts = 0;
    };
    Instance& instance(int i) { return instances_.at(static_cast<std::size_t>(i)); }
    const Instance& instance(int i) const { return instances_.at(static_cast<std::size_t>(i)); }
    std::vector<std::pair<std::string, std::string>> moneta_environment(int i) const;
    std::string moneta_log_name(int i) const { return i == 0 ? "moneta.json.log" : "moneta" + std::to_string(i + 1) + ".json.log"; }

    StackOptions opts_;
    TempDir dir_;
    std::string secret_;
    std::string internal_token_;
    std::string redis_password_;
    std::string edge_token_;
    std::string admin_token_;
    std::string session_key_;  ///< playback.session_key: kept across moneta restarts
    std::string cdn_origin_secret_;
    std::optional<RedisServer> redis_;
    std::optional<RedisCluster> cluster_;
    std::optional<Process> internal_api_;
    std::array<Instance, 2> instances_;
    std::optional<NginxServer> nginx_;
    std::uint16_t ia_port_ = 0;
    int internal_api_starts_ = 0;
};

/// A suite sharing one Stack, started once before its first test with Derived::options() and
/// stopped after its last (a stack takes seconds to start under ASan). Each test asserts that it
/// started.
template <typename Derived>
class SharedStackTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        stack_ = new Stack(Derived::options());
        if (auto ok = stack_->start(); !ok) {
            delete stack_;
            stack_ = nullptr;
            FAIL() << ok.message();
        }
    }
    static void TearDownTestSuite() {
        delete stack_;
        stack_ = nullptr;
    }
    void SetUp() override { ASSERT_NE(stack_, nullptr) << "the stack did not start"; }

    static inline Stack* stack_ = nullptr;
};

/// Writes a fresh RSA-2048 private key (PKCS#8 PEM) to @p path (the dev CDN signing key).
core::Result<void> write_rsa_private_key(const std::filesystem::path& path);

/// A random string of @p n characters from [A-Za-z0-9].
std::string random_alnum(std::size_t n);

}  // namespace moneta::testing
