#include "moneta/redis/cluster_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>

#include "moneta/core/error.hpp"

namespace moneta::redis {
namespace net = boost::asio;
using core::Errc;

namespace {
constexpr auto kUseAwaitable = net::as_tuple(net::use_awaitable);
constexpr std::uint16_t kNoNode = 0xFFFF;
/// Node clients one ClusterClient makes at most (masters, seeds, nodes named by redirects): the
/// list is a fixed array so that nodes() can be read from another thread while it grows.
constexpr std::size_t kMaxNodes = 128;

/// Sends @p p to @p c and returns its last reply: the call after `ASKING`, or a redirected
/// command of a pipeline sent again on its own.
net::awaitable<core::Result<Reply>> async_last_reply(Client& c, const Pipeline& p, core::Deadline deadline,
                                                 CommandControl control) {
    auto rs = co_await c.async_pipeline(p, deadline, control);
    if (!rs) {
        co_return rs.error();
    }
    if (rs->size() != p.size()) {
        co_return core::make_error(Errc::kProtocolError);
    }
    co_return std::move(rs->back());
}

void rethrow(std::exception_ptr e) {
    if (e) {
        std::rethrow_exception(e);  // a bug: let it surface
    }
}
}  // namespace

core::Result<void> validate(const ClusterConfig& config) {
    const auto bad = core::make_error(Errc::kInvalidArgument);
    if (config.seeds.empty() || config.seeds.size() > 16 || config.max_redirects < 1 || config.refresh_min_gap <= Duration::zero() ||
        config.refresh_interval < config.refresh_min_gap) {
        return bad;
    }
    for (const auto& s : config.seeds) {
        if (s.host.empty() || s.port == 0) {
            return bad;
        }
    }
    ClientConfig node = config.node;
    node.host = config.seeds.front().host;
    node.port = config.seeds.front().port;
    return validate(node);
}

/// Everything the background task and suspended calls share; outlives the ClusterClient while
/// either runs.
struct ClusterClient::State : std::enable_shared_from_this<ClusterClient::State> {
    State(net::any_io_executor ex, ClusterConfig cfg, core::Clock& clk)
        : executor(std::move(ex)), config(std::move(cfg)), clock(clk), wake(executor), run_done(executor) {
        slot_node.fill(kNoNode);
        run_done.expires_at(net::steady_timer::time_point::max());
    }

    net::any_io_executor executor;
    ClusterConfig config;
    core::Clock& clock;
    std::array<std::unique_ptr<Client>, kMaxNodes> nodes;  // [0, node_count): never shrinks
    std::atomic<std::size_t> node_count{0};                // published after nodes[i] is set
    std::vector<NodeAddress> addresses;                    // of nodes[i] (the client's thread only)
    std::array<std::uint16_t, kClusterSlots> slot_node{};
    std::vector<std::uint16_t> masters;  // distinct nodes of slot_node
    /// masters as flags, readable from any thread (master_connections()).
    std::array<std::atomic<bool>, kMaxNodes> is_master{};
    bool full_coverage = false;
    bool started = false;
    bool stopping = false;
    bool running = false;
    bool refresh_wanted = true;
    core::SteadyTime last_refresh{};
    net::steady_timer wake;
    net::steady_timer run_done;
    ClusterStats stats;

    /// The node's index, its client made (and started) on first sight; kNoNode when kMaxNodes
    /// clients exist already.
    std::uint16_t node_index(const NodeAddress& a) {
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            if (addresses[i] == a) {
                return static_cast<std::uint16_t>(i);
            }
        }
        const std::size_t i = addresses.size();
        if (i == kMaxNodes) {
            return kNoNode;
        }
        ClientConfig c = config.node;
        c.host = a.host;
        c.port = a.port;
        nodes[i] = std::make_unique<Client>(executor, std::move(c), clock);
        addresses.push_back(a);
        node_count.store(i + 1, std::memory_order_release);
        if (!stopping) {
            nodes[i]->start();
        }
        return static_cast<std::uint16_t>(i);
    }
    Client* client(std::uint16_t idx) { return idx == kNoNode ? nullptr : nodes[idx].get(); }

