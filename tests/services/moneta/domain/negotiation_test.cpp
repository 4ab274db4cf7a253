#include "domain/negotiation.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace moneta::domain {
namespace {

// Plans exactly as fixtures/demo.json defines them (api.md §7).
const Plan kBasic{"basic", 1, 1, 720, false, false};
const Plan kStandard{"standard", 2, 2, 1080, false, false};
const Plan kPremium{"premium", 3, 4, 2160, true, true};

Rendition rendition(
    std::string protocol,
    std::vector<std::string> drm,
    std::string codec,
    int height,
    std::optional<std::string> hdr,
    std::string path
) {
    return Rendition{
        std::move(protocol),
        std::move(drm),
        std::move(codec),
        height,
        std::move(hdr),
        std::move(path)};
}

// The fixtures' m_1 (api.md §7): HDR hevc 2160 DASH, avc 1080 DASH, avc 1080 HLS/FairPlay.
Content m_1() {
    Content c;
    c.id = "m_1";
    c.kind = "movie";
    c.duration_sec = 7012.4;
    c.drm_cid = "m_1";
    c.renditions = {
        rendition(
            "dash",
            {"widevine", "playready"},
            "hevc",
            2160,
            "hdr10",
            "/vod/m_1/hevc_2160/manifest.mpd"
        ),
        rendition(
            "dash",
            {"widevine", "playready"},
            "avc",
            1080,
            std::nullopt,
            "/vod/m_1/avc_1080/manifest.mpd"
        ),
        rendition("hls", {"fairplay"}, "avc", 1080, std::nullopt, "/vod/m_1/avc_1080/master.m3u8"),
    };
    c.audio = {AudioTrack{"ko", "aac", 2}, AudioTrack{"en", "aac", 6}};
    c.subtitles = {
        SubtitleTrack{"ko", "webvtt", "/vod/m_1/subs/ko.vtt"},
        SubtitleTrack{"en", "webvtt", "/vod/m_1/subs/en.vtt"}};
    return c;
}

/// m_1 kept for the whole test run: a selection views the title it was chosen from.
const Content& fixture_title() {
    static const Content title = m_1();
    return title;
}

Content with(std::vector<Rendition> renditions) {
    Content c;
    c.id = "t_1";
    c.drm_cid = "cid_t_1";
    c.renditions = std::move(renditions);
    return c;
}

// Capability sets shaped like real players.
Capabilities android_phone() {  // ExoPlayer on a 1080p phone with HDR10
    return Capabilities{{"dash"}, {"widevine"}, {"avc", "hevc"}, {"hdr10"}, 1080};
}
Capabilities ios_device() {  // AVPlayer: HLS + FairPlay only
    return Capabilities{{"hls"}, {"fairplay"}, {"avc", "hevc"}, {"hdr10", "dolby_vision"}, 2160};
}
Capabilities web_chrome() {  // Chrome on a laptop: Widevine L3, SDR
    return Capabilities{{"dash", "hls"}, {"widevine"}, {"avc"}, {}, 1080};
}
Capabilities tv() {  // a 4K HDR TV
    return Capabilities{
        {"dash", "hls"},
        {"playready", "widevine"},
        {"avc", "hevc", "av1"},
        {"hdr10", "dolby_vision"},
        2160};
}
// Everything, clear and encrypted; used by the synthetic cases.
Capabilities all_caps(int max_height = 2160) {
    return Capabilities{
        {"dash", "hls"},
        {"widevine", "playready", "fairplay"},
        {"avc", "hevc", "av1"},
        {"hdr10", "dolby_vision"},
        max_height};
}

// --- the fixture title on the fixture plans and real device shapes -------------------------

TEST(NegotiationTest, PremiumTvGetsTheUhdHdrHevcRendition) {
    const auto s = select_stream(fixture_title(), kPremium, tv());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->protocol, "dash");
    EXPECT_EQ(s->drm_system, "playready");  // the TV lists playready first
    EXPECT_EQ(s->video_codec, "hevc");
    EXPECT_EQ(s->max_height, 2160);
    EXPECT_EQ(s->hdr, "hdr10");
    EXPECT_EQ(s->path, "/vod/m_1/hevc_2160/manifest.mpd");
    EXPECT_EQ(s->drm_cid, "m_1");
}

