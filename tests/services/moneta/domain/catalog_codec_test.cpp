#include "domain/catalog_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace moneta::domain {
namespace {

constexpr const char* kAccount = R"({"id":"a_1","status":"active",
  "plan":{"id":"premium","rank":3,"max_streams":4,"max_height":2160,"uhd":true,"hdr":true},
  "paid_until_ms":4102444800000,"country":"KR",
  "profiles":[{"id":"p_1","name":"Mom","max_age_rating":19},{"id":"p_2","name":"Kid","max_age_rating":12}],
  "extra":"ignored"})";

constexpr const char* kContent = R"({"id":"m_1","kind":"movie","title":"T","duration_sec":7012.4,
  "credits_start_sec":6800.0,"window_start_ms":0,"window_end_ms":null,"geo_allow":["KR","JP"],
  "min_plan":"basic","age_rating":15,"next_content_id":null,"drm_cid":"m_1",
  "renditions":[{"protocol":"dash","drm":["widevine","playready"],"video_codec":"hevc","max_height":2160,"hdr":"hdr10","path":"/vod/m_1/hevc_2160/manifest.mpd"}],
  "audio":[{"lang":"ko","codec":"aac","channels":2}],
  "subtitles":[{"lang":"ko","format":"webvtt","path":"/vod/m_1/subs/ko.vtt"}]})";

TEST(CatalogCodecTest, DecodesAnAccount) {
    const auto a = decode_account(kAccount);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->id, "a_1");
    EXPECT_EQ(a->plan.max_streams, 4);
    EXPECT_EQ(a->plan.rank, 3);
    EXPECT_EQ(a->paid_until_ms, 4102444800000);
    ASSERT_EQ(a->profiles.size(), 2U);
    EXPECT_EQ(a->find_profile("p_2")->max_age_rating, 12);
    EXPECT_EQ(a->find_profile("p_3"), nullptr);
}

TEST(CatalogCodecTest, DecodesAContent) {
    const auto c = decode_content(kContent);
    ASSERT_TRUE(c.has_value());
    EXPECT_DOUBLE_EQ(c->duration_sec, 7012.4);
    EXPECT_EQ(c->credits_start_sec, 6800.0);
    EXPECT_FALSE(c->window_end_ms.has_value());
    ASSERT_TRUE(c->geo_allow.has_value());
    EXPECT_EQ(c->geo_allow->size(), 2U);
    ASSERT_EQ(c->renditions.size(), 1U);
    EXPECT_EQ(c->renditions[0].hdr, "hdr10");
    EXPECT_EQ(c->audio[0].lang, "ko");
    EXPECT_EQ(c->subtitles[0].path, "/vod/m_1/subs/ko.vtt");
}

TEST(CatalogCodecTest, RejectsGarbageAndMistypedFields) {
    EXPECT_FALSE(decode_account("not json").has_value());
    EXPECT_FALSE(decode_account("[]").has_value());
    EXPECT_FALSE(decode_account(R"({"id":"a_1"})").has_value());
    std::string bad = kAccount;
    bad.replace(bad.find("\"rank\":3"), 8, "\"rank\":\"3\"");
    EXPECT_FALSE(decode_account(bad).has_value());
    EXPECT_FALSE(decode_content(R"({"id":"m_1","kind":"movie"})").has_value());
    std::string bad_geo = kContent;
    bad_geo.replace(bad_geo.find("[\"KR\",\"JP\"]"), 11, "\"KR\"");
    EXPECT_FALSE(decode_content(bad_geo).has_value());
}

// --- Numbers: every refusal names its field (issue 10) ----------------------------------------

/// @p doc with the first occurrence of @p from replaced by @p to (the test fails if absent).
std::string with(std::string doc, std::string_view from, std::string_view to) {
    const auto at = doc.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) {
        doc.replace(at, from.size(), to);
    }
    return doc;
}

struct BadNumber {
    const char* name;
    std::string_view from;
    std::string_view to;
    std::string_view field;  ///< the field the refusal must name
};

class ContentNumbersTest : public ::testing::TestWithParam<BadNumber> {};

TEST_P(ContentNumbersTest, RefusesTheDocumentAndNamesTheField) {
    const BadNumber& b = GetParam();
    const std::string doc = with(kContent, b.from, b.to);
    const auto c = check_content(doc);
    ASSERT_FALSE(c.has_value()) << doc;
    EXPECT_EQ(c.error().field, b.field) << c.error().rule;
    EXPECT_FALSE(c.error().rule.empty());
    EXPECT_FALSE(decode_content(doc).has_value());
    EXPECT_EQ(decode_content(doc).error(), core::make_error(core::Errc::kProtocolError));
}

