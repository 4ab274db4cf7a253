// ProgressBuffer against a real redis-server that is killed (SIGKILL), paused (SIGSTOP) and
// restarted: writes held while Redis is down are replayed through the guarded scripts once it is
// back, in order, without ever overwriting something newer, without extending leases; held
// fail-open grants become leases; the loop stops promptly. AOF with fsync "always", so a killed
// Redis restarts with its data (a Redis that loses its data is docs/resilience.md's concern).
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "domain/progress.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/core/error.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/redis_server.hpp"
#include "store/progress_buffer.hpp"
#include "store/redis_failure.hpp"
#include "store/progress_store.hpp"
#include "store/session_store.hpp"
#include "store_test_util.hpp"
#include "upstream/internal_api.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::store {
namespace {

using namespace std::chrono_literals;
using domain::HeartbeatStatus;
using redis::testing::run;
using redis::testing::run_until;
using test_util::value_of;

constexpr std::int64_t kLeaseMs = 90'000;
constexpr double kDuration = 7012.4;

/// The store reads the internal API only on cache misses; these tests never miss.
using test_util::NoInternalApi;

domain::SessionInfo session(std::string sid, std::string device, std::int64_t started_at) {
    domain::SessionInfo s;
    s.session_id = std::move(sid);
    s.device_id = std::move(device);
    s.device_type = "tv";
    s.device_name = "Living room";
    s.content_id = "m_1";
    s.profile_id = "p_1";
    s.started_at_ms = started_at;
    return s;
}

SessionMeta meta_m1() {
    SessionMeta m;
    m.profile_id = "p_1";
    m.content_id = "m_1";
    m.duration_sec = kDuration;
    m.completion_sec = 6800;
    m.selection = "sel:dash/avc/1080";
    return m;
}

domain::ProgressRecord record(std::string cid, double pos, std::int64_t upd, std::int64_t seq) {
    domain::ProgressRecord r;
    r.content_id = std::move(cid);
    r.position_sec = pos;
    r.duration_sec = 3000;
    r.updated_at_ms = upd;
    r.seq = seq;
    return r;
}

class ProgressBufferRedisTest : public ::testing::Test {
protected:
    void SetUp() override {
        moneta::testing::RedisServerOptions opts;
        opts.appendonly = true;
        opts.appendfsync = "always";  // a SIGKILLed Redis comes back with every acknowledged write
        auto server = moneta::testing::RedisServer::start(opts);
        ASSERT_TRUE(server) << server.error().message();
        server_.emplace(std::move(*server));
        client_ = test_util::connect_client(io_, server_->port());
        ASSERT_TRUE(client_->connected());
        LeaseSettings lease;
        lease.lease = std::chrono::milliseconds(kLeaseMs);
        sessions_ = std::make_unique<SessionStore>(*client_, lease, ProgressSettings{});
        progress_ = std::make_unique<ProgressStore>(*client_, api_, ProgressSettings{}, progress_stats_);
        make_buffer(100, 20ms, 200ms);
        t0_ = core::SystemClock::instance().wall_ms();
    }

    void TearDown() override {
        if (buffer_ && buffer_->running()) {
            buffer_->stop();
            EXPECT_TRUE(run_until(io_, [&] { return loop_done_; }, 10s)) << "async_run did not stop";
        }
        buffer_.reset();
        if (server_ && server_->running()) {
            server_->resume();  // a paused test's server; harmless otherwise
        }
        run(io_, [](redis::Client& c) -> boost::asio::awaitable<int> {
            co_await c.async_stop();
            co_return 0;
        }(*client_), 10s);
    }

    void make_buffer(std::size_t max, std::chrono::milliseconds retry_min, std::chrono::milliseconds retry_max) {
        ProgressBufferSettings s;
        s.max_entries = max;
        s.retry_min = retry_min;
        s.retry_max = retry_max;
        s.call_timeout = 10s;  // longer than the client's 5 s command timeout
        buffer_.emplace(io_.get_executor(), core::SystemClock::instance(), s, stats_);
    }

    void spawn_loop(boost::asio::cancellation_signal* signal = nullptr) {
        loop_done_ = false;
        auto done = [this](std::exception_ptr e) {
            EXPECT_FALSE(e) << "async_run threw";
            loop_done_ = true;
        };
        if (signal != nullptr) {
            boost::asio::co_spawn(io_, buffer_->async_run(*sessions_, *progress_),
                                  boost::asio::bind_cancellation_slot(signal->slot(), done));
        } else {
            boost::asio::co_spawn(io_, buffer_->async_run(*sessions_, *progress_), done);
        }
    }

