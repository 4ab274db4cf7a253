// ProgressBuffer without a Redis server: the bound, heartbeat coalescing, the counters, and the
// replay loop's waiting (idle without polling, backoff, stop, cancellation) against a StrictMock
// Redis. The replay's effects on real data are in progress_buffer_redis_test.cpp.
#include <gmock/gmock.h>
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
#include <thread>
#include <vector>

#include "coro_util.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/core/error.hpp"
#include "moneta/testing/mock_redis.hpp"
#include "store/progress_buffer.hpp"
#include "store/progress_store.hpp"
#include "store/redis_failure.hpp"
#include "store/session_store.hpp"
#include "upstream/internal_api.hpp"
#include "store_test_util.hpp"

namespace moneta::store {
namespace {

using namespace std::chrono_literals;
using ::testing::_;
using ::testing::StrictMock;

constexpr std::int64_t kT0 = 1'764'000'000'000;

BufferedHeartbeat hb(std::string sid, double pos, std::int64_t seq, std::string account = "a_1") {
    return BufferedHeartbeat{std::move(account), std::move(sid), pos, seq, kT0 + seq};
}

BufferedStop stop_of(std::string sid, double pos, std::int64_t seq) {
    return BufferedStop{"a_1", std::move(sid), pos, seq, kT0 + seq, false};
}

BufferedPut put_of(std::string cid, double pos, std::int64_t upd) {
    domain::ProgressRecord r;
    r.content_id = std::move(cid);
    r.position_sec = pos;
    r.duration_sec = 100;
    r.updated_at_ms = upd;
    r.seq = 1;
    return BufferedPut{"a_1", "p_1", std::move(r)};
}

BufferedLeaseGrant grant_of(std::string sid) {
    BufferedLeaseGrant g;
    g.account_id = "a_1";
    g.max_streams = 2;
    g.info.session_id = std::move(sid);
    g.info.device_id = "tv-1";
    g.meta.profile_id = "p_1";
    g.meta.content_id = "m_1";
    return g;
}

const BufferedHeartbeat& as_hb(const BufferedWrite& w) { return std::get<BufferedHeartbeat>(w); }

bool held(ProgressBuffer::Push p) { return p == ProgressBuffer::Push::kHeld; }

class ProgressBufferTest : public ::testing::Test {
protected:
    ProgressBuffer& make(std::size_t max_entries,
                         std::chrono::milliseconds retry_min = 100ms,
                         std::chrono::milliseconds retry_max = 2000ms) {
        ProgressBufferSettings s;
        s.max_entries = max_entries;
        s.retry_min = retry_min;
        s.retry_max = retry_max;
        buffer_.emplace(io_.get_executor(), core::SystemClock::instance(), s, stats_);
        return *buffer_;
    }

