// A Redis Cluster master killed -9 under playback load (issue 13): two moneta instances behind
// nginx on a real 3 + 3 cluster (AOF everysec, node timeout 1 s). While viewers heartbeat and a
// player keeps starting and stopping, the master serving the account a_standard is killed. Its
// replica takes over; moneta follows the new slot map. Asserted and printed:
// - every heartbeat answers 200 and every start 201 or 403 STREAM_LIMIT_REACHED throughout (the
//   progress buffer and the fail-open start cover the seconds without a master), except a start
//   in flight at the kill (503: its outcome is unknown);
// - the error window: from the kill to the last Redis error moneta counted, and to the progress
//   buffer drained, both bounded;
// - the loss window: positions written (204) in the second before the kill may be lost only if
//   they had not reached the replica (asynchronous replication); nothing acknowledged earlier is;
// - every viewer's last acknowledged position is served by Redis and reaches the internal API;
// - the stream limit still holds on the promoted master: 3 concurrent starts on a plan of 2
//   give exactly 2 leases.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "moneta/testing/moneta_keys.hpp"
#include "moneta/testing/playback.hpp"
#include "moneta/testing/stack.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta {
namespace {

using namespace std::chrono_literals;
using testing::json_field;
using Clock = std::chrono::steady_clock;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Viewer {
    std::string account, profile, token, sid;
    std::size_t master = 0;  ///< cluster node serving the account's partition before the kill
    int seq = 0;
    double acked = -1;  ///< last position answered 200
};

struct Probe {
    std::string content;
    double position = 0;
    Clock::time_point acked_at;
};

class ClusterFailoverTest : public testing::SharedStackTest<ClusterFailoverTest> {
public:
    static testing::StackOptions options() {
        testing::StackOptions o;
        o.redis_cluster = true;
        o.moneta_instances = 2;
        o.moneta_threads = 1;
        o.moneta_env = {{"MONETA_PROGRESS_FLUSH_MS", "200"},
                        {"MONETA_PROGRESS_FLUSH_HOLD_MS", "0"},
                        {"MONETA_PROGRESS_CLAIM_IDLE_MS", "2000"}};
        return o;
    }

protected:

    /// The cluster node that serves @p account's keys now.
    static std::size_t master_of(const std::string& account) {
        testing::RedisCluster& c = stack_->cluster();
        const std::string slot = c.command({"CLUSTER", "KEYSLOT", testing::account_key("lease:", account)});
        return c.master_of_slot(static_cast<std::uint16_t>(std::stoi(slot)));
    }
};

TEST_F(ClusterFailoverTest, KillingAMasterUnderLoadLosesNothingOutsideTheReplicationWindow) {
    testing::Stack& s = *stack_;
    const std::size_t victim = master_of("a_standard");
    ASSERT_LT(victim, s.cluster().size());

    // Viewers on every master, at least 4 on the victim.
    std::vector<Viewer> viewers;
    int on_victim = 0;
    for (int i = 1; i <= 200 && (viewers.size() < 16 || on_victim < 4); ++i) {
        Viewer v;
        char buf[16];
        std::snprintf(buf, sizeof buf, "%05d", i);
        v.account = std::string("a_") + buf;
        v.master = master_of(v.account);
        if (viewers.size() >= 12 && v.master != victim) {
            continue;  // enough elsewhere: look for the victim's
        }
        v.profile = std::string("p_") + buf + "_1";
        v.token = s.token(v.account, v.profile);
        const auto r = s.call("POST", "/v1/playback/sessions", testing::start_body("c_0001", "fo-" + v.account), v.token);
        if (r.status != 201) {
            continue;  // a generated account that may not play (plan, status): take another
        }
        v.sid = json_field(r.body, "session_id");
        ASSERT_FALSE(v.sid.empty());
        on_victim += v.master == victim ? 1 : 0;
        viewers.push_back(std::move(v));
    }
    ASSERT_GE(on_victim, 4);
    ASSERT_GE(viewers.size(), 12U);

    std::atomic<bool> stop{false};
    std::mutex mu;  // guards failures
    std::vector<std::string> failures;
    std::atomic<int> heartbeats_ok{0};
    std::atomic<int> starts_ok{0};
    std::atomic<int> starts_unknown{0};
    auto fail = [&](std::string what) {
        std::lock_guard lock(mu);
        failures.push_back(std::move(what));
    };
    // Heartbeats: two threads, each over half the viewers, as fast as the stack answers.
    std::vector<std::thread> load;
    for (std::size_t t = 0; t < 2; ++t) {
        load.emplace_back([&, t] {
            for (int round = 1; !stop.load(); ++round) {
                for (std::size_t i = t; i < viewers.size(); i += 2) {
                    Viewer& v = viewers[i];
                    const double pos = 5.0 * round;
                    const auto r = s.call("POST", "/v1/playback/sessions/" + v.sid + "/heartbeat",
                                          R"({"position_sec":)" + std::to_string(pos) + R"(,"state":"playing","seq":)" +
                                              std::to_string(++v.seq) + "}",
                                          v.token);
                    if (r.status == 200) {
                        v.acked = pos;
                        ++heartbeats_ok;
                    } else {
                        fail("heartbeat " + v.account + ": " + std::to_string(r.status) + " " + r.body);
                    }
                }
            }
        });
    }
    // A player on the victim's account starting and stopping (the plan allows 2 streams).
    const std::string standard = s.token("a_standard", "p_standard");
    load.emplace_back([&] {
        for (int n = 0; !stop.load(); ++n) {
            const auto r = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "fo-player"), standard);
            if (r.status == 201) {
                ++starts_ok;
                const std::string sid = json_field(r.body, "session_id");
                const auto stopped = s.call("POST", "/v1/playback/sessions/" + sid + "/stop",
                                            R"({"position_sec":)" + std::to_string(n) + R"(,"seq":1,"reason":"user"})", standard);
                if (stopped.status != 204) {
                    fail("stop a_standard " + sid + ": " + std::to_string(stopped.status) + " " + stopped.body);
                }
            } else if (r.status == 503 && json_field(r.body, "code") == "UPSTREAM_UNAVAILABLE") {
                ++starts_unknown;  // the script was sent to the master as it died: outcome unknown
            } else if (!(r.status == 403 && json_field(r.body, "code") == "STREAM_LIMIT_REACHED")) {
                fail("start a_standard: " + std::to_string(r.status) + " " + r.body);
            }
            std::this_thread::sleep_for(50ms);  // pacing of the load, not a wait for state
        }
    });

    // Probes: offline PUTs of distinct titles on the victim's accounts in the second before the
    // kill, each remembered with the time it was acknowledged.
    std::vector<Probe> probes;
    std::string probe_refusal;
    std::string probe_account;
    std::string probe_token;
    for (const Viewer& v : viewers) {
        if (v.master == victim) {
            probe_account = v.account;
            probe_token = v.token;
            break;
        }
    }
    std::this_thread::sleep_for(1s);  // steady load before the probes
    const auto probes_from = Clock::now();
    for (int i = 0; Clock::now() - probes_from < 1s; ++i) {
        char content[16];
        std::snprintf(content, sizeof content, "c_%04d", 100 + i % 800);
        Probe p{content, 10.0 + i, {}};
        const auto r = s.call("PUT", "/v1/me/progress/" + p.content,
                              R"({"position_sec":)" + std::to_string(p.position) +
                                  R"(,"duration_sec":3600,"updated_at_ms":)" +
                                  std::to_string(wall_ms()) + R"(,"seq":1})",
                              probe_token);
        if (r.status == 204) {
            p.acked_at = Clock::now();
            probes.push_back(p);
        } else {
            probe_refusal = std::to_string(r.status) + " " + r.body;
        }
    }
    ASSERT_GE(probes.size(), 10U) << probe_refusal;

    // What moneta did without Redis: failed or timed-out calls, heartbeats held in the progress
    // buffer, fallbacks (fail-open starts, reads from the internal API). A call to a slot whose
    // master is down fails fast in the cluster client, before any connection counts an error.
    const auto degraded = [&] {
        return s.metric("moneta_redis_errors_total") + s.metric("moneta_redis_timeouts_total") +
               s.metric("moneta_playback_heartbeats_buffered_total") + s.metric("moneta_fallbacks_total");
    };
    const double errors_before = degraded();
    const auto killed_at = Clock::now();
    s.cluster().node(victim).kill9();

    // Watch moneta's Redis errors and its progress buffer until both are quiet.
    auto last_error = killed_at;
    double errors_seen = errors_before;
    std::optional<Clock::time_point> drained_at;
    while (Clock::now() - killed_at < 20s) {
        const double e = degraded();
        if (e > errors_seen) {
            errors_seen = e;
            last_error = Clock::now();
        }
        const bool buffered = s.metric("moneta_progress_buffered") > 0;
        if (!buffered && Clock::now() - last_error > 3s) {
            drained_at = Clock::now();
            break;
        }
        std::this_thread::sleep_for(100ms);  // sampling interval of the metrics
    }
    stop = true;
    for (auto& t : load) {
        t.join();
    }
    const double error_window_ms = ms_between(killed_at, last_error);
    std::printf("[failover] degraded calls %.0f, the last %.0f ms after the kill; heartbeats ok %d, starts ok %d, "
                "starts with an unknown outcome (503) %d\n",
                errors_seen - errors_before, error_window_ms, heartbeats_ok.load(), starts_ok.load(),
                starts_unknown.load());
    ASSERT_TRUE(drained_at.has_value()) << "moneta kept failing or buffering 20 s after the kill";
    EXPECT_LT(error_window_ms, 10'000) << "moneta must follow the promoted replica within seconds";
    ASSERT_TRUE(s.cluster().wait_ok(10s)) << "the replica took over";
    EXPECT_NE(master_of("a_standard"), victim);
    {
        std::lock_guard lock(mu);
        for (std::size_t i = 0; i < failures.size() && i < 5; ++i) {
            std::printf("[failover] failed call: %s\n", failures[i].c_str());
        }
        EXPECT_TRUE(failures.empty()) << failures.size() << " failed calls";

    }
    EXPECT_GT(heartbeats_ok.load(), 200);
    // A start whose script reached the master as it died has an unknown outcome: 503, never a
    // 201 (resilience.md "Redis down"); only the player's one call in flight at the kill can be.
    EXPECT_LE(starts_unknown.load(), 2) << "starts answered 503 UPSTREAM_UNAVAILABLE";

    // Loss window: a probe lost must have been acknowledged within the last second before the
    // kill (not yet replicated); none is expected on loopback, where replication lags by far less.
    int lost = 0;
    double oldest_lost_ms = 0;
    for (const Probe& p : probes) {
        const auto r = s.call("GET", "/v1/me/progress?content_ids=" + p.content, "", probe_token);
        ASSERT_EQ(r.status, 200) << r.body;
        const std::string got = json_field(r.body, "position_sec");
        if (got.empty() || std::stod(got) < p.position) {
            ++lost;
            oldest_lost_ms = std::max(oldest_lost_ms, ms_between(p.acked_at, killed_at));
        }
    }
    std::printf("[failover] probes %zu written in the last second, %d lost (oldest %.0f ms before the kill)\n",
                probes.size(), lost, oldest_lost_ms);
    EXPECT_LE(oldest_lost_ms, 1000) << "a write older than the replication window was lost";

    // Every viewer's last acknowledged position: served from Redis, and in the system of record.
    for (const Viewer& v : viewers) {
        const auto r = s.call("GET", "/v1/me/progress?content_ids=c_0001", "", v.token);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(std::stod(json_field(r.body, "position_sec")), v.acked) << v.account << " on node " << v.master;
    }
    for (const Viewer& v : viewers) {
        EXPECT_TRUE(testing::wait_until(
            [&] {
                const auto r =
                    s.call_internal("GET", "/internal/v1/profiles/" + v.profile + "/progress?content_ids=c_0001");
                const std::string p = json_field(r.body, "position_sec");
                return r.status == 200 && !p.empty() && std::stod(p) == v.acked;
            },
            30s, "the internal API has " + v.account + "'s last position"));
    }

    // The stream limit on the promoted master: 3 devices at once on a plan of 2 streams.
    for (const std::string& sid : [&] {
             std::vector<std::string> live;
             const auto r = s.call("GET", "/v1/playback/sessions", "", standard);
             static const std::regex kSid(R"("session_id":"([^"]+)\")");
             for (std::sregex_iterator it(r.body.begin(), r.body.end(), kSid), end; it != end; ++it) {
                 live.push_back((*it)[1].str());
             }
             return live;
         }()) {
        s.call("POST", "/v1/playback/sessions/" + sid + "/stop", R"({"position_sec":1,"seq":99,"reason":"user"})", standard);
    }
    std::vector<int> status(3, 0);
    std::vector<std::thread> starters;
    std::atomic<int> ready{0};
    for (int i = 0; i < 3; ++i) {
        starters.emplace_back([&, i] {
            ++ready;
            while (ready.load() < 3) {
                std::this_thread::yield();
            }
            status[i] = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "after-" + std::to_string(i)),
                               standard)
                            .status;
        });
    }
    for (auto& t : starters) {
        t.join();
    }
    EXPECT_EQ(std::count(status.begin(), status.end(), 201), 2)
        << s.call("GET", "/v1/playback/sessions", "", standard).body;
    EXPECT_EQ(std::count(status.begin(), status.end(), 403), 1);
}

}  // namespace
}  // namespace moneta