    /// Runs the loop (and the client) until the buffer is empty.
    [[nodiscard]] bool drained(std::chrono::milliseconds limit = 20s) {
        return run_until(io_, [&] { return buffer_->empty(); }, limit);
    }

    /// Time from @p act until async_run returned (bounded by 10 s).
    template <class Act>
    std::chrono::milliseconds time_to_stop(Act act) {
        const auto start = std::chrono::steady_clock::now();
        act();
        EXPECT_TRUE(run_until(io_, [&] { return loop_done_; }, 10s)) << "async_run did not stop";
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    }

    void kill_redis() {
        server_->kill9();
        ASSERT_TRUE(run_until(io_, [&] { return !client_->connected(); }, 10s)) << "client saw no disconnect";
    }
    void restart_redis() {
        auto r = server_->restart();
        ASSERT_TRUE(r) << r.error().message();
    }

    domain::LeaseGranted start(std::string sid, std::string device, int max, std::int64_t now) {
        const domain::SessionInfo info = session(sid, device, now);
        const SessionMeta meta = meta_m1();
        const StartCommand cmd{"a_1", max, info, "", now, "", "", meta};
        auto o = value_of(run(io_, sessions_->async_start(cmd, core::Deadline::never())), "start");
        const auto* g = std::get_if<domain::LeaseGranted>(&o);
        EXPECT_NE(g, nullptr) << "start " << sid << " was not granted";
        return g != nullptr ? *g : domain::LeaseGranted{};
    }

    HeartbeatResult heartbeat(std::string_view sid, double pos, std::int64_t seq, std::int64_t now) {
        return value_of(run(io_, sessions_->async_heartbeat("a_1", sid, pos, seq, now, core::Deadline::never())),
                        "heartbeat");
    }

    /// A heartbeat while Redis is down: the store fails with a transport error, so it is held (what
    /// the handler does).
    void heartbeat_while_down(std::string_view sid, double pos, std::int64_t seq, std::int64_t now) {
        auto r = run(io_, sessions_->async_heartbeat("a_1", sid, pos, seq, now, core::Deadline::never()));
        ASSERT_TRUE(r.has_value());
        ASSERT_FALSE(*r) << "Redis answered while it should be down";
        ASSERT_TRUE(redis_unavailable(classify_redis_failure(r->error()))) << r->error().message();
        ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", std::string(sid), pos, seq, now}), ProgressBuffer::Push::kHeld);
    }

    ProgressWrite put(const domain::ProgressRecord& r) {
        return value_of(run(io_, progress_->async_put("a_1", "p_1", r, core::SystemClock::instance().wall_ms(), core::Deadline::never())), "put");
    }

    std::optional<domain::ProgressRecord> stored(const std::string& cid) {
        const std::string v = server_->command({"HGET", testing::account_key("prog:", "a_1", ":p_1"), cid});
        if (v == "(nil)") {
            return std::nullopt;
        }
        return domain::decode_progress_value(cid, v);
    }

    std::int64_t lease_expiry(const std::string& sid) {
        const std::string v = server_->command({"ZSCORE", testing::account_key("lease:", "a_1"), sid});
        return v == "(nil)" ? 0 : std::stoll(v);
    }

