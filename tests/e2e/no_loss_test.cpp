// No-loss of watch progress (api.md §6 "Progress is never lost or rolled back", §5.2, §5.3):
// simulated players stream thousands of heartbeats straight to moneta while it is SIGKILLed,
// SIGTERMed, or while Redis is killed and restarted from its AOF; afterwards the internal API's
// SQLite must hold, for every (profile, content), exactly the newest position a player got a 2xx
// for. Each test boots its own stack (redis-server, internal_api, moneta) on free ports.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "moneta/testing/stack.hpp"
#include "moneta/testing/support.hpp"
#include "no_loss_support.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta {
namespace {

using namespace std::chrono_literals;
using e2e::Viewer;
using e2e::WritePlan;
using e2e::WriterPool;
using e2e::WriteStats;

/// Per-phase counts in the test output.
void note(const std::string& line) {
    std::printf("[ no-loss  ] %s\n", line.c_str());
    std::fflush(stdout);
}

std::int64_t ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - t
    )
        .count();
}

/// A fresh seed per run (printed); MONETA_NOLOSS_SEED replays one.
std::uint64_t run_seed() {
    if (const char* s = std::getenv("MONETA_NOLOSS_SEED"); s != nullptr && *s != '\0') {
        return std::strtoull(s, nullptr, 10);
    }
    return std::random_device{}();
}

class NoLossTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir("noloss-fixtures-");
        e2e::write_fixtures(dir_->file("fixtures.json"));
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }

    void SetUp() override {
        seed_ = run_seed();
        note("seed " + std::to_string(seed_) + " (MONETA_NOLOSS_SEED replays it)");
    }

    static testing::StackOptions options(
        std::vector<std::pair<std::string, std::string>> env, bool aof = false
    ) {
        testing::StackOptions o;
        o.fixtures = dir_->file("fixtures.json");
        o.moneta_env = std::move(env);
        o.redis_aof = aof;
        o.with_nginx = false;  // players talk to moneta's port: the edge is not what is tested here
        return o;
    }

    static std::string sqlite_state(testing::Stack& s, const std::vector<Viewer>& viewers) {
        auto rows = e2e::read_sqlite_progress(s.dir() / "ia.sqlite");
        return rows ? e2e::sqlite_mismatches(*rows, viewers) : "sqlite: " + rows.error();
    }

    /// Redis serves, field by field, what SQLite holds (updated_at included): what reached the
    /// system of record is exactly the value Redis guards.
    static void expect_redis_matches_sqlite(testing::Stack& s, const std::vector<Viewer>& viewers) {
        auto rows = e2e::read_sqlite_progress(s.dir() / "ia.sqlite");
        ASSERT_TRUE(rows) << rows.error();
        for (const Viewer& v : viewers) {
            const auto redis = e2e::read_redis_progress(s, v);
            ASSERT_TRUE(redis.has_value()) << v.profile << "/" << v.content;
            const auto it = rows->find({v.profile, v.content});
            ASSERT_NE(it, rows->end()) << v.profile << "/" << v.content;
            EXPECT_EQ(redis->position_sec, it->second.position_sec) << v.profile;
            EXPECT_EQ(redis->seq, it->second.seq) << v.profile;
            EXPECT_EQ(redis->updated_at_ms, it->second.updated_at_ms) << v.profile;
            EXPECT_FALSE(it->second.completed) << v.profile;
        }
    }

    static testing::TempDir* dir_;
    std::uint64_t seed_ = 0;
};
testing::TempDir* NoLossTest::dir_ = nullptr;