TEST(NegotiationTest, StandardTvIsCappedAt1080AndGetsNoHdr) {
    const auto s = select_stream(fixture_title(), kStandard, tv());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->protocol, "dash");  // dash before hls in the TV's list
    EXPECT_EQ(s->video_codec, "avc");
    EXPECT_EQ(s->max_height, 1080);
    EXPECT_EQ(s->hdr, std::nullopt);
    EXPECT_EQ(s->path, "/vod/m_1/avc_1080/manifest.mpd");
}

TEST(NegotiationTest, BasicPlanFallsBackToAnOverCapRenditionWithACappedHeight) {
    // m_1 has nothing at or below 720: the 1080 ladder plays, limited to 720 by the player.
    const auto s = select_stream(fixture_title(), kBasic, tv());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->video_codec, "avc");
    EXPECT_EQ(s->max_height, 720);
    EXPECT_EQ(s->hdr, std::nullopt);
    EXPECT_EQ(s->path, "/vod/m_1/avc_1080/manifest.mpd");
}

TEST(NegotiationTest, IosGetsHlsWithFairPlay) {
    for (const Plan& plan : {kBasic, kStandard, kPremium}) {
        const auto s = select_stream(fixture_title(), plan, ios_device());
        ASSERT_TRUE(s.has_value()) << plan.id;
        EXPECT_EQ(s->protocol, "hls") << plan.id;
        EXPECT_EQ(s->drm_system, "fairplay") << plan.id;
        EXPECT_EQ(s->path, "/vod/m_1/avc_1080/master.m3u8") << plan.id;
        EXPECT_EQ(s->max_height, std::min(plan.max_height, 1080)) << plan.id;
    }
}

TEST(NegotiationTest, AndroidPhoneOnPremiumPrefersTheRenditionWithinItsScreen) {
    // The HDR 2160 rendition is eligible but over the 1080 device cap; the 1080 one fits.
    const auto s = select_stream(fixture_title(), kPremium, android_phone());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->drm_system, "widevine");
    EXPECT_EQ(s->video_codec, "avc");
    EXPECT_EQ(s->max_height, 1080);
    EXPECT_EQ(s->hdr, std::nullopt);
    EXPECT_EQ(s->path, "/vod/m_1/avc_1080/manifest.mpd");
}

TEST(NegotiationTest, WebChromeGetsDashWidevineAvc) {
    const auto s = select_stream(fixture_title(), kPremium, web_chrome());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->protocol, "dash");
    EXPECT_EQ(s->drm_system, "widevine");
    EXPECT_EQ(s->video_codec, "avc");
    EXPECT_EQ(s->max_height, 1080);
}

TEST(NegotiationTest, DeviceWithoutAMatchingDrmGetsNothing) {
    // HLS with Widevine only (no FairPlay) and no DASH: no rendition of m_1 is playable.
    const Capabilities caps{{"hls"}, {"widevine"}, {"avc", "hevc"}, {}, 1080};
    EXPECT_EQ(select_stream(fixture_title(), kPremium, caps), std::nullopt);
}

// --- eligibility ---------------------------------------------------------------------------

TEST(NegotiationTest, ProtocolAndCodecMustBothBeListedByTheDevice) {
    const Content c = with({rendition("dash", {}, "hevc", 1080, std::nullopt, "/p/a.mpd")});
    EXPECT_EQ(
        select_stream(c, kPremium, Capabilities{{"hls"}, {}, {"hevc"}, {}, 2160}), std::nullopt
    );
    EXPECT_EQ(
        select_stream(c, kPremium, Capabilities{{"dash"}, {}, {"avc"}, {}, 2160}), std::nullopt
    );
    EXPECT_TRUE(
        select_stream(c, kPremium, Capabilities{{"dash"}, {}, {"hevc"}, {}, 2160}).has_value()
    );
}