    Client* route(std::span<const std::string_view> args) {
        const auto key = command_key(args);
        return key ? for_slot(key_slot(*key)) : any_master();
    }
    Client* for_slot(std::uint16_t slot) {
        const std::uint16_t n = slot_node[slot];
        return n == kNoNode ? nullptr : nodes[n].get();
    }
    Client* any_master() {
        for (const std::uint16_t m : masters) {
            if (nodes[m]->connected()) {
                return nodes[m].get();
            }
        }
        return masters.empty() ? nullptr : nodes[masters.front()].get();
    }
    std::string_view host_of(const Client* c) const {
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            if (nodes[i].get() == c) {
                return addresses[i].host;
            }
        }
        return {};
    }

    void want_refresh() {
        refresh_wanted = true;
        wake.cancel();
    }

    void apply(const std::vector<SlotRange>& ranges) {
        slot_node.fill(kNoNode);
        for (const std::uint16_t m : masters) {
            is_master[m].store(false, std::memory_order_relaxed);
        }
        masters.clear();
        std::size_t covered = 0;
        for (const SlotRange& r : ranges) {
            const std::uint16_t idx = node_index(r.master);
            if (idx == kNoNode) {
                continue;  // its slots stay without a master: calls to them fail fast
            }
            for (std::size_t s = r.first; s <= r.last; ++s) {
                covered += slot_node[s] == kNoNode ? 1 : 0;
                slot_node[s] = idx;
            }
            note_master(idx);
        }
        full_coverage = covered == kClusterSlots;
        stats.refreshes_total.fetch_add(1, std::memory_order_relaxed);
    }

    /// Node @p idx serves slots: one of the masters (the gauge follows).
    void note_master(std::uint16_t idx) {
        if (std::find(masters.begin(), masters.end(), idx) == masters.end()) {
            masters.push_back(idx);
            is_master[idx].store(true, std::memory_order_relaxed);
            stats.masters.store(static_cast<std::int64_t>(masters.size()), std::memory_order_relaxed);
        }
    }

    /// A MOVED: @p slot is served by @p node now. nullptr when no client can be made for it.
    Client* moved(std::uint16_t slot, const NodeAddress& node) {
        const std::uint16_t idx = node_index(node);
        if (idx == kNoNode) {
            return nullptr;
        }
        slot_node[slot] = idx;
        note_master(idx);
        stats.moved_total.fetch_add(1, std::memory_order_relaxed);
        want_refresh();  // a MOVED rarely comes alone: a whole range moved or failed over
        return nodes[idx].get();
    }

    /// Asks the known masters (connected ones first), then the seeds, for CLUSTER SLOTS.
    net::awaitable<bool> async_refresh() {
        std::vector<NodeAddress> candidates;
        for (const std::uint16_t m : masters) {
            if (nodes[m]->connected()) {
                candidates.push_back(addresses[m]);
            }
        }
        for (const auto& s : config.seeds) {
            if (std::find(candidates.begin(), candidates.end(), s) == candidates.end()) {
                candidates.push_back(s);
            }
        }
        for (std::uint16_t m : masters) {  // last: the masters that are down now
            if (std::find(candidates.begin(), candidates.end(), addresses[m]) == candidates.end()) {
                candidates.push_back(addresses[m]);
            }
        }
        for (const NodeAddress& a : candidates) {
            if (stopping) {
                co_return false;
            }
            Client* c = client(node_index(a));
            if (c == nullptr) {
                continue;
            }
            if (!c->connected() && !co_await c->async_wait_connected(config.node.connect_timeout)) {
                continue;
            }
            auto r = co_await c->async_command({"CLUSTER", "SLOTS"},
                                               core::Deadline::after(clock, config.node.command_timeout));
            if (!r || r->is_error()) {
                continue;
            }
            auto ranges = parse_cluster_slots(r->view(), a.host);
            if (!ranges || ranges->empty()) {
                continue;
            }
            apply(*ranges);
            co_return true;
        }
        co_return false;
    }

    net::awaitable<void> async_run(std::shared_ptr<State> self) {
        running = true;
        while (!stopping) {
            bool master_down = !full_coverage;
            for (const std::uint16_t m : masters) {
                master_down = master_down || !nodes[m]->connected();
            }
            const auto now = clock.steady_now();
            const bool due = last_refresh == core::SteadyTime{} ||
                             ((refresh_wanted || master_down) && now - last_refresh >= config.refresh_min_gap) ||
                             now - last_refresh >= config.refresh_interval;
            if (due) {
                refresh_wanted = false;
                last_refresh = now;
                if (!co_await async_refresh()) {
                    stats.refresh_failures_total.fetch_add(1, std::memory_order_relaxed);
                    refresh_wanted = true;
                }
                continue;
            }
            wake.expires_after(config.refresh_min_gap);
            co_await wake.async_wait(kUseAwaitable);
        }
        running = false;
        run_done.cancel();
        (void)self;
    }

    /// Follows the MOVED/ASK reply @p r that @p c gave to the call @p send makes (any other
    /// result is returned as is), at most max_redirects times.
    template <class Send>
    net::awaitable<core::Result<Reply>> async_follow(Client* c, core::Result<Reply> r, Send& send) {
        for (int i = 0; i < config.max_redirects; ++i) {
            if (!r) {
                if (!c->connected()) {
                    want_refresh();  // its master may be failing over
                }
                co_return r;
            }
            if (!r->is_error()) {
                co_return r;
            }
            const auto redirect = parse_redirect(r->error_message(), host_of(c));
            if (!redirect) {
                co_return r;
            }
            const bool ask = redirect->kind == Redirect::Kind::kAsk;
            if (ask) {
                stats.ask_total.fetch_add(1, std::memory_order_relaxed);
                c = client(node_index(redirect->node));
            } else {
                c = moved(redirect->slot, redirect->node);
            }
            if (c == nullptr) {
                co_return core::make_error(Errc::kUnavailable);
            }
            r = co_await send(*c, ask);
        }
        co_return r;
    }
};

