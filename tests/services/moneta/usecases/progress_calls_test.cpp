// ProgressCalls on scripted ports: the admission (rate limit, account, profile, title), the
// guarded write's answers (applied, stale, capped), holding a write Redis did not answer (and
// never on the caller's own deadline), reads and continue-watching.
#include "usecases/progress_calls.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

namespace moneta::usecases {
namespace {

using domain::ApiError;
using namespace testing;

class ProgressCallsTest : public ::testing::Test {
protected:
    ProgressCallsTest() {
        catalog_.read.catalog.account = account(clock_.wall_ms());
        catalog_.read.catalog.content = content();
    }
    Outcome<ProgressAccepted> put(double position_sec = 100) {
        return run(calls_.async_put(caller(), "m_1",
                                    domain::ProgressPut{position_sec, 1000, clock_.wall_ms() - 5, 3},
                                    clock_.wall_ms(), ctx_, Identity{}));
    }
    Outcome<ProgressItems> get() {
        return run(calls_.async_get(caller(), {"m_1", "m_2"}, clock_.wall_ms(), ctx_, Identity{}));
    }

    core::FakeClock clock_;
    core::RequestContext ctx_;
    FakeCatalog catalog_;
    FakeProgress progress_;
    FakeHeld held_;
    PlaybackSettings settings_;
    PlaybackStats stats_;
    ProgressCalls calls_{{catalog_, progress_, held_, settings_, stats_}};
};

TEST_F(ProgressCallsTest, PutStoresTheRecordThroughTheGuard) {
    EXPECT_FALSE(std::get<ProgressAccepted>(put(100)).held);
    EXPECT_EQ(progress_.last_put.content_id, "m_1");
    EXPECT_EQ(progress_.last_put.seq, 3);
    EXPECT_EQ(progress_.last_put.updated_at_ms, clock_.wall_ms() - 5);
    EXPECT_FALSE(progress_.last_put.completed);
    EXPECT_EQ(catalog_.last_query.kind, Admission::kProgress);
    EXPECT_EQ(catalog_.last_query.content_id, "m_1");
    EXPECT_EQ(catalog_.last_query.rate_per_min, settings_.progress_rate_per_min);
    put(950);  // 95 % of 1000 s: watched
    EXPECT_TRUE(progress_.last_put.completed);
    EXPECT_EQ(stats_.progress_applied_total.load(), 2u);
}

TEST_F(ProgressCallsTest, PutAnswersStaleAndCappedWrites) {
    progress_.put_result = store::ProgressWrite::kStale;
    EXPECT_EQ(std::get<Refused>(put()).error, ApiError::kStaleWrite);
    progress_.put_result = store::ProgressWrite::kCapped;
    const auto capped = std::get<Refused>(put());
    EXPECT_EQ(capped.error, ApiError::kRateLimited);
    EXPECT_EQ(capped.details, R"({"reason":"progress_limit"})");
    EXPECT_EQ(capped.retry_after_sec, settings_.progress_retry_after_sec);
    EXPECT_EQ(stats_.progress_stale_total.load(), 1u);
    EXPECT_EQ(stats_.progress_capped_total.load(), 1u);
}

TEST_F(ProgressCallsTest, PutIsHeldWhenRedisIsUnavailable) {
    progress_.put_result = err(core::Errc::kTimeout);
    EXPECT_TRUE(std::get<ProgressAccepted>(put()).held);
    ASSERT_EQ(held_.pushed.size(), 1u);
    const auto& held = std::get<store::BufferedPut>(held_.pushed[0]);
    EXPECT_EQ(held.account_id, "a_1");
    EXPECT_EQ(held.profile_id, "p_1");
    EXPECT_EQ(held.record.seq, 3);
    EXPECT_EQ(stats_.progress_puts_buffered_total.load(), 1u);

    held_.answer = store::ProgressBuffer::Push::kFull;
    EXPECT_EQ(std::get<Refused>(put()).error, ApiError::kUpstreamUnavailable);
}

TEST_F(ProgressCallsTest, PutIsNeverHeldOnTheCallersOwnDeadline) {
    progress_.put_result = err(core::Errc::kDeadlineExceeded);
    EXPECT_TRUE(std::holds_alternative<StoreFailed>(put()));
    EXPECT_TRUE(held_.pushed.empty());
}

TEST_F(ProgressCallsTest, AdmissionRefusesBeforeTouchingProgress) {
    catalog_.read.retry_after_sec = 9;
    const auto limited = std::get<Refused>(put());
    EXPECT_EQ(limited.error, ApiError::kRateLimited);
    EXPECT_EQ(limited.retry_after_sec, 9);
    EXPECT_EQ(catalog_.fill_calls, 0);
    EXPECT_EQ(stats_.progress_rate_limited_total.load(), 1u);
    catalog_.read.retry_after_sec.reset();

    catalog_.read.catalog.content = nullptr;
    EXPECT_EQ(std::get<Refused>(put()).error, ApiError::kContentNotFound);
    EXPECT_TRUE(std::holds_alternative<ProgressItems>(get()));  // reads need no title

    auto other = std::make_shared<domain::Account>(*account(clock_.wall_ms()));
    other->profiles.clear();
    catalog_.read.catalog.account = other;
    EXPECT_EQ(std::get<Refused>(get()).error, ApiError::kProfileNotInAccount);
    catalog_.read.catalog.account = nullptr;
    EXPECT_EQ(std::get<Refused>(get()).error, ApiError::kSubscriptionRequired);

    catalog_.read.catalog.content_miss = true;
    catalog_.fill_result = err(core::Errc::kUnavailable);
    EXPECT_TRUE(std::holds_alternative<UpstreamFailed>(get()));
    EXPECT_EQ(progress_.put_calls, 0);
    EXPECT_EQ(progress_.get_calls, 1);
}

TEST_F(ProgressCallsTest, ReadsAndContinueWatching) {
    progress_.get_result = std::vector<domain::ProgressRecord>{{"m_1", 10, 100, 1, 1, false}};
    const auto items = get();
    ASSERT_TRUE(std::holds_alternative<ProgressItems>(items));
    EXPECT_EQ(std::get<ProgressItems>(items).items.size(), 1u);

    const auto cw = run(calls_.async_continue_watching(caller(), 5, clock_.wall_ms(), ctx_, Identity{}));
    EXPECT_TRUE(std::holds_alternative<ProgressItems>(cw));
    EXPECT_EQ(progress_.last_limit, 5);

    progress_.get_result = err(core::Errc::kTimeout);
    EXPECT_TRUE(std::holds_alternative<UpstreamFailed>(get()));
}

}  // namespace
}  // namespace moneta::usecases