    boost::asio::io_context io_;
    ProgressBufferStats stats_;
    std::optional<ProgressBuffer> buffer_;
};

// ---- bound and counters ------------------------------------------------------------------------

TEST_F(ProgressBufferTest, HoldsUpToMaxEntriesThenRefusesAndCountsEachRefusal) {
    ProgressBuffer& b = make(3);
    EXPECT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    EXPECT_TRUE(held(b.push(stop_of("ps_2", 20, 1))));
    EXPECT_TRUE(held(b.push(put_of("m_1", 30, kT0))));
    EXPECT_EQ(b.size(), 3U);
    EXPECT_FALSE(held(b.push(hb("ps_3", 1, 1))));
    EXPECT_FALSE(held(b.push(put_of("m_2", 1, kT0))));
    EXPECT_EQ(b.size(), 3U);  // the refused ones were not held
    EXPECT_EQ(stats_.dropped_total.load(), 2U);
    EXPECT_EQ(stats_.buffered_total.load(), 3U);
    EXPECT_EQ(stats_.buffered.load(), 3);
}

TEST_F(ProgressBufferTest, DestructionCountsWhatIsStillHeldAsAbandoned) {
    ProgressBuffer& b = make(10);
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    ASSERT_TRUE(held(b.push(put_of("m_1", 30, kT0))));
    buffer_.reset();
    EXPECT_EQ(stats_.abandoned_total.load(), 2U);
    EXPECT_EQ(stats_.buffered.load(), 0);
}

TEST_F(ProgressBufferTest, TheGaugeIsTheSumOverBuffersSharingTheStats) {
    ProgressBuffer& a = make(10);
    ProgressBuffer b(io_.get_executor(), core::SystemClock::instance(), {}, stats_);
    ASSERT_TRUE(held(a.push(hb("ps_1", 10, 1))));
    ASSERT_TRUE(held(b.push(hb("ps_2", 10, 1))));
    EXPECT_EQ(stats_.buffered.load(), 2);
}

// ---- coalescing --------------------------------------------------------------------------------

TEST_F(ProgressBufferTest, ANewerHeartbeatOfTheSameSessionReplacesTheHeldOne) {
    ProgressBuffer& b = make(10);
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    ASSERT_TRUE(held(b.push(hb("ps_1", 20, 2))));
    ASSERT_TRUE(held(b.push(hb("ps_1", 30, 3))));
    const auto held = b.entries_for_test();
    ASSERT_EQ(held.size(), 1U);
    EXPECT_EQ(as_hb(held[0]).position_sec, 30);
    EXPECT_EQ(as_hb(held[0]).seq, 3);
    EXPECT_EQ(as_hb(held[0]).now_ms, kT0 + 3);  // the newer one's own time is its updated_at
    EXPECT_EQ(stats_.coalesced_total.load(), 2U);
    EXPECT_EQ(stats_.buffered_total.load(), 1U);
}

TEST_F(ProgressBufferTest, ALateRetryWithAnOlderOrEqualSeqIsAbsorbedWithoutChangingTheHeldOne) {
    ProgressBuffer& b = make(10);
    ASSERT_TRUE(held(b.push(hb("ps_1", 30, 3))));
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));  // the guard would call it stale after seq 3
    ASSERT_TRUE(held(b.push(hb("ps_1", 99, 3))));  // same seq: a retry
    const auto held = b.entries_for_test();
    ASSERT_EQ(held.size(), 1U);
    EXPECT_EQ(as_hb(held[0]).position_sec, 30);
    EXPECT_EQ(as_hb(held[0]).seq, 3);
    EXPECT_EQ(stats_.coalesced_total.load(), 2U);
}

TEST_F(ProgressBufferTest, AZeroPositionIsNotFoldedOverANonZeroOne) {
    ProgressBuffer& b = make(10);
    ASSERT_TRUE(held(b.push(hb("ps_1", 50, 1))));
    ASSERT_TRUE(held(b.push(hb("ps_1", 0, 2))));  // replayed alone it could lose to an older stored value
    auto entries = b.entries_for_test();
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_EQ(as_hb(entries[0]).position_sec, 50);
    EXPECT_EQ(as_hb(entries[1]).position_sec, 0);
    // A later non-zero one folds into the newest held entry, not into the first.
    ASSERT_TRUE(held(b.push(hb("ps_1", 5, 3))));
    entries = b.entries_for_test();
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_EQ(as_hb(entries[0]).position_sec, 50);
    EXPECT_EQ(as_hb(entries[1]).position_sec, 5);
    EXPECT_EQ(as_hb(entries[1]).seq, 3);
}

TEST_F(ProgressBufferTest, HeartbeatsOfOtherSessionsOrAccountsAreNotFolded) {
    ProgressBuffer& b = make(10);
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    ASSERT_TRUE(held(b.push(hb("ps_2", 20, 2))));
    ASSERT_TRUE(held(b.push(hb("ps_1", 30, 3, "a_2"))));  // same session id, other account
    EXPECT_EQ(b.size(), 3U);
    EXPECT_EQ(stats_.coalesced_total.load(), 0U);
}

TEST_F(ProgressBufferTest, AHeartbeatAfterAStopOfTheSameSessionStaysAfterIt) {
    ProgressBuffer& b = make(10);
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    ASSERT_TRUE(held(b.push(stop_of("ps_1", 20, 2))));
    ASSERT_TRUE(held(b.push(hb("ps_1", 30, 3))));
    const auto held = b.entries_for_test();
    ASSERT_EQ(held.size(), 3U);
    EXPECT_EQ(as_hb(held[0]).position_sec, 10);
    EXPECT_TRUE(std::holds_alternative<BufferedStop>(held[1]));
    EXPECT_EQ(as_hb(held[2]).position_sec, 30);
}