ClusterClient::ClusterClient(net::any_io_executor executor, ClusterConfig config, core::Clock& clock)
    : s_(std::make_shared<State>(std::move(executor), std::move(config), clock)) {}

ClusterClient::~ClusterClient() { stop(); }

void ClusterClient::start() {
    if (s_->started || s_->stopping) {
        return;
    }
    s_->started = true;
    for (const auto& seed : s_->config.seeds) {  // validate(): far fewer than kMaxNodes
        s_->node_index(seed);
    }
    net::co_spawn(s_->executor, s_->async_run(s_), rethrow);
}

void ClusterClient::stop() {
    if (s_->stopping) {
        return;
    }
    s_->stopping = true;
    s_->wake.cancel();
    for (std::size_t i = 0; i < s_->node_count.load(); ++i) {
        s_->nodes[i]->stop();
    }
}

net::awaitable<void> ClusterClient::async_stop() {
    auto s = s_;
    stop();
    for (std::size_t i = 0; i < s->node_count.load(); ++i) {
        co_await s->nodes[i]->async_stop();
    }
    while (s->running) {
        co_await s->run_done.async_wait(kUseAwaitable);
    }
}

net::awaitable<bool> ClusterClient::async_wait_connected(Duration timeout) {
    auto s = s_;
    const auto until = std::chrono::steady_clock::now() + timeout;  // real time, as Client's
    net::steady_timer poll(s->executor);
    while (!connected() && !s->stopping && std::chrono::steady_clock::now() < until) {
        poll.expires_after(std::chrono::milliseconds(5));
        auto [ec] = co_await poll.async_wait(kUseAwaitable);
        if (ec) {
            break;
        }
    }
    co_return connected();
}

bool ClusterClient::connected() const noexcept {
    if (!s_->full_coverage || s_->masters.empty()) {
        return false;
    }
    return std::all_of(s_->masters.begin(), s_->masters.end(),
                       [this](std::uint16_t m) { return s_->nodes[m]->connected(); });
}

const ClusterStats& ClusterClient::stats() const noexcept { return s_->stats; }

ClusterClient::MasterConnections ClusterClient::master_connections() const {
    MasterConnections out;
    const std::size_t n = s_->node_count.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
        if (s_->is_master[i].load(std::memory_order_relaxed)) {
            ++out.masters;
            out.connected += s_->nodes[i]->stats().connected.load(std::memory_order_relaxed) != 0 ? 1 : 0;
        }
    }
    return out;
}