TEST_F(NoLossTest, SigkillOfMonetaMidStreamLosesNoAcknowledgedPosition) {
    // No write-behind hold: this case needs markers delivered to the flusher and unacknowledged
    // at the kill, which held heartbeats do not write (docs/data.md "Write-behind hold"; the
    // held path across a crash is the next case).
    testing::Stack s(options({{"MONETA_PROGRESS_FLUSH_MS", "200"},
                              {"MONETA_PROGRESS_CLAIM_IDLE_MS", "1000"},
                              {"MONETA_PROGRESS_FLUSH_HOLD_MS", "0"}}));
    ASSERT_TRUE(s.start());
    std::vector<Viewer> viewers = e2e::make_viewers(s, 0, 20, seed_);  // 40 sessions on 20 accounts
    ASSERT_TRUE(e2e::start_sessions(s.moneta_port(), viewers));
    // The kill must find markers delivered to the flusher and not yet acknowledged, so the
    // consumer group has to exist first (see WriteBehindStartsRightAfterMonetaStarts).
    const auto group_wait = std::chrono::steady_clock::now();
    ASSERT_TRUE(testing::wait_until(
        [&] { return e2e::write_behind_ready(s); }, 30s, "the flusher's consumer group"
    ));
    note("crash: consumer group ready after " + std::to_string(ms_since(group_wait)) + " ms");

    WriteStats stats;
    WriterPool pool(s.moneta_port(), viewers, WritePlan{1, 75, true, 4, 300s}, stats);
    const std::uint64_t total = pool.planned_writes();
    ASSERT_TRUE(testing::wait_until(
        [&] { return stats.acks.load() >= total / 3 && e2e::pending_markers(s) > 0; },
        120s,
        "a third of the writes acked, with markers pending in the flusher"
    ));
    s.kill_moneta();
    const std::uint64_t acks_at_kill = stats.acks.load();
    const std::int64_t pending_at_kill = e2e::pending_markers(s);
    const std::int64_t dirty_at_kill = e2e::dirty_entries(s, viewers);
    note(
        "crash: planned=" + std::to_string(total) + " at SIGKILL " + stats.summary() +
        " markers_pending=" + std::to_string(pending_at_kill) +
        " dirty=" + std::to_string(dirty_at_kill)
    );
    EXPECT_LT(acks_at_kill, total) << "the SIGKILL must land while the writes are still streaming";
    EXPECT_FALSE(s.moneta_running());

    ASSERT_TRUE(s.start_moneta());
    note("crash: moneta restarted; " + stats.summary());
    ASSERT_TRUE(pool.join());
    note("crash: writes done; " + stats.summary());
    EXPECT_EQ(stats.acks.load(), total);
    EXPECT_GT(stats.transport_errors.load() + stats.server_errors.load(), 0U)
        << "no write failed: the kill did not hit the stream";

    std::string diff;
    ASSERT_TRUE(testing::wait_until(
        [&] { return (diff = sqlite_state(s, viewers)).empty(); },
        60s,
        "SQLite holds every acknowledged final position"
    )) << diff;
    note("crash: positions checked in SQLite: " + std::to_string(viewers.size()));
    EXPECT_EQ(e2e::internal_api_mismatches(s, viewers), "");
    expect_redis_matches_sqlite(s, viewers);
    EXPECT_TRUE(testing::wait_until(
        [&] {
            return e2e::pending_markers(s) == 0 && e2e::queued_markers(s) == 0 &&
                   e2e::dirty_entries(s, viewers) == 0;
        },
        30s,
        "no pending/queued markers and no dirty entries"
    )) << "pending="
       << e2e::pending_markers(s) << " queued=" << e2e::queued_markers(s)
       << " dirty=" << e2e::dirty_entries(s, viewers);
    const double claimed = s.metric("moneta_progress_markers_claimed_total");
    note(
        "crash: markers claimed after restart=" + std::to_string(claimed) +
        " flush failures=" + std::to_string(s.metric("moneta_progress_flush_failures_total"))
    );
    if (pending_at_kill > 0) {
        EXPECT_GE(claimed, static_cast<double>(pending_at_kill))
            << pending_at_kill
            << " markers were pending at the kill; the new consumer must claim them all";
    }
    EXPECT_TRUE(s.moneta_running());
}