    boost::asio::io_context io_;
    std::optional<moneta::testing::RedisServer> server_;
    std::unique_ptr<redis::Client> client_;
    NoInternalApi api_;
    ProgressStats progress_stats_;
    std::unique_ptr<SessionStore> sessions_;
    std::unique_ptr<ProgressStore> progress_;
    ProgressBufferStats stats_;
    std::optional<ProgressBuffer> buffer_;
    bool loop_done_ = true;
    std::int64_t t0_ = 0;
};

TEST_F(ProgressBufferRedisTest, HeartbeatsHeldWhileRedisIsKilledAreReplayedAfterRestartNewestWinning) {
    start("ps_1", "d1", 2, t0_);
    ASSERT_EQ(heartbeat("ps_1", 10, 1, t0_ + 1000).lease.status, HeartbeatStatus::kRenewed);
    kill_redis();
    heartbeat_while_down("ps_1", 20, 2, t0_ + 2000);
    heartbeat_while_down("ps_1", 30, 3, t0_ + 3000);  // folded into the held one
    ASSERT_EQ(buffer_->push(BufferedPut{"a_1", "p_1", record("m_2", 55, t0_ + 2500, 1)}), ProgressBuffer::Push::kHeld);
    EXPECT_EQ(buffer_->size(), 2U);

    spawn_loop();
    // Redis is down: replay attempts fail and are retried, nothing is removed.
    ASSERT_TRUE(run_until(io_, [&] { return stats_.replay_failed_total.load() >= 2; }, 10s));
    EXPECT_EQ(buffer_->size(), 2U);
    EXPECT_EQ(stats_.replayed_total.load(), 0U);

    restart_redis();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.replayed_total.load(), 2U);
    EXPECT_EQ(stats_.replay_applied_total.load(), 2U);
    EXPECT_EQ(stats_.buffered.load(), 0);

    const auto m1 = stored("m_1");
    ASSERT_TRUE(m1);
    EXPECT_EQ(m1->position_sec, 30);
    EXPECT_EQ(m1->seq, 3);
    EXPECT_EQ(m1->updated_at_ms, t0_ + 3000);  // the player's time, not the replay's
    const auto m2 = stored("m_2");
    ASSERT_TRUE(m2);
    EXPECT_EQ(m2->position_sec, 55);
    // Replayed writes take the write-behind path like any other: the title is dirty and held
    // (heartbeats of a playing title), at the replay's version, or still at the heartbeat's before
    // the kill when the AOF kept that one (pending: the flusher sends the stored value, seq 3,
    // anyway).
    const std::string dirty = server_->command({"HGET", testing::account_key("dirty:", "a_1"), "p_1/m_1"});
    auto held = [](std::int64_t upd, int seq) {
        const std::int64_t hold = store::ProgressSettings{}.flush_hold.count();
        return std::to_string(upd) + "|" + std::to_string(seq) + "|0|" + std::to_string(upd + hold);
    };
    EXPECT_TRUE(dirty == held(t0_ + 3000, 3) || dirty == held(t0_ + 1000, 1)) << dirty;
    // The session's highest seq moved with the replay: a late retry of seq 2 is stale now.
    EXPECT_EQ(heartbeat("ps_1", 20, 2, t0_ + 4000).progress, ProgressWrite::kStale);
}

TEST_F(ProgressBufferRedisTest, AnOlderHeldWriteNeverOverwritesANewerOneWrittenAfterRecovery) {
    start("ps_1", "d1", 2, t0_);
    kill_redis();
    heartbeat_while_down("ps_1", 20, 2, t0_ + 2000);
    ASSERT_EQ(buffer_->push(BufferedPut{"a_1", "p_1", record("m_2", 50, t0_ + 2000, 1)}), ProgressBuffer::Push::kHeld);
    restart_redis();
    ASSERT_TRUE(run_until(io_, [&] { return client_->connected(); }, 10s));
    // Back up, before the replay runs: the player's next heartbeat and another device's write.
    ASSERT_EQ(heartbeat("ps_1", 30, 3, t0_ + 5000).progress, ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_2", 60, t0_ + 5000, 1)), ProgressWrite::kApplied);

    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.replay_stale_total.load(), 2U);
    EXPECT_EQ(stats_.replay_applied_total.load(), 0U);
    EXPECT_EQ(stored("m_1")->position_sec, 30);
    EXPECT_EQ(stored("m_1")->seq, 3);
    EXPECT_EQ(stored("m_2")->position_sec, 60);
    EXPECT_EQ(stored("m_2")->updated_at_ms, t0_ + 5000);
}