std::vector<const Client*> ClusterClient::nodes() const {
    std::vector<const Client*> out;
    const std::size_t n = s_->node_count.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(s_->nodes[i].get());
    }
    return out;
}

std::optional<NodeAddress> ClusterClient::master_of(std::uint16_t slot) const {
    if (slot >= kClusterSlots || s_->slot_node[slot] == kNoNode) {
        return std::nullopt;
    }
    return s_->addresses[s_->slot_node[slot]];
}

// Calls and scripts: the master's answer comes straight back when it is neither a failure nor an
// error reply; only then does the call go through async_follow (MOVED/ASK) and the `send` lambda,
// whose coroutine frame (with the ASK pipeline in it) is too large for Asio's frame recycling —
// so the common case allocates nothing here (bench: 2 allocations a heartbeat less).
net::awaitable<core::Result<Reply>> ClusterClient::do_async_command(std::span<const std::string_view> args,
                                                                    core::Deadline deadline, CommandControl control) {
    auto s = s_;
    Client* c = s->route(args);
    if (c == nullptr) {
        s->want_refresh();
        co_return core::make_error(Errc::kUnavailable);
    }
    core::Result<Reply> r = co_await c->async_command(args, deadline, control);
    if (r && !r->is_error()) {
        co_return r;
    }
    auto send = [&](Client& node, bool asking) -> net::awaitable<core::Result<Reply>> {
        if (!asking) {
            co_return co_await node.async_command(args, deadline, control);
        }
        Pipeline p;
        p.add({"ASKING"}).add(args);
        co_return co_await async_last_reply(node, p, deadline, control);
    };
    co_return co_await s->async_follow(c, std::move(r), send);
}

net::awaitable<core::Result<Reply>> ClusterClient::do_async_eval(const Script& script,
                                                                 std::span<const std::string_view> keys,
                                                                 std::span<const std::string_view> args,
                                                                 core::Deadline deadline, CommandControl control) {
    auto s = s_;
    Client* c = keys.empty() ? s->any_master() : s->for_slot(key_slot(keys.front()));
    if (c == nullptr) {
        s->want_refresh();
        co_return core::make_error(Errc::kUnavailable);
    }
    core::Result<Reply> r = co_await c->async_eval(script, keys, args, deadline, control);
    if (r && !r->is_error()) {
        co_return r;
    }
    auto send = [&](Client& node, bool asking) -> net::awaitable<core::Result<Reply>> {
        if (!asking) {
            co_return co_await node.async_eval(script, keys, args, deadline, control);
        }
        Pipeline p;
        p.add({"ASKING"}).add_eval(script, keys, args);
        co_return co_await async_last_reply(node, p, deadline, control);
    };
    co_return co_await s->async_follow(c, std::move(r), send);
}

