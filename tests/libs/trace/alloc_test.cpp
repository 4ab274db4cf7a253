// Tracing's request-path work allocates nothing: its own binary, because it replaces the global
// operator new to count this thread's allocations while the recorder, the Redis span helper,
// the rings and (after its first batch) the encoder run.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "moneta/trace/client_span.hpp"
#include "moneta/trace/otlp_encoder.hpp"
#include "moneta/trace/recorder.hpp"
#include "moneta/testing/counting_new.hpp"  // this binary's operator new

namespace moneta::trace {
namespace {

using namespace std::chrono_literals;

TEST(TraceAllocTest, RequestPathAndSteadyEncodingAllocateNothing) {
    core::FakeClock clock;
    const Sampler sampler(SamplerConfig{0.5, 300ms});
    SpanRing ring(1 << 14);
    Recorder rec(&ring, sampler, clock);
    rec.set_redis_peer("127.0.0.1", 6380);
    set_this_thread_recorder(&rec);
    core::RequestContext ctx;
    ctx.request_id.reserve(64);
    OtlpEncoder encoder(ResourceInfo{"moneta", "1", "host", "env"});
    std::vector<SpanRecord> batch;
    batch.reserve(1 << 14);
    // Round 0 is the warm-up (the encoder's buffer reaches its high-water mark, this thread's
    // random pool is filled); round 1 is counted.
    std::uint64_t before = 0;
    for (int i = 0; i < 4000; ++i) {
        if (i == 2000) {
            // The batches' mix of span kinds is random (head sampling), so a counted batch
            // could outgrow every warm-up one (it did once in CI-like load: 1 allocation). One
            // encode of 1,024 spans, twice a drain's 512, puts the encoder's buffer above any
            // later batch: no span kind here is twice the size of another.
            ASSERT_FALSE(batch.empty());
            std::vector<SpanRecord> big;
            big.reserve(1024);
            while (big.size() < 1024) {
                for (const SpanRecord& s : batch) {
                    if (big.size() < 1024) {
                        big.push_back(s);
                    }
                }
            }
            (void)encoder.encode(big);
            moneta::testing::count_allocations = true;
            before = moneta::testing::allocation_count.load();
        }
        ctx.trace = core::TraceContext::new_root(false);
        ctx.trace.flags = sampler.head(ctx.trace, std::nullopt) ? 1 : 0;
        const auto t0 = client_call_start();
        clock.advance(100us);
        record_redis_call(ctx, t0, "heartbeat", true);
        SpanRecord server;
        server.trace_id = ctx.trace.trace_id;
        server.span_id = ctx.trace.span_id;
        server.flags = ctx.trace.flags;
        server.kind = SpanKind::kServer;
        server.name.assign_joined("POST", "/v1/playback/sessions/{id}/heartbeat");
        server.http_status = i % 50 == 0 ? 503 : 200;  // some errors: kept whatever the head said
        server.error_type.assign_status(server.http_status);
        (void)rec.finish_server(server, 1ms);
        if (ring.size() > 256) {
            batch.clear();
            ring.drain([&](const SpanRecord& s) { batch.push_back(s); }, 512);
            (void)encoder.encode(batch);
        }
    }
    const auto after = moneta::testing::allocation_count.load();
    moneta::testing::count_allocations = false;
    set_this_thread_recorder(nullptr);
    EXPECT_EQ(after - before, 0U);
    EXPECT_GT(rec.kept(), 500U);  // the loop did export (half head-sampled + the errors)
}

}  // namespace
}  // namespace moneta::trace