// A replayed heartbeat gives the lease what it would have given it live, at the time the player
// sent it (we answered 200 then): an outage longer than the lease must not end every stream at
// the first heartbeat after recovery. It never shortens a lease and never revives an evicted one.
TEST_F(ProgressBufferRedisTest, AReplayedHeartbeatRenewsTheLeaseAsOfWhenItWasSent) {
    const auto granted = start("ps_1", "d1", 2, t0_);
    ASSERT_EQ(lease_expiry("ps_1"), t0_ + kLeaseMs);
    ASSERT_EQ(granted.expires_at_ms, t0_ + kLeaseMs);
    // Sent 60 s into the lease while Redis did not answer.
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_1", 42, 1, t0_ + 60'000}), ProgressBuffer::Push::kHeld);
    // An older one (late in the queue) must not shorten it again.
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_2", 7, 1, t0_ + 10'000}), ProgressBuffer::Push::kHeld);
    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.replay_applied_total.load(), 1U);
    EXPECT_EQ(stored("m_1")->position_sec, 42);
    EXPECT_EQ(lease_expiry("ps_1"), t0_ + 60'000 + kLeaseMs);
    // The next live heartbeat, past the original expiry, still finds its lease.
    EXPECT_EQ(heartbeat("ps_1", 43, 2, t0_ + kLeaseMs + 30'000).lease.status, HeartbeatStatus::kRenewed);
}

TEST_F(ProgressBufferRedisTest, AReplayedHeartbeatNeverRevivesAnExpiredOrEvictedLease) {
    start("ps_1", "d1", 2, t0_);
    start("ps_2", "d1", 2, t0_ + 1000);  // same device: ps_1 is evicted (tombstone)
    ASSERT_EQ(lease_expiry("ps_1"), 0);
    start("ps_3", "d3", 2, t0_);
    // ps_3's heartbeat was sent after its lease had already run out: nothing to renew.
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_1", 5, 2, t0_ + 2000}), ProgressBuffer::Push::kHeld);
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_3", 5, 2, t0_ + kLeaseMs + 1}), ProgressBuffer::Push::kHeld);
    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(lease_expiry("ps_1"), 0);
    EXPECT_EQ(lease_expiry("ps_3"), t0_ + kLeaseMs);
}

TEST_F(ProgressBufferRedisTest, AHeldLeaseGrantBecomesALeaseAndItsHeartbeatsCountAfterIt) {
    kill_redis();
    // The start's lease script gets no answer: the handler grants fail-open and holds the grant.
    const domain::SessionInfo info = session("ps_open", "d1", t0_);
    const SessionMeta meta = meta_m1();
    auto failed = run(io_, sessions_->async_start(StartCommand{"a_1", 1, info, "", t0_, "", "", meta},
                                                  core::Deadline::never()));
    // Redis is down and the script was never sent: the only case a start may be served fail-open.
    ASSERT_TRUE(failed && !*failed);
    ASSERT_EQ(classify_redis_failure(failed->error()), RedisFailure::kNotSent) << failed->error().message();
    ASSERT_EQ(buffer_->push(BufferedLeaseGrant{"a_1", 1, info, "", meta}), ProgressBuffer::Push::kHeld);
    ASSERT_TRUE(buffer_->has_pending_grant("a_1", "ps_open"));
    heartbeat_while_down("ps_open", 42, 1, t0_ + 1000);
    EXPECT_EQ(stats_.fail_open_starts_total.load(), 1U);

    restart_redis();
    const std::int64_t before = core::SystemClock::instance().wall_ms();
    spawn_loop();
    ASSERT_TRUE(drained());
    const std::int64_t after = core::SystemClock::instance().wall_ms();
    EXPECT_FALSE(buffer_->has_pending_grant("a_1", "ps_open"));
    EXPECT_EQ(stats_.grants_denied_total.load(), 0U);
    // The lease counts from the replay (the player kept playing), not from the start; the held
    // heartbeat then renews it as of its own time (t0 + 1 s, which this test puts after the
    // replay), never shortening it.
    const std::int64_t expiry = lease_expiry("ps_open");
    EXPECT_GE(expiry, before + kLeaseMs);
    EXPECT_LE(expiry, std::max(after, t0_ + 1000) + kLeaseMs);
    const std::string meta_value = server_->command({"GET", testing::account_key("sm:", "a_1", ":ps_open")});
    const auto stored_meta = decode_session_meta(meta_value);
    ASSERT_TRUE(stored_meta.has_value());
    EXPECT_EQ(stored_meta->content_id, "m_1");
    // The heartbeat held behind the grant found the session meta: its progress counted.
    EXPECT_EQ(stats_.replay_applied_total.load(), 1U);
    EXPECT_EQ(stored("m_1")->position_sec, 42);
    // From now on it is an ordinary session.
    EXPECT_EQ(heartbeat("ps_open", 50, 2, after).lease.status, HeartbeatStatus::kRenewed);
}

TEST_F(ProgressBufferRedisTest, AHeldGrantTheStreamLimitRefusesIsCountedAndItsSessionIsUnknown) {
    const std::int64_t now = core::SystemClock::instance().wall_ms();
    start("ps_other", "d2", 1, now);  // the only stream of a one-stream plan
    ASSERT_EQ(buffer_->push(BufferedLeaseGrant{"a_1", 1, session("ps_open", "d1", now), "", meta_m1()}), ProgressBuffer::Push::kHeld);
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_open", 42, 1, now + 1000}), ProgressBuffer::Push::kHeld);
    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.grants_denied_total.load(), 1U);
    EXPECT_EQ(stats_.replayed_total.load(), 2U);  // answered by Redis: removed
    EXPECT_EQ(lease_expiry("ps_open"), 0);
    EXPECT_GT(lease_expiry("ps_other"), now);  // the live stream was not evicted
    EXPECT_EQ(stats_.replay_unknown_session_total.load(), 1U);
    EXPECT_EQ(heartbeat("ps_open", 50, 2, now + 2000).lease.status, HeartbeatStatus::kNotFound);
}

// Found by the fault-injection suite: a grant held while Redis was down, replayed after the same
// device had started a NEWER session directly (Redis back, breaker not yet closed on another
// worker), evicted that newer session (its heartbeats got 409). The device has moved on: the
// replay must keep the newer lease, take none itself, and still store the grant's progress.
TEST_F(ProgressBufferRedisTest, AHeldGrantNeverEvictsANewerSessionOfTheSameDevice) {
    const std::int64_t now = core::SystemClock::instance().wall_ms();
    ASSERT_EQ(buffer_->push(BufferedLeaseGrant{"a_1", 4, session("ps_open", "d1", now), "", meta_m1()}), ProgressBuffer::Push::kHeld);
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_open", 42, 1, now + 100}), ProgressBuffer::Push::kHeld);
    start("ps_newer", "d1", 4, now + 500);  // the same device, started later, straight to Redis
    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.grants_superseded_total.load(), 1U);
    EXPECT_EQ(stats_.grants_denied_total.load(), 0U);
    EXPECT_EQ(lease_expiry("ps_open"), 0);
    EXPECT_GT(lease_expiry("ps_newer"), now);
    EXPECT_EQ(server_->command({"HGET", testing::account_key("dev:", "a_1"), "d1"}), "ps_newer");
    EXPECT_EQ(heartbeat("ps_newer", 60, 1, now + 1000).lease.status, HeartbeatStatus::kRenewed);
    // The superseded grant's held progress still counted (its meta was written).
    EXPECT_EQ(stats_.replay_applied_total.load(), 1U);
}

