// Request-thread cost of the access log and of the request metrics (docs/logging.md,
// docs/metrics.md): the path before issue 11 (Logger::info formatting a line and queueing it
// under a mutex; shared atomic Counter/Histogram) next to the path after (a binary record
// copied into the worker's AccessRing; single-writer LocalCounter/LocalHistogram). Heap
// allocations are counted by replacing the global operator new in this binary; the logger's
// own thread drains into a sink that discards, as the production one writes to a file.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "moneta/core/clock.hpp"
#include "moneta/log/access_ring.hpp"
#include "moneta/log/logger.hpp"
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/registry.hpp"

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}  // namespace

void* operator new(std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace moneta;

class NullSink final : public log::Sink {
public:
    void write(std::string_view lines) override { benchmark::DoNotOptimize(lines.data()); }
};

core::RequestContext make_context() {
    core::RequestContext ctx;
    ctx.request_id = "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a";
    ctx.trace = *core::TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    return ctx;
}

constexpr std::string_view kPath = "/v1/playback/sessions/c2Vzc2lvbi0xMjM0NTY3ODkw/heartbeat";
constexpr std::string_view kUserAgent = "moneta-player/5.2.0 (Android 14; Pixel 8)";

/// Allocations per iteration, measured over the timed loop only.
struct AllocCounter {
    explicit AllocCounter(benchmark::State& s) : state(s), start(g_allocs.load()) {}
    ~AllocCounter() {
        state.counters["allocs/op"] = benchmark::Counter(
            static_cast<double>(g_allocs.load() - start), benchmark::Counter::kAvgIterations);
    }
    benchmark::State& state;
    std::uint64_t start;
};

// Before: the line formatted on the request thread, then a mutex + deque push + notify.
void BM_AccessLogLineBefore(benchmark::State& state) {
    const core::RequestContext ctx = make_context();
    log::LoggerConfig config;
    config.queue_capacity = 1 << 20;  // measure the path, not the drop branch
    log::Logger logger(config, std::make_unique<NullSink>(), core::SystemClock::instance());
    AllocCounter allocs(state);
    for (auto _ : state) {
        logger.info("access",
                    {{"event.kind", std::string_view("event")},
                     {"event.dataset", std::string_view("moneta.access")},
                     {"event.duration", std::int64_t{812'345}},
                     {"http.request.method", std::string_view("POST")},
                     {"url.path", kPath},
                     {"http.route", std::string_view("heartbeat")},
                     {"http.response.status_code", std::int64_t{200}},
                     {"http.response.bytes", std::int64_t{312}},
                     {"client.ip", std::string_view("172.18.0.5")},
                     {"user_agent.original", kUserAgent}},
                    &ctx);
    }
}
BENCHMARK(BM_AccessLogLineBefore);

// After: the record copied into the worker's ring. The ring is drained outside the timed
// region every half ring, so every push lands (this is the path, not the drop branch).
void BM_AccessLogRecordAfter(benchmark::State& state) {
    const core::RequestContext ctx = make_context();
    log::AccessRing ring(2048);
    const core::Clock& clock = core::SystemClock::instance();
    std::size_t n = 0;
    AllocCounter allocs(state);
    for (auto _ : state) {
        log::AccessEntry e;
        e.wall_ms = clock.wall_ms();
        e.duration_ns = 812'345;
        e.response_bytes = 312;
        e.status = 200;
        e.method = "POST";
        e.path = kPath;
        e.route = "heartbeat";
        e.remote_ip = "172.18.0.5";
        e.user_agent = kUserAgent;
        e.context = &ctx;
        benchmark::DoNotOptimize(ring.try_push(e));
        if (++n == 1024) {
            state.PauseTiming();
            ring.drain([](const log::AccessSlot& s) { benchmark::DoNotOptimize(s.status); });
            n = 0;
            state.ResumeTiming();
        }
    }
    state.counters["dropped"] = static_cast<double>(ring.dropped());
}
BENCHMARK(BM_AccessLogRecordAfter);

// Before: a registry Counter (one atomic shared by every worker; here uncontended, so this is
// its best case). After: the worker's own LocalCounter.
void BM_CounterSharedAtomic(benchmark::State& state) {
    static metrics::Registry r;  // one counter shared by the benchmark's threads
    metrics::Counter& c = r.counter("bench_total", "b");
    AllocCounter allocs(state);
    for (auto _ : state) {
        c.inc();
    }
    benchmark::DoNotOptimize(c.value());
}
BENCHMARK(BM_CounterSharedAtomic)->Threads(1)->Threads(2);

void BM_CounterPerWorker(benchmark::State& state) {
    struct alignas(64) Slot {
        metrics::LocalCounter c;
    };
    static Slot slots[8];
    metrics::LocalCounter& c = slots[static_cast<std::size_t>(state.thread_index())].c;
    AllocCounter allocs(state);
    for (auto _ : state) {
        ++c;
    }
    benchmark::DoNotOptimize(c.load());
}
BENCHMARK(BM_CounterPerWorker)->Threads(1)->Threads(2);

void BM_HistogramSharedAtomic(benchmark::State& state) {
    static metrics::Registry r;  // one histogram shared by the benchmark's threads
    metrics::Histogram& h = r.histogram("bench_seconds", "b", metrics::latency_buckets());
    AllocCounter allocs(state);
    for (auto _ : state) {
        h.observe(0.0008);
    }
    benchmark::DoNotOptimize(h.sum());
}
BENCHMARK(BM_HistogramSharedAtomic)->Threads(1)->Threads(2);

void BM_HistogramPerWorker(benchmark::State& state) {
    struct alignas(64) Slot {
        metrics::LocalHistogram<metrics::kLatencyBounds> h;
    };
    static Slot slots[8];
    auto& h = slots[static_cast<std::size_t>(state.thread_index())].h;
    AllocCounter allocs(state);
    for (auto _ : state) {
        h.observe(0.0008);
    }
    benchmark::DoNotOptimize(h.sum());
}
BENCHMARK(BM_HistogramPerWorker)->Threads(1)->Threads(2);

// Issue 12: the request-duration histogram keeps an exemplar per bucket. An unsampled request
// (99 % at the default 1 % head sampling) takes the plain observe; a sampled one also writes the
// bucket's ExemplarCell (seqlock: two sequence stores, a fence, four relaxed stores).
void BM_ExemplarHistogramUnsampled(benchmark::State& state) {
    struct alignas(64) Slot {
        metrics::LocalExemplarHistogram<metrics::kLatencyBounds> h;
    };
    static Slot slots[8];
    auto& h = slots[static_cast<std::size_t>(state.thread_index())].h;
    AllocCounter allocs(state);
    for (auto _ : state) {
        h.observe(0.0008);
    }
    benchmark::DoNotOptimize(h.sum());
}
BENCHMARK(BM_ExemplarHistogramUnsampled)->Threads(1)->Threads(2);

void BM_ExemplarHistogramSampled(benchmark::State& state) {
    struct alignas(64) Slot {
        metrics::LocalExemplarHistogram<metrics::kLatencyBounds> h;
    };
    static Slot slots[8];
    auto& h = slots[static_cast<std::size_t>(state.thread_index())].h;
    const core::RequestContext ctx = make_context();
    AllocCounter allocs(state);
    double t = 1765000000.0;
    for (auto _ : state) {
        h.observe(0.0008, ctx.trace.trace_id, t);
        t += 0.001;
    }
    benchmark::DoNotOptimize(h.sum());
}
BENCHMARK(BM_ExemplarHistogramSampled)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
