#include "domain/tracks.hpp"

#include <gtest/gtest.h>

namespace moneta::domain {
namespace {

Content titled(std::vector<std::string> audio, std::vector<std::string> subtitles) {
    Content c;
    c.id = "m_1";
    for (std::string& lang : audio) {
        c.audio.push_back(AudioTrack{std::move(lang), "aac", 2});
    }
    for (std::string& lang : subtitles) {
        c.subtitles.push_back(SubtitleTrack{lang, "webvtt", "/vod/m_1/subs/" + lang + ".vtt"});
    }
    return c;
}

TEST(TracksTest, WithoutPreferencesTheOriginalAudioPlaysAndSubtitlesAreOff) {
    const TrackChoice t =
        choose_tracks(titled({"ko", "en"}, {"ko", "en"}), std::nullopt, std::nullopt);
    EXPECT_EQ(t.audio_default, 0U);
    EXPECT_EQ(t.subtitle_default, std::nullopt);
}

TEST(TracksTest, ExactLanguageTagIsChosen) {
    const Content c = titled({"ko", "en", "ja"}, {"ko", "en", "ja"});
    const TrackChoice t = choose_tracks(c, std::string("ja"), std::string("en"));
    EXPECT_EQ(t.audio_default, 2U);
    EXPECT_EQ(t.subtitle_default, 1U);
}

TEST(TracksTest, PrimaryLanguageMatchesInBothDirections) {
    // "pt" asks for any Portuguese; "pt-PT" accepts "pt-BR" when that is all there is.
    const Content c = titled({"ko", "pt-BR"}, {"ko", "pt-BR"});
    EXPECT_EQ(choose_tracks(c, std::string("pt"), std::nullopt).audio_default, 1U);
    EXPECT_EQ(choose_tracks(c, std::string("pt-PT"), std::nullopt).audio_default, 1U);
    EXPECT_EQ(choose_tracks(c, std::nullopt, std::string("pt")).subtitle_default, 1U);
    const Content plain = titled({"ko", "pt"}, {"ko", "pt"});
    EXPECT_EQ(choose_tracks(plain, std::string("pt-BR"), std::string("pt-BR")).audio_default, 1U);
    EXPECT_EQ(
        choose_tracks(plain, std::string("pt-BR"), std::string("pt-BR")).subtitle_default, 1U
    );
}

TEST(TracksTest, ExactMatchBeatsAnEarlierPrimaryLanguageMatch) {
    const Content c = titled({"pt-PT", "pt-BR"}, {"pt-PT", "pt-BR"});
    const TrackChoice t = choose_tracks(c, std::string("pt-BR"), std::string("pt-BR"));
    EXPECT_EQ(t.audio_default, 1U);
    EXPECT_EQ(t.subtitle_default, 1U);
}

TEST(TracksTest, PrimaryLanguageIsTheWholeFirstSubtag) {
    // "en" must not match "eng" (a different code), nor "e" anything.
    const Content c = titled({"ko", "eng"}, {"ko", "eng"});
    const TrackChoice t = choose_tracks(c, std::string("en"), std::string("en"));
    EXPECT_EQ(t.audio_default, 0U);
    EXPECT_EQ(t.subtitle_default, std::nullopt);
}

TEST(TracksTest, UnavailableLanguageFallsBackToOriginalAudioAndNoSubtitles) {
    const Content c = titled({"ko", "en"}, {"ko", "en"});
    const TrackChoice t = choose_tracks(c, std::string("fr"), std::string("fr"));
    EXPECT_EQ(t.audio_default, 0U);
    EXPECT_EQ(t.subtitle_default, std::nullopt);
}

TEST(TracksTest, TitleWithoutTracksHasNoDefaults) {
    const TrackChoice t = choose_tracks(titled({}, {}), std::string("ko"), std::string("ko"));
    EXPECT_EQ(t.audio_default, 0U);  // an index into an empty list: nothing is marked
    EXPECT_EQ(t.subtitle_default, std::nullopt);
}

}  // namespace
}  // namespace moneta::domain