TEST_F(NoLossTest, SigkillWhileTitlesAreHeldLosesNothingTheDueIndexDeliversThem) {
    // Heartbeats of playing titles are held (docs/data.md "Write-behind hold"): no marker until
    // due, and a killed moneta never announces them. Its players never stop either (a crash of
    // the app, a closed laptop): only the due index (docs/data.md "Due index") brings the
    // restarted flusher to them, at their due time.
    testing::Stack s(options({{"MONETA_PROGRESS_FLUSH_MS", "200"}, {"MONETA_PROGRESS_FLUSH_HOLD_MS", "2000"}}));
    ASSERT_TRUE(s.start());
    std::vector<Viewer> viewers = e2e::make_viewers(s, 0, 10, seed_);  // 20 sessions on 10 accounts
    ASSERT_TRUE(e2e::start_sessions(s.moneta_port(), viewers));
    ASSERT_TRUE(testing::wait_until(
        [&] { return e2e::write_behind_ready(s); }, 30s, "the flusher's consumer group"
    ));
    WriteStats stats;
    WriterPool pool(s.moneta_port(), viewers, WritePlan{1, 6, false, 4, 120s}, stats);
    ASSERT_TRUE(pool.join());
    EXPECT_EQ(stats.acks.load(), pool.planned_writes());
    const std::int64_t dirty_at_kill = e2e::dirty_entries(s, viewers);
    EXPECT_GT(dirty_at_kill, 0) << "nothing was held: the case did not happen";
    s.kill_moneta();
    ASSERT_TRUE(s.start_moneta());
    std::string diff;
    ASSERT_TRUE(testing::wait_until(
        [&] { return (diff = sqlite_state(s, viewers)).empty(); },
        60s,
        "SQLite holds every acknowledged held position"
    )) << diff;
    note("held crash: dirty at kill=" + std::to_string(dirty_at_kill) +
         " taken from the due index=" + std::to_string(s.metric("moneta_progress_due_taken_total")));
    EXPECT_GT(s.metric("moneta_progress_due_taken_total"), 0.0) << "delivered without the due index";
    EXPECT_TRUE(testing::wait_until(
        [&] { return e2e::dirty_entries(s, viewers) == 0; }, 30s, "no dirty entries"
    ));
    expect_redis_matches_sqlite(s, viewers);
}

TEST_F(NoLossTest, SigtermFlushesEveryBufferedPositionBeforeExit) {
    // A flush interval far beyond the test: only the shutdown flush can move positions to SQLite.
    // 20 viewers × 16 writes stay under the 500-marker batch that would trigger an early flush.
    testing::Stack s(options({{"MONETA_PROGRESS_FLUSH_MS", "600000"}}));
    ASSERT_TRUE(s.start());
    std::vector<Viewer> viewers = e2e::make_viewers(s, 0, 10, seed_);
    ASSERT_TRUE(e2e::start_sessions(s.moneta_port(), viewers));
    WriteStats stats;
    {
        WriterPool pool(s.moneta_port(), viewers, WritePlan{1, 15, true, 2, 120s}, stats);
        ASSERT_TRUE(pool.join());
        EXPECT_EQ(stats.acks.load(), pool.planned_writes());
    }
    note("graceful: " + stats.summary());
    auto before = e2e::read_sqlite_progress(s.dir() / "ia.sqlite");
    ASSERT_TRUE(before) << before.error();
    ASSERT_EQ(e2e::rows_of(*before, viewers), 0U)
        << "a timed flush ran: the shutdown flush would prove nothing";
    EXPECT_EQ(e2e::dirty_entries(s, viewers), static_cast<std::int64_t>(viewers.size()));

    const int status = s.stop_moneta(30s);
    EXPECT_EQ(status, 0) << s.moneta_output();
    // Right after exit, no polling: the final flush completed before the process ended.
    EXPECT_EQ(sqlite_state(s, viewers), "");
    EXPECT_EQ(e2e::internal_api_mismatches(s, viewers), "");
    expect_redis_matches_sqlite(s, viewers);
    EXPECT_EQ(e2e::pending_markers(s), 0);
    EXPECT_EQ(e2e::queued_markers(s), 0);
    EXPECT_EQ(e2e::dirty_entries(s, viewers), 0);
    note(
        "graceful: positions checked in SQLite right after exit: " +
        std::to_string(viewers.size()) + "; exit status " + std::to_string(status)
    );
}

