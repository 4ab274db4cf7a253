// Client CPU per Redis call against a real redis-server: N EVALSHA of a trivial script (reply: an array of 6) with D
// callers in flight on one connection (D=1: one round trip at a time; D=32: pipelined, the
// client coalesces the calls of a loop turn into one write). Prints client CPU µs per call
// (getrusage of this process: user+system) and heap allocations per call in steady state.
// Usage: moneta_redis_roundtrip_bench PORT [N=100000] [D=1]   (bench/redis_roundtrip.sh)
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "alloc_counter.hpp"
#include "moneta/redis/client.hpp"

namespace {

using namespace moneta;
namespace net = boost::asio;

double cpu_us() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT [N] [DEPTH]\n", argv[0]);
        return 2;
    }
    redis::ClientConfig config;
    config.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    const long n = argc > 2 ? std::atol(argv[2]) : 100000;
    const long depth = argc > 3 ? std::atol(argv[3]) : 1;
    net::io_context io;
    redis::Client client(io.get_executor(), config, core::SystemClock::instance());
    // Shaped like the heartbeat's reply: an array of 6 (integers, a string, a nil).
    const redis::Script script("return {1, 1764000090000, #ARGV, 'ps_9f2c4e1a7b3d', 17, false}");
    long done = 0;
    long failed = 0;
    double cpu0 = 0;
    std::uint64_t allocs0 = 0;
    auto t0 = std::chrono::steady_clock::now();
    const long warmup = 2000;
    auto worker = [&](long calls) -> net::awaitable<void> {
        for (long i = 0; i < calls; ++i) {
            auto r = co_await client.async_eval(script, {"k"}, {"a", "b"}, core::Deadline::never());
            if (!r || !r->is_array() || r->size() != 6) {
                ++failed;
            }
            if (++done == warmup) {  // steady state from here
                cpu0 = cpu_us();
                allocs0 = bench::allocations();
                t0 = std::chrono::steady_clock::now();
            }
        }
    };
    net::co_spawn(io, [&]() -> net::awaitable<void> {
        client.start();
        if (!co_await client.async_wait_connected(std::chrono::seconds(5))) {
            std::fprintf(stderr, "redis not reachable on %s\n", argv[1]);
            std::exit(1);
        }
        for (long d = 0; d < depth; ++d) {
            net::co_spawn(io, worker((n + warmup) / depth), net::detached);
        }
    }, net::detached);
    // Run until every worker is done, then stop the client so io.run() returns.
    net::co_spawn(io, [&]() -> net::awaitable<void> {
        net::steady_timer t(io);
        while (done < (n + warmup) / depth * depth) {
            t.expires_after(std::chrono::milliseconds(1));
            co_await t.async_wait(net::use_awaitable);
        }
        const double cpu = cpu_us() - cpu0;
        const auto allocs = bench::allocations() - allocs0;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double calls = static_cast<double>(done - warmup);
        std::printf("depth=%ld calls=%.0f failed=%ld client_cpu_us_per_call=%.2f allocs_per_call=%.3f calls_per_s=%.0f\n",
                    depth, calls, failed, cpu / calls, static_cast<double>(allocs) / calls, calls / secs);
        client.stop();
    }, net::detached);
    io.run();
    return failed == 0 ? 0 : 1;
}
