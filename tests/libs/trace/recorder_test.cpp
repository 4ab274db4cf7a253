#include "moneta/trace/recorder.hpp"
#include "moneta/trace/client_span.hpp"

#include <gtest/gtest.h>

#include <vector>

using moneta::core::FakeClock;
using moneta::trace::Recorder;
using moneta::trace::Sampler;
using moneta::trace::SamplerConfig;
using moneta::trace::SpanKind;
using moneta::trace::SpanRecord;
using moneta::trace::SpanRing;
using namespace std::chrono_literals;

namespace {

SpanRecord server(std::uint8_t id, bool sampled, int status) {
    SpanRecord s;
    s.trace_id[0] = 7;
    s.span_id = {id, 1, 1, 1, 1, 1, 1, 1};
    s.flags = sampled ? 1 : 0;
    s.kind = SpanKind::kServer;
    s.http_status = status;
    return s;
}

SpanRecord client_of(const SpanRecord& parent, std::uint8_t id) {
    SpanRecord s;
    s.trace_id = parent.trace_id;
    s.span_id = {id, 2, 2, 2, 2, 2, 2, 2};
    s.parent_span_id = parent.span_id;
    s.flags = parent.flags;
    s.kind = SpanKind::kClient;
    return s;
}

std::vector<SpanRecord> drain(SpanRing& ring) {
    std::vector<SpanRecord> out;
    ring.drain([&](const SpanRecord& s) { out.push_back(s); }, 1000);
    return out;
}

struct Fixture {
    FakeClock clock;
    Sampler sampler{SamplerConfig{0.0, 300ms}};
    SpanRing ring{256};
    Recorder rec{&ring, sampler, clock};
};

}  // namespace

TEST(RecorderTest, UnsampledFastSuccessExportsNothing) {
    Fixture f;
    const SpanRecord srv = server(1, false, 200);
    f.rec.add_client(client_of(srv, 10));
    f.rec.add_client(client_of(srv, 11));
    EXPECT_EQ(f.ring.size(), 0U) << "held until the request ends";
    EXPECT_FALSE(f.rec.finish_server(srv, 5ms));
    EXPECT_TRUE(drain(f.ring).empty());
}

TEST(RecorderTest, UnsampledErrorKeepsTheServerSpanAndItsClients) {
    Fixture f;
    const SpanRecord ok = server(1, false, 200);
    const SpanRecord bad = server(2, false, 502);
    f.rec.add_client(client_of(ok, 10));
    f.rec.add_client(client_of(bad, 20));
    f.rec.add_client(client_of(bad, 21));
    EXPECT_TRUE(f.rec.finish_server(bad, 5ms));
    const auto spans = drain(f.ring);
    ASSERT_EQ(spans.size(), 3U);
    EXPECT_EQ(spans[0].span_id[0], 20);
    EXPECT_EQ(spans[1].span_id[0], 21);
    EXPECT_EQ(spans[2].span_id[0], 2);
    EXPECT_FALSE(f.rec.finish_server(ok, 5ms));
    EXPECT_TRUE(drain(f.ring).empty()) << "the other request's client span was not kept";
}

TEST(RecorderTest, UnsampledSlowRequestIsKept) {
    Fixture f;
    const SpanRecord srv = server(1, false, 200);
    f.rec.add_client(client_of(srv, 10));
    EXPECT_TRUE(f.rec.finish_server(srv, 301ms));
    EXPECT_EQ(drain(f.ring).size(), 2U);
}

TEST(RecorderTest, HeadSampledClientsGoStraightToTheRing) {
    Fixture f;
    const SpanRecord srv = server(1, true, 200);
    f.rec.add_client(client_of(srv, 10));
    EXPECT_EQ(f.ring.size(), 1U);
    EXPECT_TRUE(f.rec.finish_server(srv, 1ms));
    EXPECT_EQ(drain(f.ring).size(), 2U);
    EXPECT_EQ(f.rec.kept(), 1U);
}

