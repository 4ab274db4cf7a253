// CPU and heap allocations of the Redis client's two per-call steps, before and after issue 11
// (docs/redis_client.md "Measured"), in one binary so both run on the same machine in one run:
// - encoding a heartbeat's EVALSHA (7 keys + 14 arguments, as store/session_store.cpp sends it)
//   into a pipeline: before = store::add_evalsha (a vector of views) into a fresh std::string;
//   after = Pipeline::add_eval into the per-thread recycled buffer;
// - reading its reply (an array of 6) from the bytes of one socket read: before = hiredis 0.14's
//   reader (redisReaderFeed + redisReaderGetReply + freeReplyObject, what the client did); after
//   = detail::ReplyReader (views into a recycled arena).
// `allocs` is heap allocations per iteration (malloc/calloc/realloc interposed: alloc_counter.hpp).
#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.hpp"
#include "moneta/redis/pipeline.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "reply_reader.hpp"
#include "resp.hpp"

namespace {

using namespace moneta;

const redis::Script& heartbeat_script() {
    static const redis::Script s(std::string(6000, '-') + "\nreturn 1");  // the size of the real one
    return s;
}

const std::array<std::string, 7> kKeys = {
    "sess:{p17}:acc_0001234", "lease:{p17}:acc_0001234", "meta:{p17}:acc_0001234:ps_9f2c4e1a7b3d",
    "tomb:{p17}:acc_0001234", "prog:{p17}:acc_0001234:p1", "cw:{p17}:acc_0001234:p1", "dirty:{p17}:acc_0001234"};
const std::array<std::string, 14> kArgs = {
    "1764000000000", "90000", "ps_9f2c4e1a7b3d", "600000", "1234.5", "17", "prog:{p17}:acc_0001234:p1:",
    "cw:{p17}:acc_0001234:p1", "2592000", "20", "90000", "1", "500", "1000"};

template <std::size_t N>
std::array<std::string_view, N> views(const std::array<std::string, N>& a) {
    std::array<std::string_view, N> v;
    for (std::size_t i = 0; i < N; ++i) {
        v[i] = a[i];
    }
    return v;
}

void report(benchmark::State& state, std::uint64_t allocs_before) {
    state.counters["allocs"] = benchmark::Counter(
        static_cast<double>(bench::allocations() - allocs_before) / static_cast<double>(state.iterations()));
}

// Before: services/moneta/src/store/scripts.cpp add_evalsha + a Pipeline whose buffer was new.
void BM_EncodeHeartbeatEvalsha_Before(benchmark::State& state) {
    const auto keys = views(kKeys);
    const auto args = views(kArgs);
    const auto& script = heartbeat_script();
    const std::uint64_t a0 = bench::allocations();
    for (auto _ : state) {
        std::vector<std::string_view> argv;
        argv.reserve(3 + keys.size() + args.size());
        argv.push_back("EVALSHA");
        argv.push_back(script.sha1());
        argv.push_back("7");
        argv.insert(argv.end(), keys.begin(), keys.end());
        argv.insert(argv.end(), args.begin(), args.end());
        std::string wire;  // the old Pipeline's std::string, grown by appends
        redis::detail::append_command(wire, argv);
        benchmark::DoNotOptimize(wire.data());
    }
    report(state, a0);
}
BENCHMARK(BM_EncodeHeartbeatEvalsha_Before);

void BM_EncodeHeartbeatEvalsha_After(benchmark::State& state) {
    const auto keys = views(kKeys);
    const auto args = views(kArgs);
    const auto& script = heartbeat_script();
    { redis::Pipeline warm; warm.add_eval(script, keys, args); }
    const std::uint64_t a0 = bench::allocations();
    for (auto _ : state) {
        redis::Pipeline p;
        p.add_eval(script, keys, args);
        benchmark::DoNotOptimize(p.wire().data());
    }
    report(state, a0);
}
BENCHMARK(BM_EncodeHeartbeatEvalsha_After);

// The heartbeat script's reply: {status, lease expiry, progress outcome, session id, seq, nil}.
const std::string kReply = "*6\r\n:1\r\n:1764000090000\r\n:2\r\n$15\r\nps_9f2c4e1a7b3d\r\n:17\r\n$-1\r\n";

void BM_ParseHeartbeatReply_Hiredis(benchmark::State& state) {
    redisReader* reader = redisReaderCreate();
    const std::uint64_t a0 = bench::allocations();
    for (auto _ : state) {
        redisReaderFeed(reader, kReply.data(), kReply.size());
        void* raw = nullptr;
        redisReaderGetReply(reader, &raw);
        const auto* r = static_cast<const redisReply*>(raw);
        benchmark::DoNotOptimize(r->element[3]->str);
        freeReplyObject(raw);
    }
    report(state, a0);
    redisReaderFree(reader);
}
BENCHMARK(BM_ParseHeartbeatReply_Hiredis);

void BM_ParseHeartbeatReply_Ours(benchmark::State& state) {
    redis::detail::ArenaPoolOwner pool(16 * 1024);
    redis::detail::ReplyReader reader(*pool);
    const std::uint64_t a0 = bench::allocations();
    for (auto _ : state) {
        const auto room = reader.prepare();
        std::memcpy(room.data(), kReply.data(), kReply.size());  // what the socket read does
        reader.commit(kReply.size());
        redis::Reply r;
        reader.next(r);
        benchmark::DoNotOptimize(r[3].as_string_view().data());
    }
    report(state, a0);
}
BENCHMARK(BM_ParseHeartbeatReply_Ours);

}  // namespace

BENCHMARK_MAIN();
