// ClusterClient adds no heap allocation to a call on its common path (a script, a command, a
// pipeline whose keys share one slot): the same calls through it and through a plain
// redis::Client connected to the master that serves the slot allocate the same. Found by
// `./dev bench --cluster`: a heartbeat allocated ~2 times more in cluster mode (routing tables
// built for every pipeline, redirect-following frames too large for Asio's recycling). Its own
// binary: it replaces the global operator new to count this thread's allocations.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>
#include <optional>
#include <string>

#include "coro_util.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/redis/cluster_client.hpp"
#include "moneta/redis/cluster.hpp"
#include "moneta/redis/script.hpp"
#include "moneta/testing/redis_cluster.hpp"
#include "moneta/testing/counting_new.hpp"  // this binary's operator new

namespace moneta::redis::testing {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;

struct Counts {
    std::uint64_t eval = 0, command = 0, pipeline = 0;
};

constexpr int kCalls = 200;

/// Allocations made while @p call() is awaited kCalls times (counted only when @p counting; the
/// first, uncounted round warms every cache). nullopt when a call failed.
template <class Call>
net::awaitable<std::optional<std::uint64_t>> allocations_of(bool counting, Call call) {
    const std::uint64_t before = moneta::testing::allocation_count.load();
    moneta::testing::count_allocations = counting;
    for (int i = 0; i < kCalls; ++i) {
        if (!co_await call()) {
            moneta::testing::count_allocations = false;
            co_return std::nullopt;
        }
    }
    moneta::testing::count_allocations = false;
    co_return moneta::testing::allocation_count.load() - before;
}

/// Allocations of kCalls scripts, commands and one-slot pipelines through @p c, after as many
/// to warm every cache (frames, arenas, the pipeline's buffers).
Counts count_calls(net::io_context& io, Commands& c) {
    static const Script script("return redis.call('INCR', KEYS[1])");
    const std::string_view keys[] = {"alloc:{p7}:a"};
    const std::string_view get[] = {"GET", "alloc:{p7}:a"};
    Pipeline p;
    p.add({"INCR", "alloc:{p7}:b"}).add({"GET", "alloc:{p7}:a"});
    const auto deadline = core::Deadline::never();
    Counts out;
    auto body = [&]() -> net::awaitable<bool> {
        for (const bool counting : {false, true}) {
            const auto eval = co_await allocations_of(counting, [&] { return c.async_eval(script, keys, {}, deadline); });
            const auto command = co_await allocations_of(counting, [&] { return c.async_command(get, deadline); });
            const auto pipeline = co_await allocations_of(counting, [&] { return c.async_pipeline(p, deadline); });
            if (!eval || !command || !pipeline) {
                co_return false;
            }
            out = Counts{*eval, *command, *pipeline};
        }
        co_return true;
    };
    const auto ok = run(io, body());
    EXPECT_TRUE(ok && *ok);
    return out;
}

TEST(ClusterClientAllocTest, TheCommonPathAllocatesNoMoreThanAPlainClient) {
    auto cl = moneta::testing::RedisCluster::start({.replicas_per_master = 0, .appendonly = false});
    ASSERT_TRUE(cl) << cl.error().message();
    net::io_context io;
    const std::size_t master = cl->master_of_slot(key_slot("alloc:{p7}:a"));
    ASSERT_LT(master, cl->size());

    ClientConfig plain_config;
    plain_config.port = cl->port(master);
    Client plain(io.get_executor(), plain_config, core::SystemClock::instance());
    plain.start();
    ASSERT_TRUE(run_until(io, [&] { return plain.connected(); }, 10s));
    const Counts direct = count_calls(io, plain);

    ClusterConfig config;
    config.seeds = {{"127.0.0.1", cl->port(0)}};
    ClusterClient cluster(io.get_executor(), config, core::SystemClock::instance());
    cluster.start();
    const auto up = run(io, cluster.async_wait_connected(10s));
    ASSERT_TRUE(up && *up);
    const Counts routed = count_calls(io, cluster);

    std::cout << "allocations per " << kCalls << " calls, plain / cluster: eval " << direct.eval << " / " << routed.eval
              << ", command " << direct.command << " / " << routed.command << ", pipeline " << direct.pipeline
              << " / " << routed.pipeline << "\n";
    // The bug was one allocation or more per call (200+ here); a slot-map refresh or a read arena
    // growing may allocate once or twice in a run of either client.
    EXPECT_LE(routed.eval, direct.eval + 2);
    EXPECT_LE(routed.command, direct.command + 2);
    EXPECT_LE(routed.pipeline, direct.pipeline + 2);
    plain.stop();
    cluster.stop();
    run_until(io, [] { return false; }, 50ms);
}

}  // namespace
}  // namespace moneta::redis::testing