// Found by cluster_failover_test: a fail-open start held its grant on one instance while the
// player's stop reached another (nginx round robin) once Redis was back: the stop found no lease,
// then the replayed grant made one that nobody would release — a ghost stream for the lease's
// lifetime, refusing the plan's next start. The stop now leaves a tombstone; the replay sees it.
TEST_F(ProgressBufferRedisTest, AHeldGrantWhoseSessionWasStoppedElsewhereTakesNoLease) {
    const std::int64_t now = core::SystemClock::instance().wall_ms();
    ASSERT_EQ(buffer_->push(BufferedLeaseGrant{"a_1", 1, session("ps_open", "d1", now), "", meta_m1()}),
              ProgressBuffer::Push::kHeld);
    // Another instance's stop of that session, straight to Redis: no lease to release yet.
    auto stopped = run(io_, sessions_->async_stop("a_1", "ps_open", 30, 2, false, now + 200, core::Deadline::never()));
    ASSERT_TRUE(stopped && *stopped);
    EXPECT_FALSE((*stopped)->released);
    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.grants_superseded_total.load(), 1U);
    EXPECT_EQ(stats_.grants_denied_total.load(), 0U);
    EXPECT_EQ(lease_expiry("ps_open"), 0) << "the stopped session took a lease at the replay";
    // The one-stream plan's next start is granted: no ghost holds the stream.
    start("ps_next", "d2", 1, now + 1000);
}

