#include "moneta/log/access_ring.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "moneta/log/logger.hpp"

namespace moneta::log {
namespace {

/// Collects what the logger writes; optionally holds every write until released (a slow disk).
class SharedSink {
public:
    void write(std::string_view lines) {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return !blocked; });
        text += lines;
        ++writes;
    }
    void release() {
        {
            std::lock_guard lock(mu);
            blocked = false;
        }
        cv.notify_all();
    }
    std::mutex mu;
    std::condition_variable cv;
    bool blocked = false;
    std::string text;
    int writes = 0;
};

class ForwardSink final : public Sink {
public:
    explicit ForwardSink(std::shared_ptr<SharedSink> s) : s_(std::move(s)) {}
    void write(std::string_view lines) override { s_->write(lines); }

private:
    std::shared_ptr<SharedSink> s_;
};

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
        out.push_back(l);
    }
    return out;
}

AccessEntry entry(const core::RequestContext* ctx) {
    AccessEntry e;
    e.wall_ms = 1'764'043'506'789;
    e.duration_ns = 1'234'567;
    e.response_bytes = 321;
    e.status = 201;
    e.method = "POST";
    e.path = "/v1/playback/sessions";
    e.route = "start";
    e.remote_ip = "127.0.0.1";
    e.user_agent = "ExoPlayer \"2\"\x01\xff";
    e.context = ctx;
    return e;
}

/// The access line as Telemetry::on_access wrote it through info() before the ring existed: the
/// reference the ring's formatter is compared with.
void log_like_before(Logger& log, const AccessEntry& e, const core::RequestContext* ctx) {
    log.info("access",
             {{"event.kind", std::string_view("event")},
              {"event.dataset", std::string_view("moneta.access")},
              {"event.duration", e.duration_ns},
              {"http.request.method", e.method},
              {"url.path", e.path},
              {"http.route", e.route},
              {"http.response.status_code", std::int64_t{e.status}},
              {"http.response.bytes", static_cast<std::int64_t>(e.response_bytes)},
              {"client.ip", e.remote_ip},
              {"user_agent.original", e.user_agent}},
             ctx);
}

TEST(AccessRingTest, LineIsByteForByteWhatLogInfoWrites) {
    core::FakeClock clock(1'764'043'506'789);
    core::RequestContext ctx;
    ctx.request_id = "r-1";
    ctx.trace = *core::TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const AccessEntry e = entry(&ctx);

    auto via_log = std::make_shared<SharedSink>();
    auto via_ring = std::make_shared<SharedSink>();
    {
        Logger a({}, std::make_unique<ForwardSink>(via_log), clock);
        log_like_before(a, e, &ctx);
        Logger b({}, std::make_unique<ForwardSink>(via_ring), clock);
        ASSERT_TRUE(b.add_access_ring().try_push(e));
        ASSERT_TRUE(a.flush());
        ASSERT_TRUE(b.flush());
    }
    ASSERT_FALSE(via_ring->text.empty());
    EXPECT_EQ(via_ring->text, via_log->text);
    const auto obj = boost::json::parse(via_ring->text).as_object();
    EXPECT_EQ(obj.at("http.route").as_string(), "start");
    EXPECT_EQ(obj.at("trace.id").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(obj.at("transaction.id").as_string(), "00f067aa0ba902b7");
    EXPECT_EQ(obj.at("user_agent.original").as_string(), "ExoPlayer \"2\"\x01\xEF\xBF\xBD");
}

TEST(AccessRingTest, WithoutContextTheIdsAreLeftOutLikeLogInfo) {
    core::FakeClock clock(1'000);
    auto via_log = std::make_shared<SharedSink>();
    auto via_ring = std::make_shared<SharedSink>();
    AccessEntry e = entry(nullptr);
    e.user_agent = "";
    {
        Logger a({}, std::make_unique<ForwardSink>(via_log), clock);
        log_like_before(a, e, nullptr);
        Logger b({}, std::make_unique<ForwardSink>(via_ring), clock);
        e.wall_ms = 1'000;
        ASSERT_TRUE(b.add_access_ring().try_push(e));
    }  // the destructors write what is pending
    EXPECT_EQ(via_ring->text, via_log->text);
    EXPECT_EQ(via_ring->text.find("trace.id"), std::string::npos);
}

// The ring's formatter builds a line in its own buffer and hands only strings that need escaping
// to the shared escaper: every mix of plain and escaped fields, at the slot's bounds too, gives
// log.info's bytes.
TEST(AccessRingTest, EveryMixOfPlainAndEscapedFieldsIsByteForByteWhatLogInfoWrites) {
    core::FakeClock clock(1'764'043'506'789);
    core::RequestContext ctx;
    ctx.request_id = "r-1";
    ctx.trace = *core::TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const std::string plain_path = "/" + std::string(AccessSlot::kTextBytes - AccessSlot::kMaxUserAgent - 32, 'p');
    const std::string plain_ua(AccessSlot::kMaxUserAgent, 'u');
    const std::string odd_path = "/v1/\xc3\xa9t\xc3\xa9/\"q\"";
    const std::string odd_ua = std::string(200, 'x') + "\n\x7f";
    auto via_log = std::make_shared<SharedSink>();
    auto via_ring = std::make_shared<SharedSink>();
    {
        Logger a({}, std::make_unique<ForwardSink>(via_log), clock);
        Logger b({}, std::make_unique<ForwardSink>(via_ring), clock);
        AccessRing& ring = b.add_access_ring();
        for (const std::string& path : {plain_path, odd_path, std::string("/")}) {
            for (const std::string& ua : {plain_ua, odd_ua, std::string()}) {
                for (const core::RequestContext* c : std::array<const core::RequestContext*, 2>{&ctx, nullptr}) {
                    AccessEntry e = entry(c);
                    e.path = path;
                    e.user_agent = ua;
                    e.duration_ns = -1;  // the widest integers
                    e.response_bytes = std::numeric_limits<std::int64_t>::max();
                    log_like_before(a, e, c);
                    ASSERT_TRUE(ring.try_push(e));
                    ASSERT_TRUE(a.flush());
                    ASSERT_TRUE(b.flush());
                }
            }
        }
    }
    const auto lines = split_lines(via_ring->text);
    EXPECT_EQ(lines.size(), 18U);
    EXPECT_EQ(lines, split_lines(via_log->text));
    for (const std::string& l : lines) {
        EXPECT_NO_THROW((void)boost::json::parse(l)) << l;
    }
}

TEST(AccessRingTest, LongFieldsAreCutToTheSlotAndStayValidJson) {
    AccessRing ring(2);
    AccessEntry e = entry(nullptr);
    const std::string long_path(5000, 'p');
    const std::string long_ua(1000, 'u');
    e.path = long_path;
    e.user_agent = long_ua;
    ASSERT_TRUE(ring.try_push(e));
    std::size_t ua = 0;
    std::size_t path = 0;
    ring.drain([&](const AccessSlot& s) {
        ua = s.user_agent_len;
        path = s.path_len;
    });
    EXPECT_EQ(ua, AccessSlot::kMaxUserAgent);
    EXPECT_EQ(path, AccessSlot::kTextBytes - AccessSlot::kMaxUserAgent - 4 /*POST*/ - 9 /*127.0.0.1*/);
}

TEST(AccessRingTest, AFullRingDropsAndCountsWithoutBlocking) {
    AccessRing ring(8);
    const AccessEntry e = entry(nullptr);
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring.try_push(e)) << i;
    }
    EXPECT_FALSE(ring.try_push(e));
    EXPECT_FALSE(ring.try_push(e));
    EXPECT_EQ(ring.dropped(), 2U);
    EXPECT_EQ(ring.drain([](const AccessSlot&) {}), 8U);
    EXPECT_TRUE(ring.empty());
    EXPECT_TRUE(ring.try_push(e));  // room again after the consumer freed the slots
    EXPECT_EQ(ring.dropped(), 2U);
}

