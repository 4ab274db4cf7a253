#include "moneta/redis/any_client.hpp"

namespace moneta::redis {
namespace {

void add(ClientTotals& t, const ClientStats& s) {
    t.round_trips += s.round_trips_total.load(std::memory_order_relaxed);
    t.commands += s.commands_total.load(std::memory_order_relaxed);
    t.errors += s.errors_total.load(std::memory_order_relaxed);
    t.timeouts += s.timeouts_total.load(std::memory_order_relaxed);
    t.reconnects += s.reconnects_total.load(std::memory_order_relaxed);
}

}  // namespace

AnyClient::AnyClient(boost::asio::any_io_executor executor, ClientConfig config, core::Clock& clock)
    : single_(std::make_unique<Client>(std::move(executor), std::move(config), clock)), target_(single_.get()) {}

AnyClient::AnyClient(boost::asio::any_io_executor executor, ClusterConfig config, core::Clock& clock)
    : cluster_(std::make_unique<ClusterClient>(std::move(executor), std::move(config), clock)),
      target_(cluster_.get()) {}

namespace {
ClusterConfig cluster_config(const ClientConfig& node, const std::vector<NodeAddress>& seeds) {
    ClusterConfig c;
    c.seeds = seeds;
    c.node = node;
    return c;
}
}  // namespace

AnyClient::AnyClient(boost::asio::any_io_executor executor, const ClientConfig& node,
                       const std::vector<NodeAddress>& cluster_seeds, core::Clock& clock) {
    if (cluster_seeds.empty()) {
        single_ = std::make_unique<Client>(std::move(executor), node, clock);
        target_ = single_.get();
    } else {
        cluster_ = std::make_unique<ClusterClient>(std::move(executor), cluster_config(node, cluster_seeds), clock);
        target_ = cluster_.get();
    }
}

AnyClient::~AnyClient() = default;

void AnyClient::start() {
    if (cluster_) {
        cluster_->start();
    } else {
        single_->start();
    }
}

void AnyClient::stop() {
    if (cluster_) {
        cluster_->stop();
    } else {
        single_->stop();
    }
}

boost::asio::awaitable<void> AnyClient::async_stop() {
    if (cluster_) {
        co_await cluster_->async_stop();
    } else {
        co_await single_->async_stop();
    }
}

ClientTotals AnyClient::totals() const {
    ClientTotals t;
    if (cluster_) {
        // nodes() reads the node list, which only the client's thread grows: the count of
        // nodes is fixed once the slot map is known (and a scrape sees at worst one fewer).
        for (const Client* n : cluster_->nodes()) {
            add(t, n->stats());
        }
        // Connections to replicas used as seeds, or to former masters, are not what a healthy
        // client needs: count the current masters' only.
        const ClusterClient::MasterConnections m = cluster_->master_connections();
        // A round trip is a wait: the parts of a split pipeline go out together, one wait.
        t.round_trips -= std::min(t.round_trips, cluster_->stats().parallel_sends_total.load(std::memory_order_relaxed));
        t.connected = m.connected;
        t.expected = m.masters;
    } else {
        add(t, single_->stats());
        t.connected = single_->stats().connected.load(std::memory_order_relaxed) != 0 ? 1 : 0;
        t.expected = 1;
    }
    return t;
}

}  // namespace moneta::redis
