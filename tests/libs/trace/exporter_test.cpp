#include "moneta/trace/exporter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

using moneta::core::Duration;
using moneta::core::FakeClock;
using moneta::trace::Exporter;
using moneta::trace::ExporterConfig;
using moneta::trace::PostResult;
using moneta::trace::ResourceInfo;
using moneta::trace::SpanRecord;
using moneta::trace::Transport;
using namespace std::chrono_literals;
namespace otlp = opentelemetry::proto;

namespace {

/// Records every post and answers from a script (then 200).
struct FakeTransport final : Transport {
    struct Call {
        std::string body;
        Duration timeout;
        std::int64_t at_ns;
    };
    explicit FakeTransport(const FakeClock& c) : clock(c) {}
    PostResult post(std::string_view body, Duration timeout) override {
        calls.push_back({std::string(body), timeout, clock.steady_now().time_since_epoch().count()});
        if (script.empty()) {
            return {200, std::nullopt};
        }
        PostResult r = script.front();
        script.erase(script.begin());
        return r;
    }
    const FakeClock& clock;
    std::vector<PostResult> script;
    std::vector<Call> calls;
};

SpanRecord span(std::uint8_t n) {
    SpanRecord s;
    s.trace_id[0] = 1;
    s.span_id[0] = n;
    s.span_id[7] = 1;
    s.name.assign("s");
    return s;
}

std::size_t spans_in(const std::string& body) {
    otlp::collector::trace::v1::ExportTraceServiceRequest req;
    EXPECT_TRUE(req.ParseFromString(body));
    return req.resource_spans_size() == 0 ? 0 : static_cast<std::size_t>(req.resource_spans(0).scope_spans(0).spans_size());
}

ExporterConfig config() {
    ExporterConfig c;
    c.queue_spans = 64;
    c.batch_spans = 4;
    c.flush_interval = 1s;
    c.export_timeout = 1500ms;
    c.backoff_initial = 250ms;
    c.backoff_max = 10s;
    c.max_attempts = 3;
    return c;
}

struct Fixture {
    FakeClock clock;
    FakeTransport* transport = nullptr;
    std::unique_ptr<Exporter> exporter;
    explicit Fixture(ExporterConfig c = config()) {
        auto t = std::make_unique<FakeTransport>(clock);
        transport = t.get();
        exporter = std::make_unique<Exporter>(c, ResourceInfo{"moneta", "1", "h", "test"}, std::move(t), clock);
    }
};

}  // namespace

TEST(ExporterTest, SendsAFullBatchAtOnce) {
    Fixture f;
    auto& ring = f.exporter->add_ring();
    for (std::uint8_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(ring.try_push(span(i)));
    }
    (void)f.exporter->pump();
    EXPECT_TRUE(f.transport->calls.empty()) << "3 < batch size and the interval has not passed";
    ASSERT_TRUE(ring.try_push(span(3)));
    (void)f.exporter->pump();
    ASSERT_EQ(f.transport->calls.size(), 1U);
    EXPECT_EQ(spans_in(f.transport->calls[0].body), 4U);
    EXPECT_EQ(f.transport->calls[0].timeout, 1500ms);
    EXPECT_EQ(f.exporter->spans_exported(), 4U);
    EXPECT_EQ(f.exporter->export_requests(), 1U);
}

TEST(ExporterTest, SendsAPartialBatchAfterTheFlushInterval) {
    Fixture f;
    auto& ring = f.exporter->add_ring();
    auto& ring2 = f.exporter->add_ring();
    ASSERT_TRUE(ring.try_push(span(1)));
    ASSERT_TRUE(ring2.try_push(span(2)));
    (void)f.exporter->pump();
    f.clock.advance(999ms);
    (void)f.exporter->pump();
    EXPECT_TRUE(f.transport->calls.empty());
    f.clock.advance(1ms);
    (void)f.exporter->pump();
    ASSERT_EQ(f.transport->calls.size(), 1U);
    EXPECT_EQ(spans_in(f.transport->calls[0].body), 2U) << "both workers' rings in one batch";
}

TEST(ExporterTest, FullRingDropsAndCounts) {
    ExporterConfig c = config();
    c.queue_spans = 8;
    Fixture f(c);
    auto& ring = f.exporter->add_ring();
    int accepted = 0;
    for (std::uint8_t i = 0; i < 20; ++i) {
        accepted += ring.try_push(span(i)) ? 1 : 0;
    }
    EXPECT_EQ(accepted, 8);
    EXPECT_EQ(f.exporter->spans_dropped(), 12U);
    // Drained: room again.
    f.clock.advance(2s);
    (void)f.exporter->pump();
    (void)f.exporter->pump();
    EXPECT_EQ(f.exporter->spans_exported(), 8U);
    EXPECT_TRUE(ring.try_push(span(99)));
}

