/// @file moneta/redis/cluster_client.hpp
/// @brief A Redis Cluster client: one pipelined redis::Client per master, commands routed by
/// their key's slot, MOVED/ASK followed, the slot map refreshed on change.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/redis/cluster.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/config.hpp"

namespace moneta::redis {

struct ClusterConfig {
    /// Where to ask for the slot map first (any node of the cluster; more than one in case one
    /// is down). Later refreshes ask the known masters, then these again.
    std::vector<NodeAddress> seeds;
    /// Settings of each node's connection (host and port are taken from the slot map).
    ClientConfig node;
    /// The slot map is asked for again this often even when nothing redirected us.
    Duration refresh_interval = std::chrono::seconds(10);
    /// ...and at most this often when something did (a MOVED reply, a master's connection lost:
    /// a failover in progress).
    Duration refresh_min_gap = std::chrono::milliseconds(100);
    /// Redirections followed per call before answering with the last redirect reply.
    int max_redirects = 5;
};

/// Checks the seeds (1 to 16, non-empty host, port != 0), the node settings (validate())
/// and the intervals. @return kInvalidArgument on a bad config.
core::Result<void> validate(const ClusterConfig& config);

/// Written on the client's thread (relaxed), readable from any (metrics).
struct ClusterStats {
    std::atomic<std::uint64_t> moved_total{0};            ///< MOVED replies followed
    std::atomic<std::uint64_t> ask_total{0};              ///< ASK replies followed
    std::atomic<std::uint64_t> refreshes_total{0};        ///< slot maps applied
    std::atomic<std::uint64_t> refresh_failures_total{0}; ///< refresh rounds where no node answered
    std::atomic<std::uint64_t> split_pipelines_total{0};  ///< pipelines whose commands went to >1 master
    /// Sends of split pipelines beyond their first: made at the same time as it, so they add
    /// no wait (AnyClient::totals() does not count them as round trips).
    std::atomic<std::uint64_t> parallel_sends_total{0};
    std::atomic<std::int64_t> masters{0};                 ///< masters in the current slot map
};

/// The same contract as Commands (and redis::Client): one thread, calls pipelined per node. A
/// call goes to the master of its key's slot (command_key(); a call without a key goes to any
/// connected master). A `MOVED` reply updates the map and the call is sent once more to the
/// node named; an `ASK` reply sends `ASKING` + the call to the node named; at most
/// max_redirects times. A transport error is returned as is — a write may have been applied —
/// and, when the node's connection is gone, the slot map is refreshed soon (failover).
///
/// A pipeline whose commands all map to one master (the common case: one account's keys
/// share a hash tag) is sent as is. Otherwise it is split into one pipeline per master, all
/// sent at once, and the replies are put back in order: a split pipeline costs one exchange
/// per master involved but one wait.
///
/// @par Thread safety
/// As redis::Client: every member except stats() on the executor's thread.
class ClusterClient final : public Commands {
public:
    ClusterClient(boost::asio::any_io_executor executor, ClusterConfig config, core::Clock& clock);
    ~ClusterClient() override;
    ClusterClient(const ClusterClient&) = delete;
    ClusterClient& operator=(const ClusterClient&) = delete;

    /// Connects to the seeds, learns the slot map and keeps it current in the background.
    void start();
    /// Stops every node's client; pending calls complete with kCancelled.
    void stop();
    boost::asio::awaitable<void> async_stop();
    /// Waits (bounded polling) until connected() or @p timeout passes.
    boost::asio::awaitable<bool> async_wait_connected(Duration timeout);

    /// True when every slot has a master and each of them is connected.
    bool connected() const noexcept override;
    const ClusterStats& stats() const noexcept;
    /// Every node client made so far (masters now or before, seeds; at most 128): stable for
    /// the client's lifetime, for summing their ClientStats. Safe from any thread.
    std::vector<const Client*> nodes() const;
    /// The masters of the current slot map and how many of their connections are up: what a
    /// healthy client keeps open (metrics). Safe from any thread (a scrape during a refresh
    /// may see a master fewer).
    struct MasterConnections {
        std::size_t masters = 0;
        std::size_t connected = 0;
    };
    MasterConnections master_connections() const;
    /// The master of @p slot now (tests, logs); nullopt before the first map.
    std::optional<NodeAddress> master_of(std::uint16_t slot) const;

    struct State;

private:
    boost::asio::awaitable<core::Result<Reply>> do_async_command(
        std::span<const std::string_view> args, core::Deadline deadline, CommandControl control) override;
    boost::asio::awaitable<core::Result<Replies>> do_async_pipeline(
        const Pipeline& pipeline, core::Deadline deadline, CommandControl control) override;
    boost::asio::awaitable<core::Result<Reply>> do_async_eval(const Script& script,
                                                              std::span<const std::string_view> keys,
                                                              std::span<const std::string_view> args,
                                                              core::Deadline deadline,
                                                              CommandControl control) override;

    std::shared_ptr<State> s_;
};

}  // namespace moneta::redis