INSTANTIATE_TEST_SUITE_P(
    Refusals,
    ContentNumbersTest,
    ::testing::Values(
        BadNumber{"DurationZero", "\"duration_sec\":7012.4", "\"duration_sec\":0", "duration_sec"},
        BadNumber{"DurationNegativeZero", "\"duration_sec\":7012.4", "\"duration_sec\":-0.0", "duration_sec"},
        BadNumber{"DurationNegative", "\"duration_sec\":7012.4", "\"duration_sec\":-5", "duration_sec"},
        BadNumber{"DurationOverAWeek", "\"duration_sec\":7012.4", "\"duration_sec\":604800.5", "duration_sec"},
        BadNumber{"DurationHuge", "\"duration_sec\":7012.4", "\"duration_sec\":1e300", "duration_sec"},
        BadNumber{"DurationOverflowsToInfinity", "\"duration_sec\":7012.4", "\"duration_sec\":1e999", "duration_sec"},
        BadNumber{"DurationString", "\"duration_sec\":7012.4", "\"duration_sec\":\"7012\"", "duration_sec"},
        BadNumber{"DurationNull", "\"duration_sec\":7012.4", "\"duration_sec\":null", "duration_sec"},
        BadNumber{"CreditsNegative", "\"credits_start_sec\":6800.0", "\"credits_start_sec\":-1", "credits_start_sec"},
        BadNumber{"CreditsAfterTheEnd", "\"credits_start_sec\":6800.0", "\"credits_start_sec\":7012.5", "credits_start_sec"},
        BadNumber{"CreditsHuge", "\"credits_start_sec\":6800.0", "\"credits_start_sec\":1e308", "credits_start_sec"},
        BadNumber{"CreditsBool", "\"credits_start_sec\":6800.0", "\"credits_start_sec\":true", "credits_start_sec"},
        BadNumber{"WindowStartNegative", "\"window_start_ms\":0", "\"window_start_ms\":-1", "window_start_ms"},
        BadNumber{"WindowStartFractional", "\"window_start_ms\":0", "\"window_start_ms\":0.5", "window_start_ms"},
        BadNumber{"WindowStartPastYear9999", "\"window_start_ms\":0", "\"window_start_ms\":253402300800000", "window_start_ms"},
        BadNumber{"WindowStartBeyondInt64", "\"window_start_ms\":0", "\"window_start_ms\":18446744073709551615", "window_start_ms"},
        BadNumber{"WindowEndBeforeStart", "\"window_start_ms\":0,\"window_end_ms\":null", "\"window_start_ms\":2000,\"window_end_ms\":1999", "window_end_ms"},
        BadNumber{"WindowEndNegative", "\"window_end_ms\":null", "\"window_end_ms\":-1", "window_end_ms"},
        BadNumber{"WindowEndHuge", "\"window_end_ms\":null", "\"window_end_ms\":1e20", "window_end_ms"},
        BadNumber{"AgeRatingNegative", "\"age_rating\":15", "\"age_rating\":-1", "age_rating"},
        BadNumber{"AgeRatingHuge", "\"age_rating\":15", "\"age_rating\":4294967296", "age_rating"},
        BadNumber{"AgeRatingFractional", "\"age_rating\":15", "\"age_rating\":15.5", "age_rating"},
        BadNumber{"RenditionHeightZero", "\"max_height\":2160,\"hdr\"", "\"max_height\":0,\"hdr\"", "renditions[].max_height"},
        BadNumber{"RenditionHeightNegative", "\"max_height\":2160,\"hdr\"", "\"max_height\":-1080,\"hdr\"", "renditions[].max_height"},
        BadNumber{"RenditionHeightHuge", "\"max_height\":2160,\"hdr\"", "\"max_height\":100000,\"hdr\"", "renditions[].max_height"},
        BadNumber{"RenditionHeightFractional", "\"max_height\":2160,\"hdr\"", "\"max_height\":1080.5,\"hdr\"", "renditions[].max_height"},
        BadNumber{"AudioChannelsZero", "\"channels\":2", "\"channels\":0", "audio[].channels"},
        BadNumber{"AudioChannelsHuge", "\"channels\":2", "\"channels\":65", "audio[].channels"},
        BadNumber{"AudioChannelsString", "\"channels\":2", "\"channels\":\"2\"", "audio[].channels"}),
    [](const ::testing::TestParamInfo<BadNumber>& p) { return std::string(p.param.name); });

class AccountNumbersTest : public ::testing::TestWithParam<BadNumber> {};

TEST_P(AccountNumbersTest, RefusesTheDocumentAndNamesTheField) {
    const BadNumber& b = GetParam();
    const std::string doc = with(kAccount, b.from, b.to);
    const auto a = check_account(doc);
    ASSERT_FALSE(a.has_value()) << doc;
    EXPECT_EQ(a.error().field, b.field) << a.error().rule;
    EXPECT_FALSE(a.error().rule.empty());
    EXPECT_EQ(decode_account(doc).error(), core::make_error(core::Errc::kProtocolError));
}

