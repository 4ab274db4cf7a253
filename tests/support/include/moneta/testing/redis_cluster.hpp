/// @file moneta/testing/redis_cluster.hpp
/// @brief A real Redis Cluster for tests: 3 masters + 3 replicas of Debian's redis-server on
/// free loopback ports, formed by CLUSTER MEET / ADDSLOTSRANGE / REPLICATE (no redis-cli).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "moneta/core/result.hpp"
#include "moneta/testing/redis_server.hpp"

namespace moneta::testing {

struct RedisClusterOptions {
    std::size_t masters = 3;
    std::size_t replicas_per_master = 1;
    bool appendonly = true;  ///< AOF everysec, as production
    /// cluster-node-timeout: how long a master may be unreachable before its replica takes over.
    std::chrono::milliseconds node_timeout{1000};
    std::chrono::milliseconds ready_timeout{30000};
    /// requirepass + masterauth on every node when non-empty (RedisServerOptions::password).
    std::string password;
};

/// Nodes 0..masters-1 are the masters (slots split evenly in order), then each master's
/// replicas (node masters + k*... : replica r of master m is node masters + m * replicas + r).
/// The destructor SIGKILLs every node.
class RedisCluster {
public:
    static core::Result<RedisCluster> start(RedisClusterOptions opts = {});

    std::size_t size() const noexcept { return nodes_.size(); }
    RedisServer& node(std::size_t i) { return nodes_.at(i); }
    std::uint16_t port(std::size_t i) const { return nodes_.at(i).port(); }
    /// The node whose port is @p port (index), or size() when none.
    std::size_t index_of_port(std::uint16_t port) const;
    /// The index of the node that serves @p slot as master now (asks a live node), or size().
    std::size_t master_of_slot(std::uint16_t slot);
    /// Waits until every live node reports cluster_state:ok and all 16384 slots served by
    /// a live master.
    core::Result<void> wait_ok(std::chrono::milliseconds timeout);

    /// One command as a cluster client sends it (RedisServer::command_list's text): to the node
    /// that answered last, following `MOVED` (up to 5 times) to the node it names; a node that
    /// is down is skipped. For tests that look into the keyspace (EXISTS, HGET, XLEN…).
    std::vector<std::string> command_list(const std::vector<std::string>& args);
    std::string command(const std::vector<std::string>& args);

private:
    RedisCluster() = default;
    RedisClusterOptions opts_;
    std::vector<RedisServer> nodes_;
    std::size_t last_ = 0;  ///< the node command_list() asks first
};

}  // namespace moneta::testing
