// Two moneta instances behind one nginx, sharing Redis and the internal API (how ./dev up
// --cluster runs them): the edge spreads requests over both; concurrent starts spread over
// both still give exactly the plan's stream limit; killing one instance mid-run loses no
// acknowledged position, and its write-behind markers are flushed by the other. ctest runs it
// twice: on one redis-server, and with MONETA_TEST_REDIS=cluster on a real Redis Cluster.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "moneta/testing/playback.hpp"
#include "moneta/testing/stack.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta {
namespace {

using namespace std::chrono_literals;
using testing::json_field;

class TwoInstancesTest : public testing::SharedStackTest<TwoInstancesTest> {
public:
    static testing::StackOptions options() {
        testing::StackOptions o;
        o.moneta_instances = 2;
        o.moneta_threads = 1;
        const char* redis = std::getenv("MONETA_TEST_REDIS");
        o.redis_cluster = redis != nullptr && std::string_view(redis) == "cluster";
        // Quick write-behind: no hold, a 200 ms flush, markers of a dead consumer claimed
        // after 2 s (the kill test waits for that).
        o.moneta_env = {{"MONETA_PROGRESS_FLUSH_MS", "200"},
                        {"MONETA_PROGRESS_FLUSH_HOLD_MS", "0"},
                        {"MONETA_PROGRESS_CLAIM_IDLE_MS", "2000"}};
        return o;
    }
};

TEST_F(TwoInstancesTest, TheEdgeSpreadsRequestsOverBothInstances) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    const double before0 = s.metric("moneta_http_requests_total", "route=\"list\"", 0);
    const double before1 = s.metric("moneta_http_requests_total", "route=\"list\"", 1);
    for (int i = 0; i < 20; ++i) {
        const auto r = s.call("GET", "/v1/playback/sessions", "", tok);
        ASSERT_EQ(r.status, 200) << r.body;
    }
    // A request is counted after its response: wait (bounded) for all 20.
    double got0 = 0;
    double got1 = 0;
    EXPECT_TRUE(testing::wait_until(
        [&] {
            got0 = s.metric("moneta_http_requests_total", "route=\"list\"", 0) - before0;
            got1 = s.metric("moneta_http_requests_total", "route=\"list\"", 1) - before1;
            return got0 + got1 >= 20;
        },
        5s, "20 list requests counted"));
    EXPECT_EQ(got0 + got1, 20);
    EXPECT_GE(got0, 5) << "round robin: both instances served";
    EXPECT_GE(got1, 5) << "round robin: both instances served";
}

TEST_F(TwoInstancesTest, ConcurrentStartsOverBothInstancesGiveExactlyTheStreamLimit) {
    testing::Stack& s = *stack_;
    // a_standard's plan allows 2 streams; 10 devices start at once, through both instances.
    const std::string tok = s.token("a_standard", "p_standard");
    constexpr int kStarts = 10;
    std::vector<int> status(kStarts, 0);
    std::vector<std::string> codes(kStarts);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < kStarts; ++i) {
        threads.emplace_back([&, i] {
            ++ready;
            while (ready.load() < kStarts) {
                std::this_thread::yield();  // release them together
            }
            const auto r = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "dev-" + std::to_string(i)), tok);
            status[i] = r.status;
            codes[i] = json_field(r.body, "code");
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    int granted = 0;
    int denied = 0;
    for (int i = 0; i < kStarts; ++i) {
        granted += status[i] == 201 ? 1 : 0;
        denied += status[i] == 403 && codes[i] == "STREAM_LIMIT_REACHED" ? 1 : 0;
    }
    // On failure, say which guard answered: inbound shedding, the internal API's bulkhead or
    // client throttle, or the API itself.
    const auto why = [&] {
        std::string t = "statuses:";
        for (int i = 0; i < kStarts; ++i) {
            t += " " + std::to_string(status[i]) + ":" + codes[i];
        }
        for (const char* name : {"moneta_shed_requests_total", "moneta_inbound_outstanding", "moneta_inbound_concurrency_limit",
                                 "moneta_bulkhead_rejected_total", "moneta_internal_api_throttled_total",
                                 "moneta_internal_api_throttle_probability", "moneta_internal_api_errors_total",
                                 "moneta_internal_api_short_circuits_total", "moneta_circuit_breaker_short_circuits_total",
                                 "moneta_playback_store_errors_total"}) {
            t += std::string("\n  ") + name + " " + std::to_string(s.metric(name, "", 0)) + " / " +
                 std::to_string(s.metric(name, "", 1));
        }
        return t;
    };
    EXPECT_EQ(granted, 2) << why();
    EXPECT_EQ(denied, kStarts - 2) << why();
    EXPECT_GT(s.metric("moneta_playback_starts_total", "", 0), 0) << "instance 1 took starts";
    EXPECT_GT(s.metric("moneta_playback_starts_total", "", 1), 0) << "instance 2 took starts";
}

