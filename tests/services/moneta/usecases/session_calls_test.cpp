// SessionCalls on scripted ports: heartbeat (renewed, stop reasons, entitlement refresh,
// evicted, not found, held when Redis is unavailable or a grant is pending, never held on the
// caller's own deadline), stop (released, held), refresh, list and kick.
#include "usecases/session_calls.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

namespace moneta::usecases {
namespace {

using domain::ApiError;
using namespace testing;
using namespace std::chrono_literals;

class SessionCallsTest : public ::testing::Test {
protected:
    ProgressReport report() const {
        return ProgressReport{caller(), "ps_1", 42.5, 7, clock_.wall_ms(), core::Deadline::never()};
    }
    Outcome<Renewed> heartbeat() { return run(calls_.async_heartbeat(report(), Identity{})); }
    Outcome<Stopped> stop(bool ended = false) { return run(calls_.async_stop(report(), ended, Identity{})); }

    static store::HeartbeatResult renewed(std::int64_t expires_at_ms) {
        store::HeartbeatResult hb;
        hb.lease = domain::HeartbeatOutcome{domain::HeartbeatStatus::kRenewed, expires_at_ms};
        hb.progress = store::ProgressWrite::kApplied;
        return hb;
    }

    core::FakeClock clock_;
    core::RequestContext ctx_;
    FakeCatalog catalog_;
    FakeLeases leases_;
    FakeHeld held_;
    FakeDelivery delivery_;
    domain::SessionIdSigner ids_{"0123456789abcdef0123456789abcdef"};
    PlaybackSettings settings_;
    PlaybackStats stats_;
    SessionCalls calls_{{leases_, catalog_, held_, delivery_, ids_, settings_, stats_}};
};

TEST_F(SessionCallsTest, HeartbeatRenewsTheLease) {
    auto hb = renewed(clock_.wall_ms() + 90'000);
    hb.entitlement = store::Entitlement::kEntitled;
    hb.entitlement_fetched_at_ms = clock_.wall_ms();
    leases_.heartbeat_result = hb;
    const auto o = heartbeat();
    ASSERT_TRUE(std::holds_alternative<Renewed>(o));
    EXPECT_EQ(std::get<Renewed>(o).expires_at_ms, clock_.wall_ms() + 90'000);
    EXPECT_TRUE(std::get<Renewed>(o).stop_reason.empty());
    EXPECT_FALSE(std::get<Renewed>(o).held);
    EXPECT_EQ(catalog_.refresh_calls, 0);  // fresh entitlement: nothing to reload
    EXPECT_EQ(stats_.heartbeats_renewed_total.load(), 1u);
    EXPECT_EQ(stats_.progress_applied_total.load(), 1u);
}

TEST_F(SessionCallsTest, HeartbeatRefreshesAMissingOrAgedEntitlementInTheBackground) {
    leases_.heartbeat_result = renewed(1);  // kUnknown: nothing cached
    heartbeat();
    EXPECT_EQ(catalog_.refresh_calls, 1);
    EXPECT_EQ(stats_.entitlement_refreshes_total.load(), 1u);

    auto hb = renewed(1);
    hb.entitlement = store::Entitlement::kEntitled;
    hb.entitlement_fetched_at_ms = clock_.wall_ms();
    leases_.heartbeat_result = hb;
    clock_.advance(600s);  // exactly the soft TTL
    catalog_.refresh_started = false;  // one already running: not counted
    heartbeat();
    EXPECT_EQ(catalog_.refresh_calls, 2);
    EXPECT_EQ(stats_.entitlement_refreshes_total.load(), 1u);
}

TEST_F(SessionCallsTest, HeartbeatSaysStopWhenTheEntitlementEndsOrTheWindowCloses) {
    auto hb = renewed(1);
    hb.entitlement = store::Entitlement::kSubscriptionEnded;
    leases_.heartbeat_result = hb;
    EXPECT_EQ(std::get<Renewed>(heartbeat()).stop_reason, "subscription_ended");

    hb.entitlement = store::Entitlement::kProfileRemoved;
    leases_.heartbeat_result = hb;
    EXPECT_EQ(std::get<Renewed>(heartbeat()).stop_reason, "profile_removed");

    hb.window_end_ms = clock_.wall_ms() + 1'000;
    leases_.heartbeat_result = hb;
    clock_.advance(1s);  // the window is half-open: its end is outside
    EXPECT_EQ(std::get<Renewed>(heartbeat()).stop_reason, "content_unavailable");
    EXPECT_EQ(stats_.heartbeats_stop_total.load(), 3u);
}

TEST_F(SessionCallsTest, HeartbeatOfAnEvictedOrUnknownSession) {
    store::HeartbeatResult hb;
    hb.lease.status = domain::HeartbeatStatus::kEvicted;
    leases_.heartbeat_result = hb;
    EXPECT_EQ(std::get<Refused>(heartbeat()).error, ApiError::kSessionEvicted);
    hb.lease.status = domain::HeartbeatStatus::kNotFound;
    leases_.heartbeat_result = hb;
    EXPECT_EQ(std::get<Refused>(heartbeat()).error, ApiError::kSessionNotFound);
    EXPECT_EQ(stats_.heartbeats_evicted_total.load(), 1u);
    EXPECT_EQ(stats_.heartbeats_not_found_total.load(), 1u);
}

TEST_F(SessionCallsTest, HeartbeatIsHeldWhenRedisIsUnavailable) {
    for (const auto e : {core::Errc::kUnavailable, core::Errc::kTimeout}) {
        leases_.heartbeat_result = err(e);
        const auto o = heartbeat();
        ASSERT_TRUE(std::holds_alternative<Renewed>(o));
        EXPECT_TRUE(std::get<Renewed>(o).held);
        EXPECT_EQ(std::get<Renewed>(o).expires_at_ms, clock_.wall_ms() + 90'000);  // presumed
        EXPECT_TRUE(std::get<Renewed>(o).stop_reason.empty());
    }
    ASSERT_EQ(held_.pushed.size(), 2u);
    const auto& held = std::get<store::BufferedHeartbeat>(held_.pushed[0]);
    EXPECT_EQ(held.account_id, "a_1");
    EXPECT_EQ(held.session_id, "ps_1");
    EXPECT_EQ(held.seq, 7);
    EXPECT_EQ(held.now_ms, clock_.wall_ms());
    EXPECT_EQ(stats_.heartbeats_buffered_total.load(), 2u);
    EXPECT_EQ(stats_.store_errors_total.load(), 2u);
}

TEST_F(SessionCallsTest, HeartbeatIsNeverHeldOnTheCallersOwnDeadline) {
    leases_.heartbeat_result = err(core::Errc::kDeadlineExceeded);
    EXPECT_TRUE(std::holds_alternative<StoreFailed>(heartbeat()));
    EXPECT_TRUE(held_.pushed.empty());
}

TEST_F(SessionCallsTest, HeartbeatQueuesBehindAPendingGrantWithoutCallingRedis) {
    held_.pending_grant = true;
    EXPECT_TRUE(std::get<Renewed>(heartbeat()).held);
    EXPECT_EQ(leases_.heartbeat_calls, 0);
    held_.answer = store::ProgressBuffer::Push::kAccountFull;
    EXPECT_EQ(std::get<Refused>(heartbeat()).error, ApiError::kUpstreamUnavailable);
}

TEST_F(SessionCallsTest, StopReleasesTheLease) {
    EXPECT_FALSE(std::get<Stopped>(stop(true)).held);
    EXPECT_TRUE(leases_.stopped_ended);
    EXPECT_EQ(stats_.stops_total.load(), 1u);
}

TEST_F(SessionCallsTest, StopIsHeldWhenRedisIsUnavailableOrAGrantIsPending) {
    leases_.stop_result = err(core::Errc::kConnectionClosed);
    EXPECT_TRUE(std::get<Stopped>(stop(true)).held);
    held_.pending_grant = true;
    EXPECT_TRUE(std::get<Stopped>(stop()).held);
    EXPECT_EQ(leases_.stop_calls, 1);
    ASSERT_EQ(held_.pushed.size(), 2u);
    EXPECT_TRUE(std::get<store::BufferedStop>(held_.pushed[0]).ended);
    EXPECT_EQ(stats_.stops_buffered_total.load(), 2u);
    EXPECT_EQ(stats_.stops_total.load(), 0u);
}

TEST_F(SessionCallsTest, StopIsNeverHeldOnTheCallersOwnDeadline) {
    leases_.stop_result = err(core::Errc::kCancelled);
    EXPECT_TRUE(std::holds_alternative<StoreFailed>(stop()));
    EXPECT_TRUE(held_.pushed.empty());
}

TEST_F(SessionCallsTest, RefreshBuildsNewBlocksForALiveSession) {
    store::StartCatalog catalog;
    catalog.account = account(clock_.wall_ms());
    catalog.content = content();
    const auto selection = domain::select_stream(*catalog.content, catalog.account->plan,
                                                 domain::Capabilities{{"dash"}, {"widevine"}, {"avc"}, {}, 1080});
    ASSERT_TRUE(selection);
    catalog_.load_result = std::move(catalog);
    leases_.live_result = std::optional<store::LiveSession>(
        store::LiveSession{"p_1", "m_1", domain::encode_selection(*selection), clock_.wall_ms() + 1});
    const auto o = run(calls_.async_refresh(caller("a_1", {}), "ps_1", {}, clock_.wall_ms(), ctx_, Identity{}));
    ASSERT_TRUE(std::holds_alternative<Refreshed>(o));
    EXPECT_NE(std::get<Refreshed>(o).body.find(R"("manifest_url":"https://cdn.test/vod/m_1/avc/manifest.mpd")"),
              std::string::npos)
        << std::get<Refreshed>(o).body;
    EXPECT_EQ(stats_.refreshes_total.load(), 1u);

    leases_.live_result = std::optional<store::LiveSession>();
    const auto gone = run(calls_.async_refresh(caller("a_1", {}), "ps_1", {}, clock_.wall_ms(), ctx_, Identity{}));
    EXPECT_EQ(std::get<Refused>(gone).error, ApiError::kSessionNotFound);
}

TEST_F(SessionCallsTest, ListAnswersTheLimitAndTheSessions) {
    store::StartCatalog catalog;
    catalog.account = account(clock_.wall_ms(), 4);
    catalog_.load_result = std::move(catalog);
    leases_.list_result = std::vector<domain::ActiveSession>(2);
    const auto o = run(calls_.async_list(caller("a_1", {}), clock_.wall_ms(), ctx_, Identity{}));
    ASSERT_TRUE(std::holds_alternative<Listed>(o));
    EXPECT_EQ(std::get<Listed>(o).max_streams, 4);
    EXPECT_EQ(std::get<Listed>(o).sessions.size(), 2u);

    catalog_.load_result = store::StartCatalog{};
    const auto none = run(calls_.async_list(caller("a_1", {}), clock_.wall_ms(), ctx_, Identity{}));
    EXPECT_EQ(std::get<Refused>(none).error, ApiError::kSubscriptionRequired);
}

TEST_F(SessionCallsTest, KickTellsAForeignSessionFromAnUnknownOne) {
    auto kick = [&](std::string_view id) {
        return run(calls_.async_kick(caller("a_1", {}), id, clock_.wall_ms(), core::Deadline::never(), Identity{}));
    };
    EXPECT_TRUE(std::holds_alternative<Kicked>(kick("ps_1")));
    EXPECT_EQ(stats_.kicks_total.load(), 1u);
    leases_.kick_result = store::KickResult::kNotFound;
    EXPECT_EQ(std::get<Refused>(kick(ids_.mint("a_2"))).error, ApiError::kNotOwner);
    EXPECT_EQ(std::get<Refused>(kick(ids_.mint("a_1"))).error, ApiError::kSessionNotFound);
    EXPECT_EQ(std::get<Refused>(kick("made_up")).error, ApiError::kSessionNotFound);
    leases_.kick_result = err(core::Errc::kTimeout);
    EXPECT_TRUE(std::holds_alternative<StoreFailed>(kick("ps_1")));
}

}  // namespace
}  // namespace moneta::usecases