// The other order: the device's lease is OLDER than the held grant (started before the outage):
// the replay replaces it, as a live start from that device would.
TEST_F(ProgressBufferRedisTest, AHeldGrantReplacesAnOlderSessionOfTheSameDevice) {
    const std::int64_t now = core::SystemClock::instance().wall_ms();
    start("ps_before", "d1", 4, now);
    ASSERT_EQ(buffer_->push(BufferedLeaseGrant{"a_1", 4, session("ps_open", "d1", now + 500), "", meta_m1()}), ProgressBuffer::Push::kHeld);
    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.grants_superseded_total.load(), 0U);
    EXPECT_GT(lease_expiry("ps_open"), now);
    EXPECT_EQ(lease_expiry("ps_before"), 0);
    EXPECT_EQ(server_->command({"HGET", testing::account_key("dev:", "a_1"), "d1"}), "ps_open");
}

TEST_F(ProgressBufferRedisTest, OverflowWhileRedisIsDownIsRefusedAndCountedTheRestIsReplayed) {
    make_buffer(3, 20ms, 200ms);
    start("ps_1", "d1", 5, t0_);
    kill_redis();
    for (int i = 1; i <= 3; ++i) {
        ASSERT_EQ(buffer_->push(BufferedPut{"a_1", "p_1", record("m_" + std::to_string(10 + i), i, t0_ + i, 1)}), ProgressBuffer::Push::kHeld);
    }
    EXPECT_EQ(buffer_->push(BufferedPut{"a_1", "p_1", record("m_99", 9, t0_ + 9, 1)}), ProgressBuffer::Push::kFull);
    EXPECT_EQ(buffer_->push(BufferedStop{"a_1", "ps_1", 9, 9, t0_ + 9, false}), ProgressBuffer::Push::kFull);
    EXPECT_EQ(stats_.dropped_total.load(), 2U);
    restart_redis();
    spawn_loop();
    ASSERT_TRUE(drained());
    EXPECT_EQ(stats_.replayed_total.load(), 3U);
    EXPECT_TRUE(stored("m_13"));
    EXPECT_FALSE(stored("m_99"));  // refused: its caller was answered 503, it is not replayed
}

TEST_F(ProgressBufferRedisTest, StopEndsABackoffAtOnceWhileRedisIsDown) {
    make_buffer(10, 10s, 10s);  // a backoff far longer than "promptly"
    kill_redis();
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_1", 1, 1, t0_}), ProgressBuffer::Push::kHeld);
    spawn_loop();
    ASSERT_TRUE(run_until(io_, [&] { return stats_.replay_failed_total.load() == 1; }, 10s));
    EXPECT_LT(time_to_stop([&] { buffer_->stop(); }), 1s);
    EXPECT_EQ(buffer_->size(), 1U);  // never confirmed: still held (counted abandoned on destruction)
    buffer_.reset();
    EXPECT_EQ(stats_.abandoned_total.load(), 1U);
}

TEST_F(ProgressBufferRedisTest, StopThenStoppingTheClientEndsACallStuckOnAPausedRedis) {
    start("ps_1", "d1", 2, t0_);
    server_->pause();  // the port accepts, nothing answers: the replay's call hangs (5 s timeout)
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_1", 1, 1, t0_}), ProgressBuffer::Push::kHeld);
    spawn_loop();
    ASSERT_TRUE(run_until(io_, [&] { return client_->stats().pending.load() > 0; }, 10s));
    // What the app does at shutdown: the buffer first, then the worker's Redis client.
    EXPECT_LT(time_to_stop([&] {
                  buffer_->stop();
                  client_->stop();
              }),
              1s);
    EXPECT_EQ(buffer_->size(), 1U);
    EXPECT_EQ(stats_.replay_failed_total.load(), 0U);  // its own stop, not a Redis failure
}

TEST_F(ProgressBufferRedisTest, CancellationEndsACallStuckOnAPausedRedis) {
    start("ps_1", "d1", 2, t0_);
    server_->pause();
    ASSERT_EQ(buffer_->push(BufferedHeartbeat{"a_1", "ps_1", 1, 1, t0_}), ProgressBuffer::Push::kHeld);
    boost::asio::cancellation_signal signal;
    spawn_loop(&signal);
    ASSERT_TRUE(run_until(io_, [&] { return client_->stats().pending.load() > 0; }, 10s));
    EXPECT_LT(time_to_stop([&] { signal.emit(boost::asio::cancellation_type::terminal); }), 1s);
    EXPECT_EQ(buffer_->size(), 1U);
    EXPECT_FALSE(buffer_->running());
}

}  // namespace
}  // namespace moneta::store