TEST(RecorderTest, FullTableEvictsTheOldestAndCounts) {
    Fixture f;
    std::vector<SpanRecord> servers;
    for (std::size_t i = 0; i < Recorder::kPending + 1; ++i) {
        SpanRecord s = server(static_cast<std::uint8_t>(i), false, 500);
        s.span_id[1] = static_cast<std::uint8_t>(i >> 8U);
        servers.push_back(s);
        f.rec.add_client(client_of(s, 1));
    }
    EXPECT_EQ(f.rec.overflowed(), 1U) << "request 0's held span was evicted";
    EXPECT_TRUE(f.rec.finish_server(servers[0], 1ms));
    EXPECT_EQ(drain(f.ring).size(), 1U) << "only its server span";
    EXPECT_TRUE(f.rec.finish_server(servers[1], 1ms));
    EXPECT_EQ(drain(f.ring).size(), 2U);
    // Too many client spans for one request.
    const SpanRecord busy = server(200, false, 500);
    for (std::size_t i = 0; i < Recorder::kMaxChildren + 2; ++i) {
        f.rec.add_client(client_of(busy, static_cast<std::uint8_t>(i)));
    }
    EXPECT_EQ(f.rec.overflowed(), 3U);
}

TEST(RecorderTest, DisabledRecorderDoesNothing) {
    FakeClock clock;
    const Sampler sampler(SamplerConfig{1.0, 1ms});
    Recorder rec(nullptr, sampler, clock);
    EXPECT_FALSE(rec.enabled());
    const SpanRecord srv = server(1, true, 500);
    rec.add_client(client_of(srv, 2));
    EXPECT_FALSE(rec.finish_server(srv, 1s));
}

TEST(RecorderTest, UnixNanosFollowTheSteadyClockFromTheWallAnchor) {
    Fixture f;
    const auto t0 = f.clock.steady_now();
    EXPECT_EQ(f.rec.unix_ns(t0), f.clock.wall_ms() * 1'000'000);
    EXPECT_EQ(f.rec.unix_ns(t0 + 1500us), f.clock.wall_ms() * 1'000'000 + 1'500'000);
}

TEST(ClientSpanTest, RedisCallIsAChildOfTheRequestsServerSpan) {
    FakeClock clock;
    const Sampler sampler(SamplerConfig{1.0, 300ms});
    SpanRing ring(16);
    Recorder rec(&ring, sampler, clock);
    rec.set_redis_peer("127.0.0.1", 6380);
    moneta::core::RequestContext ctx;
    ctx.trace = moneta::core::TraceContext::new_root(true);

    // No recorder on this thread: nothing is timed or recorded.
    EXPECT_EQ(moneta::trace::client_call_start(), moneta::core::SteadyTime{});
    moneta::trace::record_redis_call(ctx, clock.steady_now(), "heartbeat", true);
    EXPECT_EQ(ring.size(), 0U);

    moneta::trace::set_this_thread_recorder(&rec);
    const auto t0 = moneta::trace::client_call_start();
    clock.advance(2ms);
    moneta::trace::record_redis_call(ctx, t0, "heartbeat", false);
    moneta::trace::set_this_thread_recorder(nullptr);
    const auto spans = drain(ring);
    ASSERT_EQ(spans.size(), 1U);
    const SpanRecord& s = spans[0];
    EXPECT_EQ(s.trace_id, ctx.trace.trace_id);
    EXPECT_EQ(s.parent_span_id, ctx.trace.span_id);
    EXPECT_NE(s.span_id, ctx.trace.span_id);
    EXPECT_EQ(s.kind, SpanKind::kClient);
    EXPECT_EQ(s.name.view(), "redis heartbeat");
    EXPECT_EQ(s.db_operation.view(), "heartbeat");
    EXPECT_EQ(s.server_address.view(), "127.0.0.1");
    EXPECT_EQ(s.server_port, 6380);
    EXPECT_EQ(s.status, moneta::trace::StatusCode::kError);
    EXPECT_EQ(s.end_unix_ns - s.start_unix_ns, 2'000'000);
}