TEST(NegotiationTest, NoRenditionsMeansNoCompatibleStream) {
    const Content empty = with({});
    EXPECT_EQ(select_stream(empty, kPremium, all_caps()), std::nullopt);
}

TEST(NegotiationTest, ClearContentIsDrmNoneEvenForDevicesWithoutDrm) {
    const Content c = with({rendition("dash", {}, "avc", 720, std::nullopt, "/p/a.mpd")});
    const auto none = select_stream(c, kPremium, Capabilities{{"dash"}, {}, {"avc"}, {}, 1080});
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(none->drm_system, "none");
    const auto with_drm = select_stream(c, kPremium, all_caps());
    ASSERT_TRUE(with_drm.has_value());
    EXPECT_EQ(with_drm->drm_system, "none");
    EXPECT_EQ(with_drm->drm_cid, "cid_t_1");
}

TEST(NegotiationTest, DrmIsTheDevicesFirstListedSystemTheRenditionOffers) {
    const Content c =
        with({rendition("dash", {"widevine", "playready"}, "avc", 1080, std::nullopt, "/p/a.mpd")});
    Capabilities caps{{"dash"}, {"fairplay", "playready", "widevine"}, {"avc"}, {}, 1080};
    EXPECT_EQ(select_stream(c, kPremium, caps)->drm_system, "playready");
    caps.drm = {"widevine", "playready"};
    EXPECT_EQ(select_stream(c, kPremium, caps)->drm_system, "widevine");
    caps.drm = {"fairplay"};
    EXPECT_EQ(select_stream(c, kPremium, caps), std::nullopt);
    caps.drm = {};
    EXPECT_EQ(select_stream(c, kPremium, caps), std::nullopt);
}

TEST(NegotiationTest, HdrNeedsThePlansHdrAndTheDevicesFormat) {
    const Content c = with({rendition("dash", {}, "hevc", 2160, "dolby_vision", "/p/dv.mpd")});
    Capabilities caps = all_caps();
    EXPECT_EQ(select_stream(c, kPremium, caps)->hdr, "dolby_vision");
    caps.hdr = {"hdr10"};  // supports HDR, but not this format
    EXPECT_EQ(select_stream(c, kPremium, caps), std::nullopt);
    caps.hdr = {};
    EXPECT_EQ(select_stream(c, kPremium, caps), std::nullopt);
    Plan uhd_no_hdr = kPremium;
    uhd_no_hdr.hdr = false;
    EXPECT_EQ(select_stream(c, uhd_no_hdr, all_caps()), std::nullopt);
}

// --- preference order ----------------------------------------------------------------------

TEST(NegotiationTest, HdrWinsOverSdrAtTheSameHeightOnlyWhenAllowed) {
    const Content c = with({
        rendition("dash", {}, "hevc", 2160, std::nullopt, "/p/sdr.mpd"),
        rendition("dash", {}, "hevc", 2160, "hdr10", "/p/hdr.mpd"),
    });
    EXPECT_EQ(select_stream(c, kPremium, all_caps())->path, "/p/hdr.mpd");
    Plan no_hdr = kPremium;
    no_hdr.hdr = false;
    EXPECT_EQ(select_stream(c, no_hdr, all_caps())->path, "/p/sdr.mpd");
    Capabilities sdr_device = all_caps();
    sdr_device.hdr = {};
    EXPECT_EQ(select_stream(c, kPremium, sdr_device)->path, "/p/sdr.mpd");
    // HDR outranks the more efficient codec too.
    const Content mixed = with({
        rendition("dash", {}, "av1", 2160, std::nullopt, "/p/av1_sdr.mpd"),
        rendition("dash", {}, "hevc", 2160, "hdr10", "/p/hevc_hdr.mpd"),
    });
    EXPECT_EQ(select_stream(mixed, kPremium, all_caps())->path, "/p/hevc_hdr.mpd");
}

