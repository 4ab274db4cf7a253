// StartPlayback on scripted ports: every outcome branch of a start (granted, replaced, denied,
// idempotent save/replay/conflict, rate limited, fail-open vs 503 vs no fallback, the checks,
// the resume position) without Redis or the internal API.
#include "usecases/start_playback.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

namespace moneta::usecases {
namespace {

using domain::ApiError;
using namespace testing;

class StartPlaybackTest : public ::testing::Test {
protected:
    StartPlaybackTest() {
        catalog_.read.catalog.account = account(clock_.wall_ms());
        catalog_.read.catalog.content = content();
        request_.content_id = "m_1";
        request_.device = domain::Device{"d_1", domain::DeviceType::kWeb, "Chrome", "1.0"};
        request_.capabilities = domain::Capabilities{{"dash"}, {"widevine"}, {"avc"}, {}, 1080};
    }

    Outcome<Started> start(std::string_view idem_key = {}, std::string_view raw_body = R"({"content_id":"m_1"})") {
        return run(start_.async_run(StartPlaybackCommand{caller(), request_, idem_key, raw_body, {},
                                                         clock_.wall_ms(), &ctx_},
                                    Identity{}));
    }

    static const Refused& refused(const Outcome<Started>& o) {
        EXPECT_TRUE(std::holds_alternative<Refused>(o));
        return std::get<Refused>(o);
    }

