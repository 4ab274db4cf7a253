// moneta's runtime and exemplar metrics: the event-loop lag monitor (its window logic on given
// times, then a real io_context blocked on purpose), and Telemetry's exemplars (only sampled
// requests leave one) plus the dependency, lag and connection families it registers.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "loop_lag.hpp"
#include "telemetry.hpp"

namespace moneta {
namespace {

using namespace std::chrono_literals;

std::uint64_t count(const metrics::LocalHistogram<metrics::kLatencyBounds>& h) {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i <= h.kBounds; ++i) {
        n += h.bucket(i);
    }
    return n;
}

TEST(LoopLagMonitorTest, RecentMaxCoversTheCurrentAndThePreviousWindow) {
    boost::asio::io_context io;
    core::FakeClock clock;
    LoopLagStats stats;
    LoopLagMonitor m(io.get_executor(), clock, stats);
    const core::SteadyTime t0 = clock.steady_now() + 1h;  // well past the monitor's window start
    m.record(30ms, t0);
    EXPECT_DOUBLE_EQ(stats.recent_max_seconds.load(), 0.030);
    m.record(-5ms, t0 + 1s);  // early fires count as 0
    m.record(2ms, t0 + 2s);
    EXPECT_DOUBLE_EQ(stats.recent_max_seconds.load(), 0.030);
    // Next window: the 30 ms of the previous one is still shown...
    m.record(1ms, t0 + LoopLagMonitor::kWindow + 1s);
    EXPECT_DOUBLE_EQ(stats.recent_max_seconds.load(), 0.030);
    // ...and gone one window later.
    m.record(1ms, t0 + 2 * LoopLagMonitor::kWindow + 2s);
    EXPECT_DOUBLE_EQ(stats.recent_max_seconds.load(), 0.001);
    // Every tick is in the histogram, the early one in the first bucket.
    EXPECT_EQ(count(stats.lag), 5U);
    EXPECT_EQ(stats.lag.bucket(0), 1U);
    EXPECT_EQ(stats.lag.bucket(8), 1U);  // 30 ms: (25 ms, 50 ms]
}

TEST(LoopLagMonitorTest, MeasuresALoopBlockedByAHandlerAndLetsTheLoopEndWhenStopped) {
    boost::asio::io_context io;
    core::SystemClock clock;
    LoopLagStats stats;
    LoopLagMonitor m(io.get_executor(), clock, stats, 20ms);
    m.start();
    // The stimulus: a handler that blocks the loop for 150 ms, as a blocking call would.
    boost::asio::post(io, [] { std::this_thread::sleep_for(150ms); });
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (stats.recent_max_seconds.load() < 0.1 && std::chrono::steady_clock::now() < until) {
        io.run_for(50ms);
    }
    EXPECT_GE(stats.recent_max_seconds.load(), 0.1);
    EXPECT_GE(stats.lag.bucket(10) + stats.lag.bucket(11), 1U);  // (100 ms, 500 ms]
    // Stopped, the timer no longer keeps the loop alive: run() returns by itself.
    m.stop();
    io.restart();
    const auto start = std::chrono::steady_clock::now();
    io.run_for(5s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_TRUE(io.stopped());
}

class TelemetryTest : public ::testing::Test {
protected:
    /// Each of @p series (a whole exposition line) is in the scrape @p text.
    static void expect_series(const std::string& text, std::initializer_list<const char*> series) {
        for (const char* line : series) {
            EXPECT_NE(text.find(line), std::string::npos) << line;
        }
    }

    metrics::Registry registry_;
    Telemetry telemetry_{registry_, 2};
    core::FakeClock clock_;
    const std::vector<std::uint8_t> labels_{0};  // route id 0 is "start"

    void access(WorkerStats& w, const core::TraceContext& trace, std::chrono::microseconds took) {
        http::Request req;
        req.set_route_id(0);
        req.context().trace = trace;
        Telemetry::on_access(http::AccessRecord{req, 201, 10, took}, labels_, w, nullptr, clock_);
    }
};

TEST_F(TelemetryTest, OnlySampledRequestsLeaveAnExemplarWithTheirTraceId) {
    const auto sampled = core::TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const auto unsampled = core::TraceContext::parse("00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-00f067aa0ba902b7-00");
    ASSERT_TRUE(sampled && unsampled);
    access(telemetry_.worker(0), *sampled, 700us);
    access(telemetry_.worker(1), *unsampled, 700us);
    const std::string om = registry_.render_openmetrics();
    const std::string line = "moneta_http_request_duration_seconds_bucket{route=\"start\",le=\"0.001\"} 2 # "
                             "{trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 7e-04 ";
    EXPECT_NE(om.find(line), std::string::npos) << om.substr(om.find("moneta_http_request_duration_seconds_bucket{route=\"start\""), 600);
    EXPECT_EQ(om.find("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), std::string::npos);
    // The newest sampled request of any worker wins the bucket.
    const auto later = core::TraceContext::parse("00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-00f067aa0ba902b7-01");
    clock_.advance(1s);
    access(telemetry_.worker(1), *later, 800us);
    EXPECT_NE(registry_.render_openmetrics().find("le=\"0.001\"} 3 # {trace_id=\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"} 8e-04"),
              std::string::npos);
    // The text format carries none.
    EXPECT_EQ(registry_.render_text().find("trace_id"), std::string::npos);
}

TEST_F(TelemetryTest, RegistersDependencyLatencyLoopLagAndConnectionFamilies) {
    telemetry_.export_redis([] { return Telemetry::RedisTotals{.connected = 5, .expected = 6}; });
    telemetry_.worker(0).redis.latency[store::RedisLatencyStats::kScript].observe(0.002);
    telemetry_.flusher_slot().internal_api.latency[3].observe(0.3);  // the flusher's upserts count too
    telemetry_.worker(1).loop.recent_max_seconds.store(0.25);
    const std::string text = registry_.render_text();
    expect_series(text, {
                      "moneta_redis_request_duration_seconds_count{operation=\"script\"} 1\n",
                      "moneta_redis_request_duration_seconds_count{operation=\"command\"} 0\n",
                      "moneta_redis_request_duration_seconds_count{operation=\"pipeline\"} 0\n",
                      "moneta_internal_api_request_duration_seconds_count{resource=\"progress_upsert\"} 1\n",
                      "moneta_internal_api_request_duration_seconds_count{resource=\"account\"} 0\n",
                      "moneta_event_loop_lag_seconds_count{worker=\"0\"} 0\n",
                      "moneta_event_loop_lag_max_seconds{worker=\"1\"} 0.25\n",
                      "moneta_redis_connections_expected 6\n",
                      "moneta_redis_connected 5\n",
                  });
    EXPECT_EQ(text.find("worker=\"2\""), std::string::npos);  // the flusher slot has no loop monitor
}

// The shedding gauges: limits and admitted requests summed over the workers that have a limit;
// minRTT and the sample latency per worker, NaN until measured (a worker not started yet, or one
// still in its first minRTT window).
TEST_F(TelemetryTest, SheddingSumsLimitsAndReportsEachWorkersLatencies) {
    std::vector<std::optional<resilience::AdaptiveLimitState>> states(3);
    states[0] = resilience::AdaptiveLimitState{.limit = 40, .outstanding = 7, .min_rtt = 250us, .sample_rtt = 3ms};
    states[1] = resilience::AdaptiveLimitState{.limit = 16, .outstanding = 16, .measuring_min_rtt = true};
    telemetry_.export_shedding(3, [&states](std::size_t i) { return states[i]; });
    const std::string text = registry_.render_text();
    expect_series(text, {
                      "moneta_inbound_concurrency_limit 56\n",
                      "moneta_inbound_outstanding 23\n",
                      "moneta_inbound_min_rtt_seconds{worker=\"0\"} 0.00025\n",
                      "moneta_inbound_sample_rtt_seconds{worker=\"0\"} 0.003\n",
                      "moneta_inbound_min_rtt_seconds{worker=\"1\"} NaN\n",
                      "moneta_inbound_sample_rtt_seconds{worker=\"1\"} NaN\n",
                      "moneta_inbound_min_rtt_seconds{worker=\"2\"} NaN\n",
                  });
    EXPECT_EQ(text.find("worker=\"3\""), std::string::npos);
}

}  // namespace
}  // namespace moneta