TEST_F(ProgressBufferTest, StopsAndPutsAreNeverFolded) {
    ProgressBuffer& b = make(10);
    ASSERT_TRUE(held(b.push(stop_of("ps_1", 10, 1))));
    ASSERT_TRUE(held(b.push(stop_of("ps_1", 20, 2))));
    ASSERT_TRUE(held(b.push(put_of("m_1", 30, kT0))));
    ASSERT_TRUE(held(b.push(put_of("m_1", 40, kT0 + 1))));
    EXPECT_EQ(b.size(), 4U);
}

TEST_F(ProgressBufferTest, AFullBufferStillFoldsANewerHeartbeat) {
    ProgressBuffer& b = make(1);
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    EXPECT_TRUE(held(b.push(hb("ps_1", 20, 2))));   // folded: needs no room
    EXPECT_FALSE(held(b.push(hb("ps_2", 20, 2))));  // another session needs room
    ASSERT_EQ(b.size(), 1U);
    EXPECT_EQ(as_hb(b.entries_for_test()[0]).position_sec, 20);
    EXPECT_EQ(stats_.dropped_total.load(), 1U);
}

// ---- lease grants ------------------------------------------------------------------------------

TEST_F(ProgressBufferTest, HeldGrantsAreTrackedPerSessionAndCountedAsFailOpenStarts) {
    ProgressBuffer& b = make(10);
    EXPECT_FALSE(b.has_pending_grant("a_1", "ps_open"));
    ASSERT_TRUE(held(b.push(grant_of("ps_open"))));
    EXPECT_TRUE(b.has_pending_grant("a_1", "ps_open"));
    EXPECT_FALSE(b.has_pending_grant("a_2", "ps_open"));
    EXPECT_FALSE(b.has_pending_grant("a_1", "ps_other"));
    EXPECT_EQ(stats_.fail_open_starts_total.load(), 1U);
}

TEST_F(ProgressBufferTest, ARefusedGrantIsNeitherHeldNorCountedAsAStart) {
    ProgressBuffer& b = make(1);
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    EXPECT_FALSE(held(b.push(grant_of("ps_open"))));
    EXPECT_FALSE(b.has_pending_grant("a_1", "ps_open"));
    EXPECT_EQ(stats_.fail_open_starts_total.load(), 0U);
    EXPECT_EQ(stats_.dropped_total.load(), 1U);
}

TEST(RedisFailureTest, OnlyRedisItselfNotAnsweringSwitchesAFallbackOn) {
    using core::Errc;
    EXPECT_EQ(classify_redis_failure(Errc::kUnavailable), RedisFailure::kNotSent);
    EXPECT_EQ(classify_redis_failure(Errc::kConnectFailed), RedisFailure::kNotSent);
    EXPECT_EQ(classify_redis_failure(Errc::kTimeout), RedisFailure::kNoReply);
    EXPECT_EQ(classify_redis_failure(Errc::kConnectionClosed), RedisFailure::kNoReply);
    // The request's own deadline, its cancellation, this worker's overload: Redis may be fine.
    EXPECT_EQ(classify_redis_failure(Errc::kDeadlineExceeded), RedisFailure::kCallerGaveUp);
    EXPECT_EQ(classify_redis_failure(Errc::kCancelled), RedisFailure::kCallerGaveUp);
    EXPECT_EQ(classify_redis_failure(Errc::kOverloaded), RedisFailure::kLocalOverload);
    for (Errc e : {Errc::kUpstreamError, Errc::kProtocolError, Errc::kInternal, Errc::kInvalidArgument}) {
        EXPECT_EQ(classify_redis_failure(e), RedisFailure::kBadAnswer) << core::errc_name(e);
    }
    for (Errc e : {Errc::kUnavailable, Errc::kConnectFailed, Errc::kTimeout, Errc::kConnectionClosed}) {
        EXPECT_TRUE(redis_unavailable(classify_redis_failure(e))) << core::errc_name(e);
    }
    for (Errc e : {Errc::kDeadlineExceeded, Errc::kCancelled, Errc::kOverloaded, Errc::kUpstreamError}) {
        EXPECT_FALSE(redis_unavailable(classify_redis_failure(e))) << core::errc_name(e);
    }
}