TEST_F(TwoInstancesTest, KillingOneInstanceMidRunLosesNoAcknowledgedPosition) {
    testing::Stack& s = *stack_;
    struct Viewer {
        std::string account, profile, token, sid;
        int seq = 0;
        double acked = -1;  // the last position answered 200
    };
    std::vector<Viewer> viewers;
    for (int i = 1; i <= 6; ++i) {
        Viewer v;
        char buf[16];
        std::snprintf(buf, sizeof buf, "%05d", i);
        v.account = std::string("a_") + buf;
        v.profile = std::string("p_") + buf + "_1";
        v.token = s.token(v.account, v.profile);
        const auto r = s.call("POST", "/v1/playback/sessions", testing::start_body("c_0001", "kill-" + v.account), v.token);
        ASSERT_EQ(r.status, 201) << v.account << ": " << r.body;
        v.sid = json_field(r.body, "session_id");
        ASSERT_FALSE(v.sid.empty());
        viewers.push_back(std::move(v));
    }
    int failures_after_kill = 0;
    int ok_after_kill = 0;
    for (int round = 0; round < 30; ++round) {
        if (round == 10) {
            s.kill_moneta(0);  // a crash: in-flight requests to it fail, nginx skips it from now on
        }
        for (auto& v : viewers) {
            const double pos = 10.0 * (round + 1);
            const auto r = s.call("POST", "/v1/playback/sessions/" + v.sid + "/heartbeat",
                                  R"({"position_sec":)" + std::to_string(pos) + R"(,"state":"playing","seq":)" +
                                      std::to_string(++v.seq) + "}",
                                  v.token);
            if (r.status == 200) {
                v.acked = pos;
                ok_after_kill += round >= 10 ? 1 : 0;
            } else {
                failures_after_kill += round >= 10 ? 1 : 0;
            }
        }
    }
    EXPECT_LE(failures_after_kill, 2) << "only requests in flight at the kill may fail";
    EXPECT_GE(ok_after_kill, 20 * 6 - 2);
    // Every acknowledged position is what Redis serves...
    for (const auto& v : viewers) {
        const auto r = s.call("GET", "/v1/me/progress?content_ids=c_0001", "", v.token);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(std::stod(json_field(r.body, "position_sec")), v.acked) << v.account;
    }
    // ...and reaches the system of record: the survivor flushes the dead instance's markers too
    // (claimed after claim_idle_ms).
    for (const auto& v : viewers) {
        EXPECT_TRUE(testing::wait_until(
            [&] {
                const auto r = s.call_internal("GET", "/internal/v1/profiles/" + v.profile + "/progress?content_ids=c_0001");
                const std::string p = json_field(r.body, "position_sec");
                return r.status == 200 && !p.empty() && std::stod(p) == v.acked;
            },
            30s, "the internal API has " + v.account + "'s last position"));
    }
    ASSERT_TRUE(s.start_moneta(0)) << "restart for the suite's destructor";
}

}  // namespace
}  // namespace moneta
