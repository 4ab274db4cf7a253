#include "domain/responses.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "domain/json_writer.hpp"

namespace moneta::domain {
namespace {

namespace json = boost::json;

constexpr std::int64_t kNow = 1'764'000'000'000;

std::set<std::string> keys_of(const json::object& o) {
    std::set<std::string> out;
    for (const auto& kv : o) {
        out.emplace(kv.key());
    }
    return out;
}

/// Everything a start response is built from, shaped like the fixtures' m_1 on a TV.
struct StartParts {
    std::string session_id = "ps_0123456789";
    LeaseGranted lease{kNow + 90'000, 2, ""};
    Content content;
    StreamBlock stream;
    DrmBlock drm;
    TrackChoice tracks{1, std::nullopt};
    std::string cdn_base_url = "https://cdn.moneta.local";

    StartParts() {
        content.id = "m_1";
        content.kind = "movie";
        content.duration_sec = 7012.4;
        content.credits_start_sec = 6800.0;
        content.audio = {AudioTrack{"ko", "aac", 2}, AudioTrack{"en", "aac", 6}};
        content.subtitles = {
            SubtitleTrack{"ko", "webvtt", "/vod/m_1/subs/ko.vtt"},
            SubtitleTrack{"en", "webvtt", "/vod/m_1/subs/en.vtt"}};
        stream.protocol = "dash";
        stream.manifest_url =
            "https://cdn.moneta.local/vod/m_1/hevc_2160/"
            "manifest.mpd?Expires=1764000600&Signature=a~b_&Key-Pair-Id=K";
        stream.cookie_slots = {
            CdnCookie{"CloudFront-Policy", "pol", "cdn.moneta.local", "/vod/m_1/"},
            CdnCookie{"CloudFront-Signature", "sig", "cdn.moneta.local", "/vod/m_1/"},
            CdnCookie{"CloudFront-Key-Pair-Id", "K", "cdn.moneta.local", "/vod/m_1/"}};
        stream.cookie_count = 3;
        stream.expires_at_ms = kNow + 600'000;
        stream.video_codec = "hevc";
        stream.max_height = 2160;
        stream.hdr = "hdr10";
        drm.system = "widevine";
        drm.license_url = "https://license.pallycon.com/ri/licenseManager.do";
        drm.header_name = "pallycon-customdata-v2";
        drm.token = "eyJ0b2tlbiI6MX0=";
        drm.token_expires_at_ms = kNow + 300'000;
    }

    StartView view() const {
        return StartView{
            session_id, lease, 30, content, 1847.0, stream, drm, tracks, cdn_base_url, 4, kNow};
    }
    json::object parse() const { return json::parse(start_response(view())).as_object(); }
};

// --- start ---------------------------------------------------------------------------------

TEST(ResponsesTest, StartHasExactlyTheContractsTopLevelFields) {
    const json::object v = StartParts{}.parse();
    EXPECT_EQ(
        keys_of(v),
        (std::set<std::string>{
            "session_id",
            "lease",
            "content",
            "resume_position_sec",
            "stream",
            "drm",
            "tracks",
            "limits",
            "server_time_ms"})
    );
    EXPECT_EQ(v.at("session_id").as_string(), "ps_0123456789");
    EXPECT_DOUBLE_EQ(v.at("resume_position_sec").to_number<double>(), 1847.0);
    EXPECT_EQ(v.at("server_time_ms").as_int64(), kNow);
}

TEST(ResponsesTest, StartLeaseContentAndLimits) {
    const json::object v = StartParts{}.parse();
    const json::object& lease = v.at("lease").as_object();
    EXPECT_EQ(keys_of(lease), (std::set<std::string>{"expires_at_ms", "heartbeat_interval_sec"}));
    EXPECT_EQ(lease.at("expires_at_ms").as_int64(), kNow + 90'000);
    EXPECT_EQ(lease.at("heartbeat_interval_sec").as_int64(), 30);

    const json::object& content = v.at("content").as_object();
    EXPECT_EQ(
        keys_of(content),
        (std::set<std::string>{"id", "kind", "duration_sec", "credits_start_sec", "next_content_id"}
        )
    );
    EXPECT_EQ(content.at("id").as_string(), "m_1");
    EXPECT_EQ(content.at("kind").as_string(), "movie");
    EXPECT_DOUBLE_EQ(content.at("duration_sec").to_number<double>(), 7012.4);
    EXPECT_DOUBLE_EQ(content.at("credits_start_sec").to_number<double>(), 6800.0);
    EXPECT_TRUE(content.at("next_content_id").is_null());

    const json::object& limits = v.at("limits").as_object();
    EXPECT_EQ(limits.at("max_concurrent_streams").as_int64(), 4);
    EXPECT_EQ(limits.at("active_streams").as_int64(), 2);
}

TEST(ResponsesTest, StartContentNullsAndValues) {
    StartParts p;
    p.content.kind = "episode";
    p.content.credits_start_sec.reset();
    p.content.next_content_id = "e_2";
    const json::object v = p.parse();
    const json::object& content = v.at("content").as_object();
    EXPECT_EQ(content.at("kind").as_string(), "episode");
    EXPECT_TRUE(content.at("credits_start_sec").is_null());
    EXPECT_EQ(content.at("next_content_id").as_string(), "e_2");
}

TEST(ResponsesTest, StartStreamBlock) {
    const json::object v = StartParts{}.parse();
    const json::object& s = v.at("stream").as_object();
    EXPECT_EQ(
        keys_of(s),
        (std::set<std::string>{
            "protocol",
            "manifest_url",
            "cdn_cookies",
            "expires_at_ms",
            "video_codec",
            "max_height",
            "hdr"})
    );
    EXPECT_EQ(s.at("protocol").as_string(), "dash");
    EXPECT_EQ(s.at("manifest_url").as_string(), StartParts{}.stream.manifest_url);
    EXPECT_EQ(s.at("expires_at_ms").as_int64(), kNow + 600'000);
    EXPECT_EQ(s.at("video_codec").as_string(), "hevc");
    EXPECT_EQ(s.at("max_height").as_int64(), 2160);
    EXPECT_EQ(s.at("hdr").as_string(), "hdr10");
    const json::array& cookies = s.at("cdn_cookies").as_array();
    ASSERT_EQ(cookies.size(), 3U);
    const json::object& c0 = cookies[0].as_object();
    EXPECT_EQ(keys_of(c0), (std::set<std::string>{"name", "value", "domain", "path"}));
    EXPECT_EQ(c0.at("name").as_string(), "CloudFront-Policy");
    EXPECT_EQ(c0.at("value").as_string(), "pol");
    EXPECT_EQ(c0.at("domain").as_string(), "cdn.moneta.local");
    EXPECT_EQ(c0.at("path").as_string(), "/vod/m_1/");
    EXPECT_EQ(cookies[2].at("name").as_string(), "CloudFront-Key-Pair-Id");
}

TEST(ResponsesTest, SdrStreamHasNullHdrAndAkamaiHasNoCookies) {
    StartParts p;
    p.stream.hdr.reset();
    p.stream.cookie_count = 0;
    p.stream.url_suffix = "?hdnts=st=1~exp=2~acl=/vod/m_1/*~hmac=ab";
    const json::object v = p.parse();
    EXPECT_TRUE(v.at("stream").at("hdr").is_null());
    EXPECT_TRUE(v.at("stream").at("cdn_cookies").as_array().empty());
    EXPECT_FALSE(v.at("stream").as_object().contains("url_suffix"));  // internal only
}

TEST(ResponsesTest, StartDrmBlockCarriesTheLicenseHeader) {
    const json::object v = StartParts{}.parse();
    const json::object& d = v.at("drm").as_object();
    EXPECT_EQ(
        keys_of(d),
        (std::set<std::string>{
            "system", "license_url", "certificate_url", "license_headers", "token_expires_at_ms"})
    );
    EXPECT_EQ(d.at("system").as_string(), "widevine");
    EXPECT_EQ(d.at("license_url").as_string(), "https://license.pallycon.com/ri/licenseManager.do");
    EXPECT_TRUE(d.at("certificate_url").is_null());
    const json::object& headers = d.at("license_headers").as_object();
    ASSERT_EQ(headers.size(), 1U);
    EXPECT_EQ(headers.at("pallycon-customdata-v2").as_string(), "eyJ0b2tlbiI6MX0=");
    EXPECT_EQ(d.at("token_expires_at_ms").as_int64(), kNow + 300'000);
}

TEST(ResponsesTest, FairPlayHasACertificateUrl) {
    StartParts p;
    p.drm.system = "fairplay";
    p.drm.certificate_url = "https://license.pallycon.com/ri/fpsKeyManager.do?siteId=DEMO";
    const json::object v = p.parse();
    EXPECT_EQ(v.at("drm").at("system").as_string(), "fairplay");
    EXPECT_EQ(
        v.at("drm").at("certificate_url").as_string(),
        "https://license.pallycon.com/ri/fpsKeyManager.do?siteId=DEMO"
    );
}

TEST(ResponsesTest, ClearContentHasDrmSystemNoneAndNoLicense) {
    StartParts p;
    p.drm = DrmBlock{};  // what the delivery layer produces for clear content
    const json::object v = p.parse();
    const json::object& d = v.at("drm").as_object();
    EXPECT_EQ(d.at("system").as_string(), "none");
    EXPECT_TRUE(d.at("license_url").is_null());
    EXPECT_TRUE(d.at("certificate_url").is_null());
    EXPECT_TRUE(d.at("license_headers").as_object().empty());
    EXPECT_TRUE(d.at("token_expires_at_ms").is_null());
}

TEST(ResponsesTest, TracksHaveExactlyOneAudioDefault) {
    const json::object v = StartParts{}.parse();
    const json::array& audio = v.at("tracks").at("audio").as_array();
    ASSERT_EQ(audio.size(), 2U);
    EXPECT_EQ(
        keys_of(audio[0].as_object()),
        (std::set<std::string>{"lang", "codec", "channels", "default"})
    );
    EXPECT_EQ(audio[1].at("lang").as_string(), "en");
    EXPECT_EQ(audio[1].at("codec").as_string(), "aac");
    EXPECT_EQ(audio[1].at("channels").as_int64(), 6);
    const auto defaults = std::count_if(audio.begin(), audio.end(), [](const json::value& a) {
        return a.at("default").as_bool();
    });
    EXPECT_EQ(defaults, 1);
    EXPECT_TRUE(audio[1].at("default").as_bool());  // tracks.audio_default == 1
}

TEST(ResponsesTest, SubtitlesAreOffUnlessChosen) {
    StartParts p;
    json::object v = p.parse();
    for (const json::value& s : v.at("tracks").at("subtitles").as_array()) {
        EXPECT_FALSE(s.at("default").as_bool());
    }
    p.tracks.subtitle_default = 0;
    v = p.parse();
    const json::array& subs = v.at("tracks").at("subtitles").as_array();
    ASSERT_EQ(subs.size(), 2U);
    EXPECT_TRUE(subs[0].at("default").as_bool());
    EXPECT_FALSE(subs[1].at("default").as_bool());
}

TEST(ResponsesTest, SubtitleUrlIsBasePlusPathPlusSuffix) {
    StartParts p;
    json::object v = p.parse();
    const json::object& ko = v.at("tracks").at("subtitles").as_array()[0].as_object();
    EXPECT_EQ(keys_of(ko), (std::set<std::string>{"lang", "format", "url", "default"}));
    EXPECT_EQ(ko.at("lang").as_string(), "ko");
    EXPECT_EQ(ko.at("format").as_string(), "webvtt");
    EXPECT_EQ(
        ko.at("url").as_string(), "https://cdn.moneta.local/vod/m_1/subs/ko.vtt"
    );  // cookies: no suffix

    p.stream.url_suffix = "?hdnts=st=1~exp=2~acl=/vod/m_1/*~hmac=ab";
    v = p.parse();
    EXPECT_EQ(
        v.at("tracks").at("subtitles").as_array()[1].at("url").as_string(),
        "https://cdn.moneta.local/vod/m_1/subs/en.vtt?hdnts=st=1~exp=2~acl=/vod/m_1/*~hmac=ab"
    );
}

TEST(ResponsesTest, TitleWithoutTracksHasEmptyLists) {
    StartParts p;
    p.content.audio.clear();
    p.content.subtitles.clear();
    p.tracks = TrackChoice{};
    const json::object v = p.parse();
    EXPECT_TRUE(v.at("tracks").at("audio").as_array().empty());
    EXPECT_TRUE(v.at("tracks").at("subtitles").as_array().empty());
}

// --- refresh, heartbeat, sessions ----------------------------------------------------------

TEST(ResponsesTest, RefreshHasOnlyNewStreamAndDrmBlocks) {
    const StartParts p;
    const json::object v =
        json::parse(refresh_response(p.session_id, p.stream, p.drm, kNow + 1)).as_object();
    EXPECT_EQ(keys_of(v), (std::set<std::string>{"session_id", "stream", "drm", "server_time_ms"}));
    EXPECT_EQ(v.at("session_id").as_string(), "ps_0123456789");
    EXPECT_EQ(v.at("stream").at("manifest_url").as_string(), p.stream.manifest_url);
    EXPECT_EQ(v.at("stream").at("expires_at_ms").as_int64(), kNow + 600'000);
    EXPECT_EQ(v.at("stream").at("cdn_cookies").as_array().size(), 3U);
    EXPECT_EQ(
        v.at("drm").at("license_headers").at("pallycon-customdata-v2").as_string(), p.drm.token
    );
    EXPECT_EQ(v.at("server_time_ms").as_int64(), kNow + 1);

    const json::object clear =
        json::parse(refresh_response("ps_1", p.stream, DrmBlock{}, kNow)).as_object();
    EXPECT_EQ(clear.at("drm").at("system").as_string(), "none");
    EXPECT_TRUE(clear.at("drm").at("license_url").is_null());
}

TEST(ResponsesTest, HeartbeatContinueAndStop) {
    const json::object go =
        json::parse(heartbeat_response(kNow + 90'000, 30, "", kNow)).as_object();
    EXPECT_EQ(
        keys_of(go),
        (std::set<std::string>{
            "lease_expires_at_ms", "heartbeat_interval_sec", "action", "reason", "server_time_ms"})
    );
    EXPECT_EQ(go.at("lease_expires_at_ms").as_int64(), kNow + 90'000);
    EXPECT_EQ(go.at("heartbeat_interval_sec").as_int64(), 30);
    EXPECT_EQ(go.at("action").as_string(), "continue");
    EXPECT_TRUE(go.at("reason").is_null());
    EXPECT_EQ(go.at("server_time_ms").as_int64(), kNow);

    const json::object stop =
        json::parse(heartbeat_response(kNow, 30, "NO_LONGER_AVAILABLE", kNow)).as_object();
    EXPECT_EQ(stop.at("action").as_string(), "stop");
    EXPECT_EQ(stop.at("reason").as_string(), "NO_LONGER_AVAILABLE");
}

// heartbeat_response writes its usual body without JsonWriter (the hot path): the bytes must be
// the ones JsonWriter writes for the same members, for any integers.
TEST(ResponsesTest, HeartbeatContinueBytesAreJsonWritersBytes) {
    const auto expected = [](std::int64_t lease, int interval, std::int64_t now) {
        JsonWriter w;
        w.begin_object();
        w.key("lease_expires_at_ms").integer(lease);
        w.key("heartbeat_interval_sec").integer(interval);
        w.key("action").string("continue");
        w.key("reason").null();
        w.key("server_time_ms").integer(now);
        w.end_object();
        return std::move(w).take();
    };
    constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    const std::vector<std::int64_t> values{0, 1, -1, 9, 10, 99, kNow, kNow + 90'000, kMin, kMax};
    const std::vector<int> intervals{0, 1, 30, -5, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()};
    for (const std::int64_t lease : values) {
        for (const int interval : intervals) {
            for (const std::int64_t now : values) {
                EXPECT_EQ(heartbeat_response(lease, interval, "", now), expected(lease, interval, now));
            }
        }
    }
    // Times of every width (the integers are written eight digits at a time): each power of
    // ten and its neighbours, as lease and as server time.
    std::int64_t p = 1;
    for (int digits = 1; digits <= 18; ++digits) {
        p *= 10;
        for (const std::int64_t v : {p - 1, p, p + 1, -p}) {
            EXPECT_EQ(heartbeat_response(v, 30, "", kNow), expected(v, 30, kNow)) << v;
            EXPECT_EQ(heartbeat_response(kNow, 30, "", v), expected(kNow, 30, v)) << v;
        }
    }
    // The recycled buffer's old bytes never show through.
    std::string used(500, 'x');
    EXPECT_EQ(heartbeat_response(1, 2, "", 3, std::move(used)), expected(1, 2, 3));
}

TEST(ResponsesTest, SessionsListEverySessionField) {
    const std::vector<ActiveSession> sessions{
        {SessionInfo{"ps_1", "d-1", "tv", "Living \"room\" TV", "m_1", "p_1", kNow - 5000},
         kNow - 1000},
        {SessionInfo{"ps_2", "d-2", "ios", "", "e_2", "p_2", kNow - 9000}, kNow - 2000},
    };
    const json::object v = json::parse(sessions_response(4, sessions, kNow)).as_object();
    EXPECT_EQ(
        keys_of(v), (std::set<std::string>{"max_concurrent_streams", "sessions", "server_time_ms"})
    );
    EXPECT_EQ(v.at("max_concurrent_streams").as_int64(), 4);
    EXPECT_EQ(v.at("server_time_ms").as_int64(), kNow);
    const json::array& arr = v.at("sessions").as_array();
    ASSERT_EQ(arr.size(), 2U);
    const json::object& a = arr[0].as_object();
    EXPECT_EQ(
        keys_of(a),
        (std::set<std::string>{
            "session_id",
            "device_id",
            "device_type",
            "device_name",
            "content_id",
            "profile_id",
            "started_at_ms",
            "last_seen_ms"})
    );
    EXPECT_EQ(a.at("session_id").as_string(), "ps_1");
    EXPECT_EQ(a.at("device_id").as_string(), "d-1");
    EXPECT_EQ(a.at("device_type").as_string(), "tv");
    EXPECT_EQ(a.at("device_name").as_string(), "Living \"room\" TV");  // escaped and parsed back
    EXPECT_EQ(a.at("content_id").as_string(), "m_1");
    EXPECT_EQ(a.at("profile_id").as_string(), "p_1");
    EXPECT_EQ(a.at("started_at_ms").as_int64(), kNow - 5000);
    EXPECT_EQ(a.at("last_seen_ms").as_int64(), kNow - 1000);
    EXPECT_EQ(arr[1].at("device_type").as_string(), "ios");
    EXPECT_EQ(arr[1].at("last_seen_ms").as_int64(), kNow - 2000);

    const json::object none = json::parse(sessions_response(1, {}, kNow)).as_object();
    EXPECT_TRUE(none.at("sessions").as_array().empty());
}

}  // namespace
}  // namespace moneta::domain