TEST_F(ProgressBufferTest, OneAccountCannotTakeMoreThanItsShare) {
    ProgressBufferSettings s;
    s.max_entries = 100;
    s.max_per_account = 3;
    buffer_.emplace(io_.get_executor(), core::SystemClock::instance(), s, stats_);
    ProgressBuffer& b = *buffer_;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(held(b.push(put_of("m_" + std::to_string(i), 10, kT0 + i))));
    }
    // A fourth write of the same account is refused, whatever its kind ...
    EXPECT_EQ(b.push(put_of("m_9", 10, kT0 + 9)), ProgressBuffer::Push::kAccountFull);
    EXPECT_EQ(b.push(hb("ps_new", 10, 1)), ProgressBuffer::Push::kAccountFull);
    EXPECT_EQ(stats_.account_full_total.load(), 2U);
    // ... while another account still has room.
    EXPECT_TRUE(held(b.push(hb("ps_x", 10, 1, "a_2"))));
    EXPECT_EQ(b.size(), 4U);
}

TEST_F(ProgressBufferTest, FailOpenGrantsAreHeldToTheAccountsStreamLimitInDevices) {
    ProgressBuffer& b = make(100);
    const auto grant_on = [](std::string sid, std::string device) {
        BufferedLeaseGrant g = grant_of(std::move(sid));  // max_streams 2
        g.info.device_id = std::move(device);
        return g;
    };
    ASSERT_TRUE(held(b.push(grant_on("ps_open1", "tv"))));
    ASSERT_TRUE(held(b.push(grant_on("ps_open2", "phone"))));
    // A third device would be a third stream on a two-stream plan.
    EXPECT_EQ(b.push(grant_on("ps_open3", "tablet")), ProgressBuffer::Push::kAccountFull);
    EXPECT_FALSE(b.has_pending_grant("a_1", "ps_open3"));
    // A device starting again replaces its own lease at replay, as it would live: allowed.
    EXPECT_TRUE(held(b.push(grant_on("ps_open4", "tv"))));
    EXPECT_EQ(stats_.fail_open_starts_total.load(), 3U);
    EXPECT_EQ(stats_.account_full_total.load(), 1U);
}

TEST_F(ProgressBufferTest, HoldsOnlySessionsMintedForTheAccount) {
    const domain::SessionIdSigner ids("test-session-key");
    buffer_.emplace(io_.get_executor(), core::SystemClock::instance(), ProgressBufferSettings{}, stats_, &ids);
    ProgressBuffer& b = *buffer_;
    const std::string mine = ids.mint("a_1");
    EXPECT_TRUE(held(b.push(hb(mine, 10, 1))));
    EXPECT_TRUE(held(b.push(stop_of(mine, 20, 2))));
    // Made up, minted for another account, or minted under another key: not held.
    EXPECT_EQ(b.push(hb("ps_madeUpByTheClient000000", 10, 1)), ProgressBuffer::Push::kUnknownSession);
    EXPECT_EQ(b.push(hb(ids.mint("a_2"), 10, 1)), ProgressBuffer::Push::kUnknownSession);
    EXPECT_EQ(b.push(stop_of(domain::SessionIdSigner("other-key").mint("a_1"), 1, 1)),
              ProgressBuffer::Push::kUnknownSession);
    EXPECT_EQ(stats_.unknown_session_total.load(), 3U);
    // PUTs name no session: only the share applies.
    EXPECT_TRUE(held(b.push(put_of("m_1", 5, kT0))));
    EXPECT_EQ(b.size(), 3U);
}

// ---- the replay loop's waiting (no Redis server: a StrictMock) ---------------------------------

using test_util::NoInternalApi;

/// Redis down, for the one script a replayed heartbeat or PUT runs (`async_eval`).
boost::asio::awaitable<core::Result<redis::Reply>> unavailable() {
    co_return core::make_error(core::Errc::kUnavailable);
}

class ReplayLoopTest : public ProgressBufferTest {
protected:
    ReplayLoopTest()
        : sessions_(redis_, LeaseSettings{}, ProgressSettings{}),
          progress_(redis_, api_, ProgressSettings{}, progress_stats_) {}

    /// Spawns async_run; @p slot (optional) is bound as its cancellation slot.
    void spawn(ProgressBuffer& b, boost::asio::cancellation_signal* signal = nullptr) {
        auto done = [this](std::exception_ptr e) {
            error_ = e;
            done_ = true;
        };
        if (signal != nullptr) {
            boost::asio::co_spawn(io_, b.async_run(sessions_, progress_),
                                  boost::asio::bind_cancellation_slot(signal->slot(), done));
        } else {
            boost::asio::co_spawn(io_, b.async_run(sessions_, progress_), done);
        }
        io_.poll();  // runs up to its first wait
    }