TEST(AccessRingTest, ASlowSinkNeverBlocksWorkersAndTheLoggerCountsRingDrops) {
    core::FakeClock clock;
    auto shared = std::make_shared<SharedSink>();
    shared->blocked = true;
    LoggerConfig config;
    config.access_ring_capacity = 16;
    Logger logger(config, std::make_unique<ForwardSink>(shared), clock);
    AccessRing& ring = logger.add_access_ring();
    const AccessEntry e = entry(nullptr);
    const auto t0 = std::chrono::steady_clock::now();
    int pushed = 0;
    for (int i = 0; i < 1000; ++i) {
        pushed += ring.try_push(e) ? 1 : 0;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    // The ring, plus at most one batch the writer took before blocking in the sink.
    EXPECT_LE(pushed, 32);
    EXPECT_EQ(logger.access_dropped(), static_cast<std::uint64_t>(1000 - pushed));
    EXPECT_EQ(logger.dropped(), logger.access_dropped());
    shared->release();
    ASSERT_TRUE(logger.flush());
    EXPECT_EQ(logger.written(), static_cast<std::uint64_t>(pushed));
    EXPECT_EQ(split_lines(shared->text).size(), static_cast<std::size_t>(pushed));
}

// Each worker's records come out exactly once and in its push order, interleaved in any way
// with the other worker's. The producers retry when their ring is full so nothing is dropped.
TEST(AccessRingTest, TwoWorkersRecordsAreWrittenExactlyOnceInOrderPerWorker) {
    core::FakeClock clock;
    auto shared = std::make_shared<SharedSink>();
    LoggerConfig config;
    config.access_ring_capacity = 64;
    config.drain_interval = std::chrono::milliseconds(1);
    constexpr int kPerWorker = 20000;
    {
        Logger logger(config, std::make_unique<ForwardSink>(shared), clock);
        std::array<AccessRing*, 2> rings{&logger.add_access_ring(), &logger.add_access_ring()};
        std::vector<std::thread> workers;
        for (int w = 0; w < 2; ++w) {
            workers.emplace_back([w, ring = rings[static_cast<std::size_t>(w)]] {
                AccessEntry e = entry(nullptr);
                e.route = w == 0 ? "w0" : "w1";
                for (int i = 0; i < kPerWorker; ++i) {
                    e.duration_ns = i;  // the sequence number
                    while (!ring->try_push(e)) {
                        std::this_thread::yield();
                    }
                }
            });
        }
        for (auto& t : workers) {
            t.join();
        }
        ASSERT_TRUE(logger.flush());
        EXPECT_EQ(logger.written(), 2U * kPerWorker);
    }
    std::array<std::int64_t, 2> next{0, 0};
    std::size_t count = 0;
    for (const std::string& l : split_lines(shared->text)) {
        const auto obj = boost::json::parse(l).as_object();
        const std::size_t w = obj.at("http.route").as_string() == "w0" ? 0 : 1;
        ASSERT_EQ(obj.at("event.duration").as_int64(), next[w]) << "worker " << w;
        ++next[w];
        ++count;
    }
    EXPECT_EQ(next[0], kPerWorker);
    EXPECT_EQ(next[1], kPerWorker);
    EXPECT_EQ(count, 2U * kPerWorker);
    EXPECT_LT(shared->writes, 2 * kPerWorker);  // batched: far fewer writes than lines
}

}  // namespace
}  // namespace moneta::log