TEST_F(NoLossTest, RedisKill9AndAofRestartKeepsPositionsOlderThanTheFsyncWindow) {
    // Long flush interval: at the Redis kill every position lives only in Redis (and its AOF).
    testing::Stack s(options({{"MONETA_PROGRESS_FLUSH_MS", "600000"}}, /*aof=*/true));
    ASSERT_TRUE(s.start());
    std::vector<Viewer> viewers = e2e::make_viewers(s, 0, 10, seed_);
    ASSERT_TRUE(e2e::start_sessions(s.moneta_port(), viewers));
    // With the group in place the flusher reads (but, with this interval, never flushes) the
    // markers, so the kill also finds delivered, unacknowledged entries that the AOF must keep.
    ASSERT_TRUE(testing::wait_until(
        [&] { return e2e::write_behind_ready(s); }, 30s, "the flusher's consumer group"
    ));

    WriteStats phase_a;
    {
        WriterPool pool(s.moneta_port(), viewers, WritePlan{1, 10, false, 2, 120s}, phase_a);
        ASSERT_TRUE(pool.join());
    }
    auto rows = e2e::read_sqlite_progress(s.dir() / "ia.sqlite");
    ASSERT_TRUE(rows) << rows.error();
    ASSERT_EQ(e2e::rows_of(*rows, viewers), 0U) << "a flush ran: Redis would not be the only copy";
    std::vector<std::int64_t> old_seq;
    for (const Viewer& v : viewers) {
        old_seq.push_back(v.acked_seq);
    }
    // The documented window (appendfsync everysec): writes acknowledged more than 1 s before a
    // crash are on disk. This waits out a duration, not a state.
    std::this_thread::sleep_for(1500ms);

    // Half the viewers keep writing right up to the kill: those writes are inside the window.
    const std::size_t half = viewers.size() / 2;
    std::vector<Viewer> recent(
        viewers.begin(), viewers.begin() + static_cast<std::ptrdiff_t>(half)
    );
    WriteStats phase_b;
    {
        WriterPool pool(s.moneta_port(), recent, WritePlan{11, 13, false, 2, 60s}, phase_b);
        ASSERT_TRUE(pool.join());
    }
    s.redis().kill9();
    std::copy(recent.begin(), recent.end(), viewers.begin());
    note(
        "aof: phase A " + phase_a.summary() + "; phase B (inside the window) " + phase_b.summary()
    );
    ASSERT_TRUE(s.redis().restart()) << "redis did not restart from its AOF";

    std::size_t recent_kept = 0;
    for (std::size_t i = 0; i < viewers.size(); ++i) {
        const Viewer& v = viewers[i];
        const auto stored = e2e::read_redis_progress(s, v);
        ASSERT_TRUE(stored.has_value())
            << v.profile << "/" << v.content << " lost by the Redis restart";
        if (i >= half) {
            EXPECT_EQ(stored->seq, v.acked_seq) << v.profile;
            EXPECT_EQ(stored->position_sec, v.acked_position) << v.profile;
        } else {
            // Inside the window anything between the old and the newest acknowledged write may
            // survive, but never something older or a value that was not sent with that seq.
            EXPECT_GE(stored->seq, old_seq[i]) << v.profile;
            EXPECT_LE(stored->seq, v.acked_seq) << v.profile;
            EXPECT_EQ(stored->position_sec, v.sent.count(stored->seq) ? v.sent.at(stored->seq) : -1)
                << v.profile;
            recent_kept += stored->seq == v.acked_seq ? 1 : 0;
        }
        EXPECT_EQ(
            s.redis_cmd({"HEXISTS", testing::account_key("dirty:", v.account), v.profile + "/" + v.content}),
            "1"
        ) << v.profile
          << ": the dirty mark must survive with the position";
    }
    // (Heartbeats of a playing title are held, docs/data.md "Write-behind hold": the dirty
    // entries above are all the flusher needs; no stream marker names them yet.)
    note(
        "aof: after restart, positions checked in Redis: " + std::to_string(viewers.size()) +
        " (in-window writes kept: " + std::to_string(recent_kept) + "/" + std::to_string(half) + ")"
    );

    // moneta reconnects; players carry on and stop; the shutdown flush delivers the rest.
    WriteStats phase_c;
    {
        WriterPool pool(s.moneta_port(), viewers, WritePlan{14, 20, true, 2, 120s}, phase_c);
        ASSERT_TRUE(pool.join());
        EXPECT_EQ(phase_c.acks.load(), pool.planned_writes());
    }
    note("aof: phase C (after the Redis restart) " + phase_c.summary());
    const int status = s.stop_moneta(30s);
    EXPECT_EQ(status, 0) << s.moneta_output();
    EXPECT_EQ(sqlite_state(s, viewers), "");
    EXPECT_EQ(e2e::internal_api_mismatches(s, viewers), "");
    expect_redis_matches_sqlite(s, viewers);
    EXPECT_EQ(e2e::pending_markers(s), 0);
    EXPECT_EQ(e2e::dirty_entries(s, viewers), 0);
    note(
        "aof: positions checked in SQLite: " + std::to_string(viewers.size()) + "; exit status " +
        std::to_string(status)
    );
}