net::awaitable<core::Result<Replies>> ClusterClient::do_async_pipeline(const Pipeline& pipeline,
                                                                       core::Deadline deadline,
                                                                       CommandControl control) {
    auto s = s_;
    if (pipeline.empty()) {
        co_return Replies{};
    }
    // Does every keyed command map to one master? (The common case: one account's keys share a
    // hash tag.) Commands without a key, or whose slot has no master in the map, follow the
    // first keyed one (and are redirected if that was wrong). Nothing is stored for this pass.
    Client* first = nullptr;
    bool mixed = false;
    std::size_t count = 0;
    const bool parsed = for_each_command(pipeline.wire(), [&](std::string_view, std::span<const std::string_view> a) {
        ++count;
        const auto key = command_key(a);
        Client* c = key ? s->for_slot(key_slot(*key)) : nullptr;
        if (c != nullptr) {
            mixed = mixed || (first != nullptr && c != first);
            first = first != nullptr ? first : c;
        }
    });
    if (!parsed || count != pipeline.size()) {
        co_return core::make_error(Errc::kInvalidArgument);
    }
    first = first != nullptr ? first : s->any_master();
    if (first == nullptr) {
        s->want_refresh();
        co_return core::make_error(Errc::kUnavailable);
    }
    // Each command's bytes and master: only needed to split, or to re-send a redirected one.
    std::vector<std::string_view> commands;
    std::vector<Client*> targets;
    auto index_commands = [&] {
        commands.reserve(pipeline.size());
        targets.reserve(pipeline.size());
        for_each_command(pipeline.wire(), [&](std::string_view bytes, std::span<const std::string_view> a) {
            const auto key = command_key(a);
            Client* c = key ? s->for_slot(key_slot(*key)) : nullptr;
            commands.push_back(bytes);
            targets.push_back(c != nullptr ? c : first);
        });
    };
    Replies out;
    if (!mixed) {
        auto rs = co_await first->async_pipeline(pipeline, deadline, control);
        if (!rs) {
            if (!first->connected()) {
                s->want_refresh();
            }
            co_return rs;
        }
        if (std::none_of(rs->begin(), rs->end(), [](const Reply& r) { return r.is_error(); })) {
            co_return rs;
        }
        out = std::move(*rs);
        index_commands();  // an error reply may be a redirect: see below
    } else {
        index_commands();
        // One pipeline per master, in order of first appearance, all sent at once (one wait,
        // not one per master); replies put back in place.
        s->stats.split_pipelines_total.fetch_add(1, std::memory_order_relaxed);
        out.resize(commands.size());
        std::vector<bool> done(commands.size(), false);
        std::vector<Client*> nodes;
        std::vector<Pipeline> parts;  // reserved: the sends hold references to its elements
        std::vector<std::vector<std::size_t>> index;
        parts.reserve(commands.size());
        for (std::size_t i = 0; i < commands.size(); ++i) {
            if (done[i]) {
                continue;
            }
            nodes.push_back(targets[i]);
            Pipeline& part = parts.emplace_back();
            part.adopt_scripts(pipeline);
            std::vector<std::size_t>& at = index.emplace_back();
            for (std::size_t j = i; j < commands.size(); ++j) {
                if (!done[j] && targets[j] == nodes.back()) {
                    part.add_encoded(commands[j]);
                    at.push_back(j);
                    done[j] = true;
                }
            }
        }
        s->stats.parallel_sends_total.fetch_add(parts.size() - 1, std::memory_order_relaxed);
        using Send = decltype(net::co_spawn(s->executor, std::declval<net::awaitable<core::Result<Replies>>>(),
                                            net::deferred));
        std::vector<Send> sends;
        sends.reserve(parts.size());
        for (std::size_t p = 0; p < parts.size(); ++p) {
            sends.push_back(net::co_spawn(s->executor, nodes[p]->async_pipeline(parts[p], deadline, control),
                                          net::deferred));
        }
        auto [order, errors, results] =
            co_await net::experimental::make_parallel_group(std::move(sends))
                .async_wait(net::experimental::wait_for_all(), net::use_awaitable);
        (void)order;
        for (const std::exception_ptr& e : errors) {
            rethrow(e);
        }
        for (std::size_t p = 0; p < parts.size(); ++p) {
            core::Result<Replies>& rs = results[p];
            if (!rs) {
                if (!nodes[p]->connected()) {
                    s->want_refresh();
                }
                co_return rs.error();
            }
            if (rs->size() != index[p].size()) {
                co_return core::make_error(Errc::kProtocolError);
            }
            for (std::size_t k = 0; k < index[p].size(); ++k) {
                out[index[p][k]] = std::move((*rs)[k]);
            }
        }
    }
    // Redirected commands (a slot moving, a failover the map has not seen yet): each is sent
    // again on its own, following the redirections.
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (!out[i].is_error()) {
            continue;
        }
        const std::string_view bytes = commands[i];
        auto send = [&](Client& c, bool asking) -> net::awaitable<core::Result<Reply>> {
            Pipeline p;
            p.adopt_scripts(pipeline);
            if (asking) {
                p.add({"ASKING"});
            }
            p.add_encoded(bytes);
            co_return co_await async_last_reply(c, p, deadline, control);
        };
        auto again = co_await s->async_follow(targets[i], std::move(out[i]), send);
        if (!again) {
            co_return again.error();
        }
        out[i] = std::move(*again);
    }
    co_return out;
}

}  // namespace moneta::redis