TEST(NegotiationTest, HevcAndAv1ArePreferredOverAvcWhenBothSidesCan) {
    const Content c = with({
        rendition("dash", {}, "avc", 1080, std::nullopt, "/p/avc.mpd"),
        rendition("dash", {}, "hevc", 1080, std::nullopt, "/p/hevc.mpd"),
        rendition("dash", {}, "av1", 1080, std::nullopt, "/p/av1.mpd"),
    });
    Capabilities caps = all_caps(1080);
    EXPECT_EQ(select_stream(c, kPremium, caps)->video_codec, "av1");
    caps.video_codecs = {"avc", "hevc"};
    EXPECT_EQ(select_stream(c, kPremium, caps)->video_codec, "hevc");
    caps.video_codecs = {"avc"};
    EXPECT_EQ(select_stream(c, kPremium, caps)->video_codec, "avc");
    // The device's listing order does not outrank efficiency.
    caps.video_codecs = {"avc", "av1", "hevc"};
    EXPECT_EQ(select_stream(c, kPremium, caps)->video_codec, "av1");
}

TEST(NegotiationTest, GreaterHeightOutranksTheMoreEfficientCodec) {
    const Content c = with({
        rendition("dash", {}, "hevc", 720, std::nullopt, "/p/hevc_720.mpd"),
        rendition("dash", {}, "avc", 1080, std::nullopt, "/p/avc_1080.mpd"),
    });
    const auto s = select_stream(c, kStandard, all_caps());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->path, "/p/avc_1080.mpd");
    EXPECT_EQ(s->max_height, 1080);
}

TEST(NegotiationTest, ProtocolTieIsBrokenByTheDevicesOrder) {
    const Content c = with({
        rendition("dash", {}, "avc", 1080, std::nullopt, "/p/a.mpd"),
        rendition("hls", {}, "avc", 1080, std::nullopt, "/p/a.m3u8"),
    });
    Capabilities caps = all_caps(1080);
    caps.protocols = {"hls", "dash"};
    EXPECT_EQ(select_stream(c, kPremium, caps)->protocol, "hls");
    caps.protocols = {"dash", "hls"};
    EXPECT_EQ(select_stream(c, kPremium, caps)->protocol, "dash");
}

// --- the height cap ------------------------------------------------------------------------

TEST(NegotiationTest, WithinCapRenditionsWinOverOverCapOnes) {
    const Content c = with({
        rendition("dash", {}, "hevc", 2160, std::nullopt, "/p/2160.mpd"),
        rendition("dash", {}, "avc", 720, std::nullopt, "/p/720.mpd"),
        rendition("dash", {}, "avc", 1080, std::nullopt, "/p/1080.mpd"),
    });
    // Standard: non-UHD, cap 1080 → the 1080 rendition (not the capped 2160 one).
    auto s = select_stream(c, kStandard, all_caps());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->path, "/p/1080.mpd");
    EXPECT_EQ(s->max_height, 1080);
    // Basic: cap 720 → the 720 rendition even though 1080 and 2160 exist.
    s = select_stream(c, kBasic, all_caps());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->path, "/p/720.mpd");
    EXPECT_EQ(s->max_height, 720);
    // Premium on a 4K device: everything fits, the tallest wins.
    s = select_stream(c, kPremium, all_caps());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->path, "/p/2160.mpd");
    EXPECT_EQ(s->max_height, 2160);
}

TEST(NegotiationTest, DeviceMaxHeightCapsTheSelection) {
    const Content c = with({
        rendition("dash", {}, "avc", 480, std::nullopt, "/p/480.mpd"),
        rendition("dash", {}, "avc", 1080, std::nullopt, "/p/1080.mpd"),
    });
    auto s = select_stream(c, kPremium, all_caps(720));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->path, "/p/480.mpd");
    EXPECT_EQ(s->max_height, 480);
    // Only an over-cap rendition: it plays, limited to the device's height.
    const Content over_cap = with({rendition("dash", {}, "avc", 1080, std::nullopt, "/p/1080.mpd")});
    s = select_stream(over_cap, kPremium, all_caps(720));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->max_height, 720);
}