TEST_F(NoLossTest, WriteBehindStartsRightAfterMonetaStarts) {
    // With a 200 ms flush interval a stopped session's position (a stop is not held) should
    // reach SQLite well within 2 s of being written, also right after moneta (re)started: a
    // crash-restart loop must not stall it.
    testing::Stack s(options({{"MONETA_PROGRESS_FLUSH_MS", "200"}}));
    ASSERT_TRUE(s.start());
    std::vector<Viewer> viewers = e2e::make_viewers(s, 0, 1, seed_);
    ASSERT_TRUE(e2e::start_sessions(s.moneta_port(), viewers));
    WriteStats stats;
    {
        WriterPool pool(s.moneta_port(), viewers, WritePlan{1, 1, true, 1, 30s}, stats);
        ASSERT_TRUE(pool.join());
    }
    const auto written = std::chrono::steady_clock::now();
    std::string diff;
    ASSERT_TRUE(testing::wait_until(
        [&] { return (diff = sqlite_state(s, viewers)).empty(); },
        30s,
        "the first positions in SQLite"
    )) << diff;
    const std::int64_t latency = ms_since(written);
    note(
        "startup: first positions reached SQLite " + std::to_string(latency) +
        " ms after being acknowledged"
    );
    EXPECT_LT(latency, 2000);
}

TEST_F(NoLossTest, InternalApiOutageDelaysButLosesNothing) {
    // The system of record hangs (SIGSTOP) while players keep writing: writes are acknowledged
    // from Redis, flushes fail and are retried, nothing is acknowledged in the stream; when it
    // comes back every newest position arrives.
    testing::Stack s(options({{"MONETA_PROGRESS_FLUSH_MS", "200"}}));
    ASSERT_TRUE(s.start());
    std::vector<Viewer> viewers = e2e::make_viewers(s, 0, 10, seed_);
    ASSERT_TRUE(e2e::start_sessions(s.moneta_port(), viewers));
    s.pause_internal_api();
    WriteStats stats;
    {
        WriterPool pool(s.moneta_port(), viewers, WritePlan{1, 15, true, 2, 120s}, stats);
        ASSERT_TRUE(pool.join());
        EXPECT_EQ(stats.acks.load(), pool.planned_writes()) << "writes must not depend on the internal API";
    }
    note("outage: " + stats.summary());
    ASSERT_TRUE(testing::wait_until([&] { return s.metric("moneta_progress_flush_failures_total") >= 1; }, 30s,
                                    "a failed flush while the internal API hangs"));
    EXPECT_GT(e2e::pending_markers(s) + e2e::queued_markers(s), 0) << "markers acknowledged without an upsert";
    EXPECT_EQ(e2e::dirty_entries(s, viewers), static_cast<std::int64_t>(viewers.size()));
    s.resume_internal_api();
    std::string diff;
    EXPECT_TRUE(testing::wait_until([&] { return (diff = sqlite_state(s, viewers)).empty(); }, 60s,
                                    "every position in SQLite after the outage"))
        << diff;
    EXPECT_TRUE(testing::wait_until(
        [&] { return e2e::pending_markers(s) == 0 && e2e::dirty_entries(s, viewers) == 0; }, 30s,
        "nothing pending after recovery"));
    note("outage: flush failures during the outage=" +
         std::to_string(s.metric("moneta_progress_flush_failures_total")));
}

}  // namespace
}  // namespace moneta