TEST(ExporterTest, CollectorDownBacksOffExponentiallyThenGivesTheBatchUp) {
    Fixture f;
    f.transport->script = {PostResult{0, {}}, PostResult{0, {}}, PostResult{0, {}}, PostResult{0, {}}};
    auto& ring = f.exporter->add_ring();
    for (std::uint8_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(ring.try_push(span(i)));
    }
    const auto t0 = f.clock.steady_now();
    auto next = f.exporter->pump();  // attempt 1 fails
    ASSERT_EQ(f.transport->calls.size(), 1U);
    EXPECT_EQ(next - t0, 250ms);
    f.clock.advance(249ms);
    (void)f.exporter->pump();
    EXPECT_EQ(f.transport->calls.size(), 1U) << "no attempt inside the backoff";
    f.clock.advance(1ms);
    next = f.exporter->pump();  // attempt 2
    ASSERT_EQ(f.transport->calls.size(), 2U);
    EXPECT_EQ(next - f.clock.steady_now(), 500ms);
    f.clock.advance(500ms);
    next = f.exporter->pump();  // attempt 3 = max_attempts: the batch is given up
    ASSERT_EQ(f.transport->calls.size(), 3U);
    EXPECT_EQ(next - f.clock.steady_now(), 1s);
    EXPECT_EQ(f.exporter->spans_failed(), 4U);
    EXPECT_EQ(f.exporter->batch_size(), 0U);
    EXPECT_EQ(f.exporter->export_errors(), 3U);
    // The next batch still waits for the backoff, then succeeds and resets it.
    for (std::uint8_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(ring.try_push(span(i)));
    }
    f.clock.advance(999ms);
    (void)f.exporter->pump();
    EXPECT_EQ(f.transport->calls.size(), 3U);
    f.clock.advance(1ms);
    (void)f.exporter->pump();  // fails (4th scripted 0): backoff 2 s
    f.clock.advance(2s);
    (void)f.exporter->pump();  // 200
    EXPECT_EQ(f.exporter->spans_exported(), 4U);
    for (std::uint8_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(ring.try_push(span(i)));
    }
    f.transport->script = {PostResult{0, {}}};
    const auto before = f.clock.steady_now();
    next = f.exporter->pump();
    EXPECT_EQ(next - before, 250ms) << "a success resets the backoff";
}

TEST(ExporterTest, RetryAfterIsHonouredAndCapped) {
    Fixture f;
    f.transport->script = {PostResult{503, 7s}, PostResult{429, 3600s}};
    auto& ring = f.exporter->add_ring();
    for (std::uint8_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(ring.try_push(span(i)));
    }
    (void)f.exporter->pump();
    f.clock.advance(6999ms);
    (void)f.exporter->pump();
    EXPECT_EQ(f.transport->calls.size(), 1U) << "Retry-After: 7 is longer than our 250 ms backoff";
    f.clock.advance(1ms);
    const auto next = f.exporter->pump();
    ASSERT_EQ(f.transport->calls.size(), 2U);
    EXPECT_EQ(next - f.clock.steady_now(), 10s) << "an hour is capped at backoff_max";
    f.clock.advance(10s);
    (void)f.exporter->pump();
    EXPECT_EQ(f.exporter->spans_exported(), 4U) << "the same batch, retried, got through";
    EXPECT_EQ(spans_in(f.transport->calls[2].body), 4U);
}

TEST(ExporterTest, NonRetryableAnswerDropsTheBatchAtOnce) {
    Fixture f;
    f.transport->script = {PostResult{400, {}}};
    auto& ring = f.exporter->add_ring();
    for (std::uint8_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(ring.try_push(span(i)));
    }
    (void)f.exporter->pump();
    EXPECT_EQ(f.exporter->spans_failed(), 4U);
    EXPECT_EQ(f.exporter->batch_size(), 0U);
}

TEST(ExporterTest, StopFlushesWhatIsQueued) {
    Fixture f;
    auto& ring = f.exporter->add_ring();
    ASSERT_TRUE(ring.try_push(span(1)));
    f.exporter->stop(5s);  // never started: the final flush runs on this thread
    ASSERT_EQ(f.transport->calls.size(), 1U);
    EXPECT_EQ(f.exporter->spans_exported(), 1U);
}

namespace {

/// A collector that hangs: post blocks until released.
struct HangingTransport final : Transport {
    PostResult post(std::string_view, Duration) override {
        std::unique_lock lock(mu);
        ++entered;
        cv.notify_all();
        cv.wait(lock, [this] { return released; });
        return {0, {}};
    }
    std::mutex mu;
    std::condition_variable cv;
    int entered = 0;
    bool released = false;
};

}  // namespace

TEST(ExporterTest, HungCollectorNeverBlocksTheProducer) {
    auto t = std::make_unique<HangingTransport>();
    HangingTransport* hang = t.get();
    ExporterConfig c = config();
    c.batch_spans = 1;
    c.queue_spans = 128;
    Exporter exporter(c, ResourceInfo{"moneta", "1", "h", ""}, std::move(t), moneta::core::SystemClock::instance());
    auto& ring = exporter.add_ring();
    exporter.start();
    ASSERT_TRUE(ring.try_push(span(0)));
    {
        // The exporter's thread is now stuck in post() (bounded wait for that state).
        std::unique_lock lock(hang->mu);
        ASSERT_TRUE(hang->cv.wait_for(lock, 10s, [&] { return hang->entered == 1; }));
    }
    // 100k pushes complete while the collector hangs: the ring fills, the rest are dropped.
    const auto start = std::chrono::steady_clock::now();
    std::size_t accepted = 0;
    for (int i = 0; i < 100000; ++i) {
        accepted += ring.try_push(span(static_cast<std::uint8_t>(i))) ? 1 : 0;
    }
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(accepted, 128U);
    EXPECT_EQ(exporter.spans_dropped(), 100000U - 128U);
    EXPECT_LT(took, 2s);
    {
        std::lock_guard lock(hang->mu);
        hang->released = true;
    }
    hang->cv.notify_all();
    exporter.stop(Duration::zero());
}