    /// Runs the loop until async_run returned; @return how long that took.
    std::chrono::milliseconds run_until_done(std::chrono::milliseconds limit) {
        const auto start = std::chrono::steady_clock::now();
        while (!done_ && std::chrono::steady_clock::now() - start < limit) {
            io_.run_one_for(10ms);
        }
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    }

    StrictMock<testing::MockRedisCommands> redis_;
    NoInternalApi api_;
    ProgressStats progress_stats_;
    SessionStore sessions_;
    ProgressStore progress_;
    bool done_ = false;
    std::exception_ptr error_;
};

TEST_F(ReplayLoopTest, AnEmptyBufferWaitsWithoutTouchingRedisUntilStopped) {
    ProgressBuffer& b = make(10);
    spawn(b);
    EXPECT_TRUE(b.running());
    // Nothing is held: no handler runs at all (no polling timer), and the StrictMock proves no
    // Redis call was made.
    EXPECT_EQ(io_.run_for(50ms), 0U);
    b.stop();
    EXPECT_LT(run_until_done(5s), 1s);
    EXPECT_TRUE(done_);
    EXPECT_FALSE(b.running());
    EXPECT_FALSE(error_);
}

TEST_F(ReplayLoopTest, APushWakesTheLoopAndAFailureBacksOffWithoutRetryingPerPush) {
    ProgressBuffer& b = make(10, 10s, 10s);  // a long backoff: any retry within the test is a bug
    spawn(b);
    EXPECT_CALL(redis_, do_async_eval(_, _, _, _, _)).WillOnce([](auto&&...) { return unavailable(); });
    ASSERT_TRUE(held(b.push(hb("ps_1", 10, 1))));
    ASSERT_TRUE(::moneta::redis::testing::run_until(io_, [&] { return stats_.replay_failed_total.load() == 1; }, 5s));
    // Backing off: more pushes do not cut the backoff short (Times(1) above), nothing is lost.
    ASSERT_TRUE(held(b.push(hb("ps_2", 10, 1))));
    EXPECT_EQ(io_.run_for(50ms), 0U);
    EXPECT_EQ(b.size(), 2U);
    EXPECT_EQ(stats_.replayed_total.load(), 0U);
    // stop() ends the 10 s backoff at once.
    b.stop();
    EXPECT_LT(run_until_done(5s), 1s);
    EXPECT_TRUE(done_);
    EXPECT_EQ(b.size(), 2U);
}

TEST_F(ReplayLoopTest, CancellationEndsAnIdleWaitAtOnce) {
    ProgressBuffer& b = make(10);
    boost::asio::cancellation_signal signal;
    spawn(b, &signal);
    ASSERT_FALSE(done_);
    signal.emit(boost::asio::cancellation_type::terminal);
    EXPECT_LT(run_until_done(5s), 1s);
    EXPECT_TRUE(done_);
    EXPECT_FALSE(b.running());
}

TEST_F(ReplayLoopTest, CancellationEndsABackoffAtOnce) {
    ProgressBuffer& b = make(10, 10s, 10s);
    boost::asio::cancellation_signal signal;
    spawn(b, &signal);
    EXPECT_CALL(redis_, do_async_eval(_, _, _, _, _)).WillOnce([](auto&&...) { return unavailable(); });
    ASSERT_TRUE(held(b.push(put_of("m_1", 10, kT0))));
    ASSERT_TRUE(::moneta::redis::testing::run_until(io_, [&] { return stats_.replay_failed_total.load() == 1; }, 5s));
    signal.emit(boost::asio::cancellation_type::terminal);
    EXPECT_LT(run_until_done(5s), 1s);
    EXPECT_TRUE(done_);
    EXPECT_EQ(b.size(), 1U);  // not confirmed by Redis: still held
}

TEST_F(ReplayLoopTest, StopFromAnotherThreadIsSafe) {
    ProgressBuffer& b = make(10);
    spawn(b);
    std::thread([&] { b.stop(); }).join();
    EXPECT_LT(run_until_done(5s), 1s);
    EXPECT_TRUE(done_);
}

}  // namespace
}  // namespace moneta::store
