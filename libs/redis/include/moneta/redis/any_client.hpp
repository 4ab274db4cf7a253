/// @file moneta/redis/any_client.hpp
/// @brief One worker's Redis, whichever the deployment runs: a single server (redis::Client)
/// or a Redis Cluster (redis::ClusterClient), behind the same Commands interface.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>

#include "moneta/core/clock.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/redis/cluster_client.hpp"
#include "moneta/redis/commands.hpp"

namespace moneta::redis {

/// Counters of every connection an AnyClient holds, summed (plain values, for metrics).
struct ClientTotals {
    /// Waits for Redis: a pipeline split over several masters is sent to all at once and
    /// counts once (ClusterStats::parallel_sends_total has the extra exchanges).
    std::uint64_t round_trips = 0;
    std::uint64_t commands = 0;
    std::uint64_t errors = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t connected = 0;  ///< connections up (single: 0/1; cluster: to current masters)
    std::uint64_t expected = 0;   ///< connections kept when healthy (single: 1; cluster: the masters)
};

/// Forwards every call to the Client or ClusterClient it owns: no extra coroutine frame, one
/// virtual call more. Same thread rules as the two (the executor's thread).
class AnyClient final : public Commands {
public:
    /// A single server.
    AnyClient(boost::asio::any_io_executor executor, ClientConfig config, core::Clock& clock);
    /// A Redis Cluster.
    AnyClient(boost::asio::any_io_executor executor, ClusterConfig config, core::Clock& clock);
    /// A single server when @p cluster_seeds is empty, else a cluster found through them with
    /// @p node as every connection's settings (ClusterConfig's defaults otherwise).
    AnyClient(boost::asio::any_io_executor executor, const ClientConfig& node,
               const std::vector<NodeAddress>& cluster_seeds, core::Clock& clock);
    ~AnyClient() override;

    void start();
    void stop();
    boost::asio::awaitable<void> async_stop();
    bool connected() const noexcept override { return target_->connected(); }
    bool is_cluster() const noexcept { return cluster_ != nullptr; }
    /// Read from any thread (the clients' stats are atomics).
    ClientTotals totals() const;

private:
    boost::asio::awaitable<core::Result<Reply>> do_async_command(std::span<const std::string_view> args,
                                                                 core::Deadline deadline,
                                                                 CommandControl control) override {
        return target_->async_command(args, deadline, control);
    }
    boost::asio::awaitable<core::Result<Replies>> do_async_pipeline(const Pipeline& pipeline, core::Deadline deadline,
                                                                    CommandControl control) override {
        return target_->async_pipeline(pipeline, deadline, control);
    }
    boost::asio::awaitable<core::Result<Reply>> do_async_eval(const Script& script,
                                                              std::span<const std::string_view> keys,
                                                              std::span<const std::string_view> args,
                                                              core::Deadline deadline,
                                                              CommandControl control) override {
        return target_->async_eval(script, keys, args, deadline, control);
    }

    std::unique_ptr<Client> single_;
    std::unique_ptr<ClusterClient> cluster_;
    Commands* target_ = nullptr;
};

}  // namespace moneta::redis
