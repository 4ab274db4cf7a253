#include "moneta/testing/redis_cluster.hpp"

#include <sstream>
#include <thread>

namespace moneta::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

/// "ip:port@cport" of a CLUSTER NODES line → port.
std::uint16_t port_of_address(const std::string& address) {
    const auto colon = address.rfind(':');
    const auto at = address.find('@');
    if (colon == std::string::npos) {
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoul(address.substr(colon + 1, at - colon - 1)));
}

}  // namespace

core::Result<RedisCluster> RedisCluster::start(RedisClusterOptions opts) {
    RedisCluster c;
    c.opts_ = opts;
    const std::size_t n = opts.masters * (1 + opts.replicas_per_master);
    for (std::size_t i = 0; i < n; ++i) {
        RedisServerOptions o;
        o.appendonly = opts.appendonly;
        o.password = opts.password;
        o.cluster = true;
        o.extra_args = {"--cluster-config-file", "nodes.conf", "--cluster-node-timeout",
                        std::to_string(opts.node_timeout.count()), "--cluster-require-full-coverage", "yes",
                        // The default waits 5 s for more replicas before a full sync.
                        "--repl-diskless-sync-delay", "0"};
        auto s = RedisServer::start(o);
        if (!s) {
            return s.error();
        }
        c.nodes_.push_back(std::move(*s));
    }
    for (std::size_t i = 1; i < n; ++i) {
        const auto& node = c.nodes_[i];
        if (c.nodes_[0].command({"CLUSTER", "MEET", "127.0.0.1", std::to_string(node.port()),
                                 std::to_string(node.cluster_bus_port())}) != "OK") {
            return core::make_error(core::Errc::kInternal);
        }
    }
    const std::size_t per = 16384 / opts.masters;
    for (std::size_t m = 0; m < opts.masters; ++m) {
        const std::size_t first = m * per;
        const std::size_t last = m + 1 == opts.masters ? 16383 : first + per - 1;
        if (c.nodes_[m].command({"CLUSTER", "ADDSLOTSRANGE", std::to_string(first), std::to_string(last)}) != "OK") {
            return core::make_error(core::Errc::kInternal);
        }
    }
    // Every node must know every other before a replica can name its master by id.
    const auto until = Clock::now() + opts.ready_timeout;
    for (std::size_t i = 0; i < n; ++i) {
        while (true) {
            const auto lines = c.nodes_[i].command_list({"CLUSTER", "NODES"});
            std::size_t known = 0;
            for (const auto& l : lines) {
                std::istringstream in(l);
                std::string line;
                while (std::getline(in, line)) {
                    // A node still in the MEET handshake has a temporary id: not known yet.
                    known += !line.empty() && !contains(line, "handshake") && !contains(line, "noaddr") ? 1 : 0;
                }
            }
            if (known >= n) {
                break;
            }
            if (Clock::now() > until) {
                return core::make_error(core::Errc::kTimeout);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    for (std::size_t m = 0; m < opts.masters; ++m) {
        const std::string id = c.nodes_[m].command({"CLUSTER", "MYID"});
        for (std::size_t r = 0; r < opts.replicas_per_master; ++r) {
            RedisServer& replica = c.nodes_[opts.masters + m * opts.replicas_per_master + r];
            if (replica.command({"CLUSTER", "REPLICATE", id}) != "OK") {
                return core::make_error(core::Errc::kInternal);
            }
        }
    }
    if (auto ok = c.wait_ok(opts.ready_timeout); !ok) {
        return ok.error();
    }
    // Each master streams to its replicas before the cluster is handed out (WAIT and
    // failover tests need the link up).
    const std::string want = "connected_slaves:" + std::to_string(opts.replicas_per_master);
    const auto synced = [&](const std::string& info) {
        std::size_t online = 0;
        for (auto at = info.find("state=online"); at != std::string::npos; at = info.find("state=online", at + 1)) {
            ++online;
        }
        return contains(info, want) && online == opts.replicas_per_master;
    };
    for (std::size_t m = 0; m < opts.masters; ++m) {
        while (!synced(c.nodes_[m].command({"INFO", "replication"}))) {
            if (Clock::now() > until) {
                return core::make_error(core::Errc::kTimeout);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    return c;
}

std::size_t RedisCluster::index_of_port(std::uint16_t port) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].port() == port) {
            return i;
        }
    }
    return nodes_.size();
}

std::size_t RedisCluster::master_of_slot(std::uint16_t slot) {
    for (auto& node : nodes_) {
        if (!node.running()) {
            continue;
        }
        // CLUSTER SHARDS is 7.0+; CLUSTER NODES is in every version: "id addr flags master ... slots".
        const auto text = node.command({"CLUSTER", "NODES"});
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string id, addr, flags, master, ping, pong, epoch, link;
            f >> id >> addr >> flags >> master >> ping >> pong >> epoch >> link;
            if (!contains(flags, "master") || contains(flags, "fail")) {
                continue;
            }
            std::string range;
            while (f >> range) {
                if (range.front() == '[') {
                    continue;  // a slot being migrated
                }
                const auto dash = range.find('-');
                const unsigned long lo = std::stoul(range.substr(0, dash));
                const unsigned long hi = dash == std::string::npos ? lo : std::stoul(range.substr(dash + 1));
                if (slot >= lo && slot <= hi) {
                    return index_of_port(port_of_address(addr));
                }
            }
        }
        return nodes_.size();
    }
    return nodes_.size();
}

std::vector<std::string> RedisCluster::command_list(const std::vector<std::string>& args) {
    std::vector<std::string> reply{"(transport error) no node is running"};
    for (std::size_t tries = 0; tries < nodes_.size() + 5; ++tries) {
        if (!nodes_[last_].running()) {
            last_ = (last_ + 1) % nodes_.size();
            continue;
        }
        reply = nodes_[last_].command_list(args);
        // "(error) MOVED <slot> <host>:<port>"
        if (reply.size() != 1 || reply[0].rfind("(error) MOVED ", 0) != 0) {
            return reply;
        }
        const std::size_t to = index_of_port(port_of_address(reply[0]));
        if (to == nodes_.size()) {
            return reply;
        }
        last_ = to;
    }
    return reply;
}

std::string RedisCluster::command(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& line : command_list(args)) {
        out += out.empty() ? "" : "\n";
        out += line;
    }
    return out;
}

core::Result<void> RedisCluster::wait_ok(std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (true) {
        bool ok = true;
        for (auto& node : nodes_) {
            if (!node.running()) {
                continue;
            }
            const auto info = node.command({"CLUSTER", "INFO"});
            ok = ok && contains(info, "cluster_state:ok") && contains(info, "cluster_slots_ok:16384");
        }
        if (ok) {
            return {};
        }
        if (Clock::now() > until) {
            return core::make_error(core::Errc::kTimeout);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace moneta::testing
