#include "domain/playability.hpp"

#include <gtest/gtest.h>

namespace moneta::domain {
namespace {

constexpr std::int64_t kNow = 1'764'000'000'000;

Account make_account() {
    Account a;
    a.id = "a_1";
    a.status = "active";
    a.plan = Plan{"standard", 2, 2, 1080, false, false};
    a.paid_until_ms = kNow + 1;
    a.country = "KR";
    a.profiles = {Profile{"p_1", "Mom", 19}, Profile{"p_2", "Kid", 12}};
    return a;
}

Content make_content() {
    Content c;
    c.id = "m_1";
    c.kind = "movie";
    c.duration_sec = 7012.4;
    c.window_start_ms = 0;
    c.geo_allow = std::vector<std::string>{"KR", "JP"};
    c.min_plan = "basic";
    c.age_rating = 15;
    return c;
}

const PlanRanks kRanks{{"basic", 1}, {"standard", 2}, {"premium", 3}};

TEST(PlayabilityTest, ActiveAccountWithItsProfileIsEntitled) {
    EXPECT_EQ(check_entitlement(make_account(), "p_1", kNow), std::nullopt);
}

TEST(PlayabilityTest, SubscriptionMustBeActiveAndPaid) {
    Account a = make_account();
    a.status = "suspended";
    EXPECT_EQ(check_entitlement(a, "p_1", kNow), ApiError::kSubscriptionRequired);
    a = make_account();
    a.paid_until_ms = kNow;  // paid_until passed exactly now
    EXPECT_EQ(check_entitlement(a, "p_1", kNow), ApiError::kSubscriptionRequired);
}

TEST(PlayabilityTest, SubscriptionIsCheckedBeforeProfile) {
    Account a = make_account();
    a.status = "cancelled";
    EXPECT_EQ(check_entitlement(a, "p_9", kNow), ApiError::kSubscriptionRequired);
    EXPECT_EQ(check_entitlement(make_account(), "p_9", kNow), ApiError::kProfileNotInAccount);
}

TEST(PlayabilityTest, WindowIsHalfOpen) {
    const Account a = make_account();
    Content c = make_content();
    c.window_start_ms = kNow + 1;
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), ApiError::kNotAvailableYet);
    c.window_start_ms = kNow;
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), std::nullopt);
    c.window_end_ms = kNow;
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), ApiError::kNoLongerAvailable);
    c.window_end_ms = kNow + 1;
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), std::nullopt);
}

TEST(PlayabilityTest, GeoAllowListAndNullMeansEverywhere) {
    const Account a = make_account();
    Content c = make_content();
    EXPECT_EQ(check_content(a, a.profiles[0], c, "US", kRanks, kNow), ApiError::kGeoBlocked);
    EXPECT_EQ(check_content(a, a.profiles[0], c, "JP", kRanks, kNow), std::nullopt);
    c.geo_allow.reset();
    EXPECT_EQ(check_content(a, a.profiles[0], c, "US", kRanks, kNow), std::nullopt);
}

TEST(PlayabilityTest, PlanRankAndUnknownPlanFailsClosed) {
    const Account a = make_account();
    Content c = make_content();
    c.min_plan = "premium";
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), ApiError::kPlanNotEligible);
    c.min_plan = "standard";
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), std::nullopt);
    c.min_plan = "platinum";
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), ApiError::kPlanNotEligible);
}

TEST(PlayabilityTest, ParentalControlUsesTheProfileLimit) {
    const Account a = make_account();
    const Content c = make_content();  // rated 15
    EXPECT_EQ(check_content(a, a.profiles[1], c, "KR", kRanks, kNow), ApiError::kParentalControl);
    EXPECT_EQ(check_content(a, a.profiles[0], c, "KR", kRanks, kNow), std::nullopt);
}

TEST(PlayabilityTest, ChecksRunInContractOrder) {
    // Everything wrong at once: the window is reported first, then geo, then plan.
    const Account a = make_account();
    Content c = make_content();
    c.window_start_ms = kNow + 10;
    c.min_plan = "premium";
    c.age_rating = 19;
    EXPECT_EQ(check_content(a, a.profiles[1], c, "US", kRanks, kNow), ApiError::kNotAvailableYet);
    c.window_start_ms = 0;
    EXPECT_EQ(check_content(a, a.profiles[1], c, "US", kRanks, kNow), ApiError::kGeoBlocked);
    EXPECT_EQ(check_content(a, a.profiles[1], c, "KR", kRanks, kNow), ApiError::kPlanNotEligible);
}

}  // namespace
}  // namespace moneta::domain