TEST(NegotiationTest, PlanMaxHeightCapsTheSelection) {
    const Plan uhd_1440{"custom", 3, 4, 1440, true, false};
    const Content c = with({
        rendition("dash", {}, "avc", 2160, std::nullopt, "/p/2160.mpd"),
        rendition("dash", {}, "avc", 1440, std::nullopt, "/p/1440.mpd"),
    });
    const auto s = select_stream(c, uhd_1440, all_caps());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->path, "/p/1440.mpd");
    EXPECT_EQ(s->max_height, 1440);
}

TEST(NegotiationTest, NonUhdPlanIsCappedAt1080WhateverItsMaxHeight) {
    // A misconfigured plan (max_height 2160 without uhd) still gets at most 1080.
    const Plan odd{"odd", 2, 2, 2160, false, false};
    const Content only_uhd =
        with({rendition("dash", {}, "hevc", 2160, std::nullopt, "/p/2160.mpd")});
    const auto s = select_stream(only_uhd, odd, all_caps());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->max_height, 1080);
    EXPECT_EQ(s->path, "/p/2160.mpd");
}

TEST(NegotiationTest, PlanWithoutMaxHeightDefaultsTo1080) {
    const Plan unset{"unset", 3, 4, 0, true, true};
    const Content c = with({rendition("dash", {}, "hevc", 2160, std::nullopt, "/p/2160.mpd")});
    const auto s = select_stream(c, unset, all_caps());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->max_height, 1080);
}

// --- the stored form -----------------------------------------------------------------------

TEST(NegotiationTest, SelectionRoundTripsThroughItsText) {
    const StreamSelection hdr{
        "dash", "widevine", "hevc", 2160, "hdr10", "/vod/m_1/hevc_2160/manifest.mpd", "m_1"};
    EXPECT_EQ(
        encode_selection(hdr), "dash|widevine|hevc|2160|hdr10|/vod/m_1/hevc_2160/manifest.mpd|m_1"
    );
    const std::string hdr_text = encode_selection(hdr);
    EXPECT_EQ(decode_selection(hdr_text), hdr);

    const StreamSelection clear{
        "hls", "none", "avc", 720, std::nullopt, "/vod/t/avc/master.m3u8", ""};
    const std::string clear_text = encode_selection(clear);  // the decoded selection views it
    const auto back = decode_selection(clear_text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, clear);
    EXPECT_FALSE(back->hdr.has_value());

    // Whatever select_stream produces survives the trip.
    const auto chosen = select_stream(fixture_title(), kPremium, tv());
    ASSERT_TRUE(chosen.has_value());
    const std::string chosen_text = encode_selection(*chosen);
    EXPECT_EQ(decode_selection(chosen_text), chosen);
}

TEST(NegotiationTest, MalformedSelectionTextIsRejected) {
    for (const char* text : {
             "",
             "garbage",
             "dash|widevine|hevc|2160|hdr10|/p",        // 6 fields
             "dash|widevine|hevc|2160|hdr10|/p|m_1|x",  // 8 fields
             "dash|widevine|hevc|tall|hdr10|/p|m_1",    // height not a number
             "dash|widevine|hevc|2160px|hdr10|/p|m_1",  // trailing junk after the height
             "dash|widevine|hevc||hdr10|/p|m_1",        // empty height
             "|widevine|hevc|2160|hdr10|/p|m_1",        // no protocol
             "dash|widevine|hevc|2160|hdr10||m_1",      // no manifest path
         }) {
        EXPECT_EQ(decode_selection(std::string_view(text)), std::nullopt) << text;
    }
}

// --- delivery root -------------------------------------------------------------------------

}  // namespace
}  // namespace moneta::domain