INSTANTIATE_TEST_SUITE_P(
    Refusals,
    AccountNumbersTest,
    ::testing::Values(
        BadNumber{"MaxStreamsZero", "\"max_streams\":4", "\"max_streams\":0", "plan.max_streams"},
        BadNumber{"MaxStreamsNegative", "\"max_streams\":4", "\"max_streams\":-1", "plan.max_streams"},
        BadNumber{"MaxStreamsOverTheMax", "\"max_streams\":4", "\"max_streams\":101", "plan.max_streams"},
        BadNumber{"MaxStreamsHuge", "\"max_streams\":4", "\"max_streams\":1000000000", "plan.max_streams"},
        BadNumber{"MaxStreamsFractional", "\"max_streams\":4", "\"max_streams\":2.5", "plan.max_streams"},
        BadNumber{"PlanHeightZero", "\"max_height\":2160", "\"max_height\":0", "plan.max_height"},
        BadNumber{"PlanHeightHuge", "\"max_height\":2160", "\"max_height\":8641", "plan.max_height"},
        BadNumber{"RankNegative", "\"rank\":3", "\"rank\":-3", "plan.rank"},
        BadNumber{"RankHuge", "\"rank\":3", "\"rank\":1001", "plan.rank"},
        BadNumber{"PaidUntilNegative", "\"paid_until_ms\":4102444800000", "\"paid_until_ms\":-1", "paid_until_ms"},
        BadNumber{"PaidUntilPastYear9999", "\"paid_until_ms\":4102444800000", "\"paid_until_ms\":253402300800000", "paid_until_ms"},
        BadNumber{"PaidUntilFractional", "\"paid_until_ms\":4102444800000", "\"paid_until_ms\":4102444800000.5", "paid_until_ms"},
        BadNumber{"PaidUntilOverflows", "\"paid_until_ms\":4102444800000", "\"paid_until_ms\":1e400", "paid_until_ms"},
        BadNumber{"ProfileAgeNegative", "\"max_age_rating\":19", "\"max_age_rating\":-19", "profiles[].max_age_rating"},
        BadNumber{"ProfileAgeHuge", "\"max_age_rating\":19", "\"max_age_rating\":100", "profiles[].max_age_rating"}),
    [](const ::testing::TestParamInfo<BadNumber>& p) { return std::string(p.param.name); });

// The bounds themselves are accepted: the refusals above are the edges, not the middle.
TEST(CatalogCodecTest, AcceptsEveryBoundInclusive) {
    std::string c = with(kContent, "\"duration_sec\":7012.4", "\"duration_sec\":604800");
    c = with(c, "\"credits_start_sec\":6800.0", "\"credits_start_sec\":604800");
    c = with(c, "\"window_start_ms\":0,\"window_end_ms\":null",
             "\"window_start_ms\":253402300799999,\"window_end_ms\":253402300799999");
    c = with(c, "\"max_height\":2160,\"hdr\"", "\"max_height\":8640,\"hdr\"");
    c = with(c, "\"channels\":2", "\"channels\":64");
    c = with(c, "\"age_rating\":15", "\"age_rating\":99");
    const auto content = check_content(c);
    ASSERT_TRUE(content.has_value()) << content.error().field << " " << content.error().rule;
    EXPECT_DOUBLE_EQ(content->duration_sec, 604800);
    EXPECT_EQ(content->credits_start_sec, 604800.0);
    EXPECT_EQ(content->window_end_ms, 253402300799999);
    EXPECT_EQ(content->renditions[0].max_height, 8640);
    EXPECT_EQ(content->audio[0].channels, 64);

    const std::string tiny = with(kContent, "\"duration_sec\":7012.4,\n  \"credits_start_sec\":6800.0",
                                  "\"duration_sec\":0.001,\n  \"credits_start_sec\":0");
    EXPECT_TRUE(check_content(tiny).has_value());
    // An integral double is an integer (some encoders write 4.0).
    EXPECT_EQ(check_content(with(kContent, "\"window_start_ms\":0", "\"window_start_ms\":1.0e3"))->window_start_ms, 1000);

    std::string a = with(kAccount, "\"max_streams\":4", "\"max_streams\":100");
    a = with(a, "\"max_height\":2160", "\"max_height\":1");
    a = with(a, "\"rank\":3", "\"rank\":0");
    a = with(a, "\"paid_until_ms\":4102444800000", "\"paid_until_ms\":0");
    a = with(a, "\"max_age_rating\":19", "\"max_age_rating\":99");
    const auto account = check_account(a);
    ASSERT_TRUE(account.has_value()) << account.error().field << " " << account.error().rule;
    EXPECT_EQ(account->plan.max_streams, 100);
    EXPECT_EQ(check_account(with(kAccount, "\"max_streams\":4", "\"max_streams\":1"))->plan.max_streams, 1);
}

TEST(CatalogCodecTest, NamesTheFieldOfNonNumericRefusalsToo) {
    EXPECT_EQ(check_account("[]").error().field, "");
    EXPECT_EQ(check_account(R"({"id":"a_1"})").error().field, "status");
    EXPECT_EQ(check_content(R"({"id":"m_1","kind":"movie"})").error().field, "duration_sec");
    EXPECT_EQ(check_content(with(kContent, "[\"KR\",\"JP\"]", "\"KR\"")).error().field, "geo_allow");
    EXPECT_EQ(check_content(with(kContent, "\"video_codec\":\"hevc\"", "\"video_codec\":7")).error().field,
              "renditions[].video_codec");
    EXPECT_EQ(check_account(with(kAccount, "\"uhd\":true", "\"uhd\":1")).error().field, "plan.uhd");
}

}  // namespace
}  // namespace moneta::domain