    core::FakeClock clock_;
    core::RequestContext ctx_;
    FakeCatalog catalog_;
    FakeLeases leases_;
    FakeProgress progress_;
    FakeHeld held_;
    FakeDelivery delivery_;
    domain::SessionIdSigner ids_{"0123456789abcdef0123456789abcdef"};
    std::string cdn_ = "https://cdn.test";
    PlaybackSettings settings_;
    PlaybackStats stats_;
    domain::StartRequest request_;
    StartPlayback start_{{catalog_, leases_, progress_, held_, delivery_, ids_, cdn_, settings_, stats_}};
};

TEST_F(StartPlaybackTest, GrantsALeaseAndAnswersTheSignedStream) {
    const auto o = start();
    ASSERT_TRUE(std::holds_alternative<Started>(o));
    const Started& s = std::get<Started>(o);
    EXPECT_EQ(s.kind, Started::Kind::kGranted);
    EXPECT_TRUE(ids_.minted_for("a_1", s.session_id));
    EXPECT_EQ(leases_.started_session_id, s.session_id);
    EXPECT_EQ(leases_.started_max_streams, 2);
    EXPECT_NE(s.body.find(s.session_id), std::string::npos);
    EXPECT_NE(s.body.find("https://cdn.test/vod/m_1/avc/manifest.mpd"), std::string::npos);
    EXPECT_EQ(catalog_.last_query.kind, Admission::kStart);
    EXPECT_EQ(catalog_.last_query.rate_per_min, settings_.start_rate_per_min);
    EXPECT_EQ(leases_.save_calls, 0);  // no Idempotency-Key: no third round trip
    EXPECT_EQ(stats_.starts_granted_total.load(), 1u);
    EXPECT_EQ(stats_.starts_replaced_total.load(), 0u);
}

TEST_F(StartPlaybackTest, CountsAReplacedLease) {
    leases_.start_result = domain::LeaseGranted{1'000, 1, "ps_old"};
    request_.replace_session_id = "ps_old";
    ASSERT_TRUE(std::holds_alternative<Started>(start()));
    EXPECT_EQ(leases_.started_replace, "ps_old");
    EXPECT_EQ(stats_.starts_replaced_total.load(), 1u);
}

TEST_F(StartPlaybackTest, DeniedAtTheStreamLimitListsTheActiveSessions) {
    domain::ActiveSession other;
    other.info.session_id = "ps_other";
    leases_.start_result = domain::LeaseDenied{{other}};
    const auto o = start();
    EXPECT_EQ(refused(o).error, ApiError::kStreamLimitReached);
    EXPECT_NE(refused(o).details.find("ps_other"), std::string::npos);
    EXPECT_EQ(delivery_.calls, 0);
    EXPECT_EQ(stats_.starts_denied_total.load(), 1u);
}

TEST_F(StartPlaybackTest, RateLimitedBeforeAnyInternalApiCall) {
    catalog_.read.retry_after_sec = 17;
    const auto o = start();
    EXPECT_EQ(refused(o).error, ApiError::kRateLimited);
    EXPECT_EQ(refused(o).retry_after_sec, 17);
    EXPECT_EQ(catalog_.fill_calls, 0);
    EXPECT_EQ(leases_.start_calls, 0);
    EXPECT_EQ(stats_.starts_rate_limited_total.load(), 1u);
}

TEST_F(StartPlaybackTest, IdempotentStartSavesItsAnswerUnderTheBodyHash) {
    const auto o = start("key_1", R"({"a":1})");
    ASSERT_TRUE(std::holds_alternative<Started>(o));
    const std::string hash = StartPlayback::body_hash(R"({"a":1})");
    EXPECT_EQ(hash.size(), 16u);
    EXPECT_NE(hash, StartPlayback::body_hash(R"({"a":2})"));
    EXPECT_EQ(leases_.started_key, "key_1");
    EXPECT_EQ(leases_.started_hash, hash);
    EXPECT_EQ(leases_.saved_value, hash + "\n" + std::get<Started>(o).body);
}

TEST_F(StartPlaybackTest, IdempotentSaveFailureStillAnswersTheGrant) {
    leases_.save_result = err(core::Errc::kTimeout);
    EXPECT_TRUE(std::holds_alternative<Started>(start("key_1")));
    EXPECT_EQ(stats_.store_errors_total.load(), 1u);
}

TEST_F(StartPlaybackTest, ReplaysTheStoredAnswerOfTheSameKeyAndBody) {
    const std::string body = R"({"content_id":"m_1"})";
    leases_.start_result = store::IdempotentReplay{StartPlayback::body_hash(body), "stored-201"};
    const auto o = start("key_1", body);
    ASSERT_TRUE(std::holds_alternative<Started>(o));
    EXPECT_EQ(std::get<Started>(o).kind, Started::Kind::kReplayed);
    EXPECT_EQ(std::get<Started>(o).body, "stored-201");
    EXPECT_EQ(delivery_.calls, 0);
    EXPECT_EQ(leases_.save_calls, 0);
    EXPECT_EQ(stats_.starts_replayed_total.load(), 1u);
}

TEST_F(StartPlaybackTest, SameKeyWithAnotherBodyIsAConflict) {
    leases_.start_result = store::IdempotentReplay{StartPlayback::body_hash("other"), "stored-201"};
    const auto o = start("key_1");
    EXPECT_EQ(refused(o).error, ApiError::kIdempotencyConflict);
    EXPECT_EQ(refused(o).details, R"({"reason":"key used with another body"})");
}

TEST_F(StartPlaybackTest, SameKeyWhileTheFirstIsInFlightIsAConflict) {
    const std::string body = R"({"content_id":"m_1"})";
    leases_.start_result = store::IdempotentReplay{StartPlayback::body_hash(body), ""};
    const auto o = start("key_1", body);
    EXPECT_EQ(refused(o).error, ApiError::kIdempotencyConflict);
    EXPECT_EQ(refused(o).details, R"({"reason":"first request still in progress"})");
}

TEST_F(StartPlaybackTest, FailsOpenWithoutSendingTheLeaseWhenTheFirstRoundTripFoundRedisDown) {
    catalog_.read.catalog.redis_error = err(core::Errc::kUnavailable);
    const auto o = start();
    ASSERT_TRUE(std::holds_alternative<Started>(o));
    EXPECT_EQ(std::get<Started>(o).kind, Started::Kind::kFailOpen);
    EXPECT_EQ(leases_.start_calls, 0);
    ASSERT_EQ(held_.pushed.size(), 1u);
    const auto& grant = std::get<store::BufferedLeaseGrant>(held_.pushed[0]);
    EXPECT_EQ(grant.info.session_id, std::get<Started>(o).session_id);
    EXPECT_EQ(grant.max_streams, 2);
    EXPECT_EQ(stats_.store_errors_total.load(), 1u);
}

TEST_F(StartPlaybackTest, AnswersUnavailableWhenRedisIsDownAndFailOpenIsOff) {
    settings_.redis_down_fail_open = false;
    catalog_.read.catalog.redis_error = err(core::Errc::kTimeout);
    EXPECT_EQ(refused(start()).error, ApiError::kUpstreamUnavailable);
    EXPECT_TRUE(held_.pushed.empty());
    EXPECT_EQ(leases_.start_calls, 0);
}

TEST_F(StartPlaybackTest, FailsOpenWhenTheLeaseScriptWasNeverSent) {
    leases_.start_result = err(core::Errc::kUnavailable);
    const auto o = start();
    ASSERT_TRUE(std::holds_alternative<Started>(o));
    EXPECT_EQ(std::get<Started>(o).kind, Started::Kind::kFailOpen);
    EXPECT_EQ(held_.pushed.size(), 1u);
}

TEST_F(StartPlaybackTest, NeverGrantsAnUnknownOutcomeSentWithoutReply) {
    leases_.start_result = err(core::Errc::kTimeout);
    EXPECT_EQ(refused(start()).error, ApiError::kUpstreamUnavailable);
    EXPECT_TRUE(held_.pushed.empty());
    EXPECT_EQ(delivery_.calls, 0);
}

TEST_F(StartPlaybackTest, NeverFallsBackOnTheCallersOwnDeadline) {
    leases_.start_result = err(core::Errc::kDeadlineExceeded);
    const auto o = start();
    ASSERT_TRUE(std::holds_alternative<StoreFailed>(o));
    EXPECT_EQ(std::get<StoreFailed>(o).ec, err(core::Errc::kDeadlineExceeded));
    EXPECT_TRUE(held_.pushed.empty());
}

TEST_F(StartPlaybackTest, AFullBufferRefusesTheFailOpenStart) {
    leases_.start_result = err(core::Errc::kUnavailable);
    held_.answer = store::ProgressBuffer::Push::kFull;
    EXPECT_EQ(refused(start()).error, ApiError::kUpstreamUnavailable);
}

TEST_F(StartPlaybackTest, InternalApiFailureOnAMissIsAnUpstreamFailure) {
    catalog_.read.catalog.account_miss = true;
    catalog_.fill_result = err(core::Errc::kTimeout);
    const auto o = start();
    ASSERT_TRUE(std::holds_alternative<UpstreamFailed>(o));
    EXPECT_EQ(leases_.start_calls, 0);
}

TEST_F(StartPlaybackTest, ChecksRunInTheApiOrder) {
    catalog_.read.catalog.content = nullptr;
    EXPECT_EQ(refused(start()).error, ApiError::kContentNotFound);
    catalog_.read.catalog.account = nullptr;
    EXPECT_EQ(refused(start()).error, ApiError::kSubscriptionRequired);
    EXPECT_EQ(leases_.start_calls, 0);
}

TEST_F(StartPlaybackTest, NoCompatibleStream) {
    request_.capabilities.protocols = {"hls"};
    EXPECT_EQ(refused(start()).error, ApiError::kNoCompatibleStream);
    EXPECT_EQ(stats_.starts_no_stream_total.load(), 1u);
}

TEST_F(StartPlaybackTest, ResumesFromTheCachedPositionWithoutAskingTheSystemOfRecord) {
    catalog_.read.progress_cached = true;
    catalog_.read.stored_progress = domain::ProgressRecord{"m_1", 1234.5, 6000, 1, 1, false};
    const auto o = start();
    ASSERT_TRUE(std::holds_alternative<Started>(o));
    EXPECT_NE(std::get<Started>(o).body.find("1234.5"), std::string::npos);
    EXPECT_EQ(progress_.load_one_calls, 0);
}

TEST_F(StartPlaybackTest, LoadsTheResumePositionOnlyWhenNothingIsCached) {
    catalog_.read.progress_known_absent = true;
    start();
    EXPECT_EQ(progress_.load_one_calls, 0);  // the negative cache says there is none

    catalog_.read.progress_known_absent = false;
    progress_.load_one_result = std::optional<domain::ProgressRecord>(domain::ProgressRecord{"m_1", 77, 6000, 1, 1});
    const auto o = start();
    EXPECT_EQ(progress_.load_one_calls, 1);
    EXPECT_NE(std::get<Started>(o).body.find("77"), std::string::npos);

    request_.resume = domain::ResumeMode::kStartOver;
    start();
    EXPECT_EQ(progress_.load_one_calls, 1);  // start_over needs no position
}

TEST_F(StartPlaybackTest, GivesTheSlotBackWhenTheTokensCannotBeBuilt) {
    delivery_.fail = true;
    EXPECT_EQ(refused(start()).error, ApiError::kInternal);
    EXPECT_EQ(leases_.kick_calls, 1);
    EXPECT_EQ(leases_.kicked_session_id, leases_.started_session_id);
}

}  // namespace
}  // namespace moneta::usecases
