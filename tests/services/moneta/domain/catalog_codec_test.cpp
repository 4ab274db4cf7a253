#include "domain/catalog_codec.hpp"

#include <gtest/gtest.h>

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

TEST(CatalogCodecTest, RejectsNegativeDurationsAndCredits) {
    // Fuzz consistency fix (docs/fuzzing.md): a negative duration would be written into the
    // stored progress values, which decode_progress_value refuses, hiding the position.
    std::string neg = kContent;
    neg.replace(neg.find("\"duration_sec\":7012.4"), 20, "\"duration_sec\":-1.0");
    EXPECT_FALSE(decode_content(neg).has_value()) << neg;
    std::string neg_credits = kContent;
    neg_credits.replace(neg_credits.find("6800.0"), 6, "-0.5");
    EXPECT_FALSE(decode_content(neg_credits).has_value()) << neg_credits;
    std::string zero = kContent;
    zero.replace(zero.find("7012.4"), 6, "0");
    EXPECT_TRUE(decode_content(zero).has_value()) << zero;
}

}  // namespace
}  // namespace moneta::domain
