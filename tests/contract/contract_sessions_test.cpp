// api.md §5.1–§5.6 and the session rules of §6, through nginx against the real stack: the
// full start document (signed delivery verified with the CDN key, the DRM token's hash
// recomputed), negotiation, tracks, resume, heartbeat/stop/refresh/list/kick, the stream limit
// under concurrent starts, same-device replacement, replace_session_id hand-over,
// idempotent replays and the warm path's Redis/internal-API budget.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <latch>
#include <regex>
#include <set>
#include <thread>

#include "contract_support.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::contract {
namespace {

namespace json = boost::json;

constexpr std::string_view kCdnBase = "https://cdn.moneta.local";
// The stack's DRM access key (tests/support stack.cpp: MONETA_DRM_ACCESS_KEY) and the dev
// config's site id: enough to recompute the PallyCon hash the way the license server does.
const std::string kDrmAccessKey = "a" + std::string(31, 'c');
constexpr std::string_view kDrmSiteId = "MNTA";

class SessionsContract : public ContractTest {
protected:
    static void SetUpTestSuite() { boot(); }
    static void TearDownTestSuite() { shutdown(); }
};

/// The signed manifest URL: canned policy over the URL without its query, RSA-SHA1 with the
/// stack's CDN key, Expires ≥ 5 min ahead and equal to stream.expires_at_ms.
void expect_signed_manifest(
    const json::object& stream, std::string_view path, std::int64_t server_time_ms
) {
    const std::string url(stream.at("manifest_url").as_string());
    const std::string base = std::string(kCdnBase) + std::string(path);
    ASSERT_EQ(url.rfind(base + "?", 0), 0U) << url;
    const auto q = query_params(url);
    ASSERT_TRUE(q.contains("Expires") && q.contains("Signature") && q.contains("Key-Pair-Id"))
        << url;
    EXPECT_EQ(q.at("Key-Pair-Id"), "KMONETADEV");
    const std::int64_t expires_s = std::stoll(q.at("Expires"));
    EXPECT_EQ(stream.at("expires_at_ms").as_int64(), expires_s * 1000);
    EXPECT_GE(expires_s * 1000 - server_time_ms, 5 * 60'000)
        << "signed URL must live at least 5 minutes";
    EXPECT_LE(expires_s * 1000 - server_time_ms, 24 * 3600'000);
    const auto sig = cloudfront_base64_decode(q.at("Signature"));
    ASSERT_TRUE(sig.has_value()) << q.at("Signature");
    EXPECT_TRUE(
        rsa_sha1_verifies(ContractTest::cdn_key_file(), cloudfront_policy(base, expires_s), *sig)
    );
}

/// CloudFront-Policy/-Signature/-Key-Pair-Id cookies scoped to "/vod/<title>/", the policy
/// covering that prefix and signed with the CDN key.
void expect_signed_cookies(const json::object& stream, std::string_view title) {
    const std::string path = "/vod/" + std::string(title) + "/";
    std::map<std::string, std::string> values;
    for (const json::value& c : stream.at("cdn_cookies").as_array()) {
        const json::object& o = c.as_object();
        EXPECT_EQ(o.at("path").as_string(), path);
        EXPECT_FALSE(o.at("domain").as_string().empty());
        values[std::string(o.at("name").as_string())] = std::string(o.at("value").as_string());
    }
    ASSERT_EQ(values.size(), 3U);
    ASSERT_TRUE(
        values.contains("CloudFront-Policy") && values.contains("CloudFront-Signature") &&
        values.contains("CloudFront-Key-Pair-Id")
    );
    EXPECT_EQ(values.at("CloudFront-Key-Pair-Id"), "KMONETADEV");
    const auto policy = cloudfront_base64_decode(values.at("CloudFront-Policy"));
    ASSERT_TRUE(policy.has_value());
    const json::value doc = json::parse(*policy);
    const json::object& statement = doc.at("Statement").as_array().at(0).as_object();
    EXPECT_EQ(statement.at("Resource").as_string(), std::string(kCdnBase) + path + "*");
    const json::object& condition = statement.at("Condition").as_object();
    const std::int64_t expires_s = condition.at("DateLessThan").at("AWS:EpochTime").as_int64();
    EXPECT_GE(expires_s * 1000 - now_ms(), 5 * 60'000 - 60'000);
    if (const json::value* after = condition.if_contains("DateGreaterThan")) {
        EXPECT_LE(after->at("AWS:EpochTime").as_int64() * 1000, now_ms())
            << "never a start time in the future";
    }
    const auto sig = cloudfront_base64_decode(values.at("CloudFront-Signature"));
    ASSERT_TRUE(sig.has_value());
    EXPECT_TRUE(rsa_sha1_verifies(ContractTest::cdn_key_file(), *policy, *sig));
}

/// The PallyCon customdata-v2 token: base64 JSON whose hash is recomputable (api.md §6).
void expect_pallycon_token(
    const json::object& drm, std::string_view drm_type, std::string_view cid
) {
    const json::object& headers = drm.at("license_headers").as_object();
    ASSERT_EQ(headers.size(), 1U);
    ASSERT_TRUE(headers.contains("pallycon-customdata-v2"));
    const auto decoded = base64_decode(headers.at("pallycon-customdata-v2").as_string());
    ASSERT_TRUE(decoded.has_value());
    const json::object token = json::parse(*decoded).as_object();
    EXPECT_EQ(token.at("drm_type").as_string(), drm_type);
    EXPECT_EQ(token.at("site_id").as_string(), kDrmSiteId);
    EXPECT_EQ(token.at("cid").as_string(), cid);
    const std::string user(token.at("user_id").as_string());
    const std::string policy(token.at("policy").as_string());
    const std::string timestamp(token.at("timestamp").as_string());
    EXPECT_FALSE(user.empty());
    EXPECT_TRUE(base64_decode(policy).has_value())
        << "policy is AES-CBC ciphertext in base64: " << policy;
    EXPECT_TRUE(std::regex_match(timestamp, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
        << timestamp;
    const std::string expected_hash = base64_encode(sha256(
        kDrmAccessKey + std::string(drm_type) + std::string(kDrmSiteId) + user + std::string(cid) +
        policy + timestamp
    ));
    EXPECT_EQ(token.at("hash").as_string(), expected_hash);
    const std::int64_t exp = drm.at("token_expires_at_ms").as_int64();
    EXPECT_GT(exp, now_ms());
    EXPECT_LE(exp - now_ms(), 3600'000) << "the DRM token is short-lived";
    EXPECT_EQ(std::string_view(drm.at("license_url").as_string()).substr(0, 8), "https://");
}

TEST_F(SessionsContract, StartAnswersTheFullDocumentedShape) {
    const std::string tok = stack().token("k_shape", "kp_shape");
    const HttpReply r = start(
        tok,
        {.content = "c_main",
         .device = "shape-tv",
         .protocols = {"dash", "hls"},
         .drm = {"widevine", "playready", "fairplay"},
         .codecs = {"avc", "hevc"},
         .hdr = {"hdr10"},
         .max_height = 2160,
         .audio = "en",
         .subtitle = "ko"}
    );
    ASSERT_TRUE(is_json(r, 201));
    const json::object o = parse_object(r);
    for (const char* k :
         {"session_id",
          "lease",
          "content",
          "resume_position_sec",
          "stream",
          "drm",
          "tracks",
          "limits",
          "server_time_ms"}) {
        EXPECT_TRUE(o.contains(k)) << k << " missing in " << r.body;
    }
    const std::int64_t now = o.at("server_time_ms").as_int64();
    const std::string sid(o.at("session_id").as_string());
    EXPECT_TRUE(std::regex_match(sid, std::regex("ps_[A-Za-z0-9_-]{1,61}"))) << sid;

    const json::object& lease = o.at("lease").as_object();
    EXPECT_EQ(lease.at("expires_at_ms").as_int64() - now, 90'000);
    EXPECT_EQ(lease.at("heartbeat_interval_sec").as_int64(), 30);
    EXPECT_EQ(
        stack().redis_cmd({"ZSCORE", testing::account_key("lease:", "k_shape"), sid}),
        std::to_string(lease.at("expires_at_ms").as_int64())
    );

    const json::object& content = o.at("content").as_object();
    EXPECT_EQ(content.at("id").as_string(), "c_main");
    EXPECT_EQ(content.at("kind").as_string(), "movie");
    EXPECT_DOUBLE_EQ(content.at("duration_sec").to_number<double>(), 7012.4);
    EXPECT_DOUBLE_EQ(content.at("credits_start_sec").to_number<double>(), 6800.0);
    EXPECT_TRUE(content.at("next_content_id").is_null());
    // The fixture's stored position for (kp_shape, c_main), from the system of record.
    EXPECT_DOUBLE_EQ(o.at("resume_position_sec").to_number<double>(), 1847.0);

    // Premium plan + a UHD/HDR10/HEVC device: the best rendition.
    const json::object& stream = o.at("stream").as_object();
    EXPECT_EQ(stream.at("protocol").as_string(), "dash");
    EXPECT_EQ(stream.at("video_codec").as_string(), "hevc");
    EXPECT_EQ(stream.at("max_height").as_int64(), 2160);
    EXPECT_EQ(stream.at("hdr").as_string(), "hdr10");
    expect_signed_manifest(stream, "/vod/c_main/hevc_2160/manifest.mpd", now);
    expect_signed_cookies(stream, "c_main");

    const json::object& drm = o.at("drm").as_object();
    EXPECT_EQ(drm.at("system").as_string(), "widevine");
    EXPECT_TRUE(drm.at("certificate_url").is_null()) << "only FairPlay has a certificate";
    expect_pallycon_token(drm, "Widevine", "c_main");

    const json::array& audio = o.at("tracks").at("audio").as_array();
    ASSERT_EQ(audio.size(), 2U);
    EXPECT_EQ(audio[0].at("lang").as_string(), "ko");
    EXPECT_EQ(audio[0].at("codec").as_string(), "aac");
    EXPECT_EQ(audio[0].at("channels").as_int64(), 2);
    EXPECT_FALSE(audio[0].at("default").as_bool());
    EXPECT_EQ(audio[1].at("lang").as_string(), "en");
    EXPECT_EQ(audio[1].at("channels").as_int64(), 6);
    EXPECT_TRUE(audio[1].at("default").as_bool());
    const json::array& subs = o.at("tracks").at("subtitles").as_array();
    ASSERT_EQ(subs.size(), 2U);
    EXPECT_EQ(subs[0].at("lang").as_string(), "ko");
    EXPECT_EQ(subs[0].at("format").as_string(), "webvtt");
    EXPECT_EQ(subs[0].at("url").as_string(), std::string(kCdnBase) + "/vod/c_main/subs/ko.vtt");
    EXPECT_TRUE(subs[0].at("default").as_bool());
    EXPECT_FALSE(subs[1].at("default").as_bool());

    EXPECT_EQ(o.at("limits").at("max_concurrent_streams").as_int64(), 4);
    EXPECT_EQ(o.at("limits").at("active_streams").as_int64(), 1);
}

TEST_F(SessionsContract, TrackDefaultsFollowThePreferredLanguages) {
    const std::string tok = stack().token("k_tracks", "kp_tracks");
    using Langs = std::pair<std::string, std::string>;  // default audio, default subtitle
    auto defaults = [&](const StartSpec& spec) {
        const HttpReply r = start(tok, spec);
        EXPECT_TRUE(is_json(r, 201));
        const json::object o = parse_object(r);
        std::string audio;
        std::string subtitle;
        int audio_defaults = 0;
        for (const json::value& a : o.at("tracks").at("audio").as_array()) {
            if (a.at("default").as_bool()) {
                audio = a.at("lang").as_string();
                ++audio_defaults;
            }
        }
        for (const json::value& s : o.at("tracks").at("subtitles").as_array()) {
            if (s.at("default").as_bool()) {
                subtitle += s.at("lang").as_string();
            }
        }
        EXPECT_EQ(audio_defaults, 1) << "exactly one default audio track: " << r.body;
        return Langs{audio, subtitle};
    };
    EXPECT_EQ(
        defaults({.device = "tracks-tv", .audio = "en", .subtitle = "en"}), Langs("en", "en")
    );
    EXPECT_EQ(
        defaults({.device = "tracks-tv", .audio = "ko", .subtitle = "ko"}), Langs("ko", "ko")
    );
    // A regional tag matches the language; no preference → first audio, no subtitles.
    EXPECT_EQ(
        defaults({.device = "tracks-tv", .audio = "en-US", .subtitle = "ko-KR"}), Langs("en", "ko")
    );
    EXPECT_EQ(defaults({.device = "tracks-tv"}), Langs("ko", ""));
    EXPECT_EQ(defaults({.device = "tracks-tv", .audio = "fr", .subtitle = "fr"}), Langs("ko", ""));
}

TEST_F(SessionsContract, FairPlayOnHlsCarriesTheCertificateUrl) {
    const std::string tok = stack().token("k_fairplay", "kp_fairplay");
    const HttpReply r =
        start(tok, {.device = "iphone", .type = "ios", .protocols = {"hls"}, .drm = {"fairplay"}});
    ASSERT_TRUE(is_json(r, 201));
    const json::object o = parse_object(r);
    const json::object& stream = o.at("stream").as_object();
    EXPECT_EQ(stream.at("protocol").as_string(), "hls");
    expect_signed_manifest(
        stream, "/vod/c_main/avc_1080/master.m3u8", o.at("server_time_ms").as_int64()
    );
    const json::object& drm = o.at("drm").as_object();
    EXPECT_EQ(drm.at("system").as_string(), "fairplay");
    ASSERT_TRUE(drm.at("certificate_url").is_string());
    EXPECT_EQ(std::string_view(drm.at("certificate_url").as_string()).substr(0, 8), "https://");
    expect_pallycon_token(drm, "FairPlay", "c_main");
}

TEST_F(SessionsContract, ClearContentHasDrmSystemNone) {
    const std::string tok = stack().token("k_clear", "kp_clear");
    for (const std::vector<std::string>& drm_caps :
         {std::vector<std::string>{"widevine"}, std::vector<std::string>{}}) {
        const HttpReply r = start(
            tok, {.content = "c_clear", .device = "clear-web", .type = "web", .drm = drm_caps}
        );
        ASSERT_TRUE(is_json(r, 201));
        const json::object o = parse_object(r);
        const json::object& drm = o.at("drm").as_object();
        EXPECT_EQ(drm.at("system").as_string(), "none") << r.body;
        EXPECT_TRUE(drm.at("license_url").is_null());
        EXPECT_TRUE(drm.at("certificate_url").is_null());
        EXPECT_TRUE(drm.at("license_headers").as_object().empty());
        // Clear content is still delivered through signed URLs.
        expect_signed_manifest(
            o.at("stream").as_object(),
            "/vod/c_clear/avc_1080/manifest.mpd",
            o.at("server_time_ms").as_int64()
        );
    }
}

TEST_F(SessionsContract, NegotiationPicksTheBestRenditionPlanAndDeviceAllow) {
    struct Case {
        std::string sub;
        StartSpec spec;
        std::string protocol, codec;
        std::int64_t max_height;
        std::string hdr;  // "" = null
        std::string drm;
    };
    const std::vector<std::string> all_codecs{"avc", "hevc", "av1"};
    const std::vector<Case> cases = {
        // AV1 over HEVC over AVC when both sides can; Dolby Vision when the device has it.
        {"negotiate",
         {.content = "c_hdr",
          .device = "n-1",
          .drm = {"widevine"},
          .codecs = all_codecs,
          .hdr = {"hdr10", "dolby_vision"},
          .max_height = 2160},
         "dash",
         "av1",
         2160,
         "dolby_vision",
         "widevine"},
        {"negotiate",
         {.content = "c_hdr",
          .device = "n-1",
          .drm = {"playready", "widevine"},
          .codecs = {"avc", "hevc"},
          .hdr = {"hdr10"},
          .max_height = 2160},
         "dash",
         "hevc",
         2160,
         "hdr10",
         "playready"},
        // No HDR on the device: the HDR renditions are out, whatever their height.
        {"negotiate",
         {.content = "c_hdr", .device = "n-1", .codecs = all_codecs, .max_height = 2160},
         "dash",
         "avc",
         1080,
         "",
         "widevine"},
        // A 720p screen gets no more than 720.
        {"negotiate",
         {.content = "c_hdr", .device = "n-1", .codecs = {"avc"}, .max_height = 720},
         "dash",
         "avc",
         720,
         "",
         "widevine"},
        {"negotiate",
         {.content = "c_hdr",
          .device = "n-1",
          .type = "ios",
          .protocols = {"hls"},
          .drm = {"fairplay"},
          .codecs = {"avc", "hevc"},
          .hdr = {"dolby_vision"},
          .max_height = 2160},
         "hls",
         "hevc",
         2160,
         "dolby_vision",
         "fairplay"},
        // Standard plan: no UHD, no HDR, even on a device that has both.
        {"negotiate_std",
         {.content = "c_hdr",
          .device = "n-2",
          .drm = {"widevine"},
          .codecs = all_codecs,
          .hdr = {"hdr10", "dolby_vision"},
          .max_height = 2160},
         "dash",
         "avc",
         1080,
         "",
         "widevine"},
    };
    for (const Case& c : cases) {
        const HttpReply r = start(stack().token("k_" + c.sub, "kp_" + c.sub), c.spec);
        ASSERT_TRUE(is_json(r, 201)) << c.codec;
        const json::object o = parse_object(r);
        const json::object& s = o.at("stream").as_object();
        EXPECT_EQ(s.at("protocol").as_string(), c.protocol) << r.body;
        EXPECT_EQ(s.at("video_codec").as_string(), c.codec) << r.body;
        EXPECT_EQ(s.at("max_height").as_int64(), c.max_height) << r.body;
        if (c.hdr.empty()) {
            EXPECT_TRUE(s.at("hdr").is_null()) << r.body;
        } else {
            EXPECT_EQ(s.at("hdr"), json::value(c.hdr)) << r.body;
        }
        EXPECT_EQ(o.at("drm").at("system").as_string(), c.drm) << r.body;
    }
}

TEST_F(SessionsContract, NoCompatibleStreamIs406AndTakesNoLease) {
    const std::string tok = stack().token("k_incompatible", "kp_incompatible");
    const double before =
        stack().metric("moneta_playback_starts_total", "result=\"no_compatible_stream\"");
    // c_main's HLS is FairPlay only; its codecs are AVC/HEVC only.
    EXPECT_TRUE(is_error(
        start(tok, {.device = "odd", .protocols = {"hls"}, .drm = {"widevine"}}),
        406,
        "NO_COMPATIBLE_STREAM"
    ));
    EXPECT_TRUE(
        is_error(start(tok, {.device = "odd", .codecs = {"av1"}}), 406, "NO_COMPATIBLE_STREAM")
    );
    EXPECT_TRUE(
        is_error(start(tok, {.device = "odd", .drm = {"fairplay"}}), 406, "NO_COMPATIBLE_STREAM")
    );
    EXPECT_EQ(
        stack().metric("moneta_playback_starts_total", "result=\"no_compatible_stream\"") - before,
        3
    );
    EXPECT_EQ(stack().redis_cmd({"ZCARD", testing::account_key("lease:", "k_incompatible")}), "0");
}

TEST_F(SessionsContract, ResumeIsTheStoredPositionUnlessStartingOver) {
    const std::string tok = stack().token("k_resume", "kp_resume");
    auto resume_of = [&](const std::string& mode) {
        const HttpReply r = start(tok, {.device = "resume-tv", .resume = mode});
        EXPECT_TRUE(is_json(r, 201));
        return parse_object(r).at("resume_position_sec").to_number<double>();
    };
    EXPECT_DOUBLE_EQ(resume_of("auto"), 1847.0);
    EXPECT_DOUBLE_EQ(resume_of(""), 1847.0) << "resume defaults to auto";
    EXPECT_DOUBLE_EQ(resume_of("start_over"), 0.0);
}

TEST_F(SessionsContract, HeartbeatExtendsTheLeaseAndRecordsProgress) {
    const std::string tok = stack().token("k_heartbeat", "kp_heartbeat");
    const HttpReply s = start(tok, {.device = "hb-tv"});
    const std::string sid = session_id_of(s);
    ASSERT_FALSE(sid.empty());
    const std::int64_t first_expiry = parse_object(s).at("lease").at("expires_at_ms").as_int64();
    std::int64_t seq = 0;
    for (const char* state : {"playing", "paused", "buffering"}) {
        ++seq;
        const HttpReply hb = heartbeat(tok, sid, 99.5 + static_cast<double>(seq), seq, state);
        ASSERT_TRUE(is_json(hb, 200)) << state;
        const json::object o = parse_object(hb);
        EXPECT_EQ(o.size(), 5U) << hb.body;
        EXPECT_EQ(
            o.at("lease_expires_at_ms").as_int64() - o.at("server_time_ms").as_int64(), 90'000
        );
        EXPECT_GE(o.at("lease_expires_at_ms").as_int64(), first_expiry);
        EXPECT_EQ(o.at("heartbeat_interval_sec").as_int64(), 30);
        EXPECT_EQ(o.at("action").as_string(), "continue");
        EXPECT_TRUE(o.at("reason").is_null());
        EXPECT_EQ(
            stack().redis_cmd({"ZSCORE", testing::account_key("lease:", "k_heartbeat"), sid}),
            std::to_string(o.at("lease_expires_at_ms").as_int64())
        );
    }
    const json::object item = progress_item(tok, "c_main");
    ASSERT_FALSE(item.empty());
    EXPECT_DOUBLE_EQ(item.at("position_sec").to_number<double>(), 102.5);
    EXPECT_FALSE(item.at("completed").as_bool());
    // Another account cannot heartbeat this session into life.
    EXPECT_TRUE(is_error(
        heartbeat(stack().token("k_heartbeat_other", "kp_heartbeat_other"), sid, 1, 99),
        404,
        "SESSION_NOT_FOUND"
    ));
}

TEST_F(SessionsContract, StopReleasesTheLeaseAndIsIdempotent) {
    const std::string tok = stack().token("k_stop", "kp_stop");
    const std::string sid = session_id_of(start(tok, {.device = "stop-tv"}));
    ASSERT_FALSE(sid.empty());
    const HttpReply stopped = stop(tok, sid, 2011.0, 1);
    EXPECT_EQ(stopped.status, 204);
    EXPECT_TRUE(stopped.body.empty());
    EXPECT_EQ(stack().redis_cmd({"ZSCORE", testing::account_key("lease:", "k_stop"), sid}), "(nil)");
    EXPECT_TRUE(parse_object(list(tok)).at("sessions").as_array().empty());
    EXPECT_DOUBLE_EQ(progress_item(tok, "c_main").at("position_sec").to_number<double>(), 2011.0);
    // Again, and for a session that never existed: still 204.
    EXPECT_EQ(stop(tok, sid, 2012.0, 2).status, 204);
    EXPECT_EQ(stop(tok, "ps_neverexisted", 5.0, 1).status, 204);
    EXPECT_TRUE(is_error(heartbeat(tok, sid, 2013.0, 3), 404, "SESSION_NOT_FOUND"));
    for (const char* reason : {"user", "ended", "background", "error", "next_episode"}) {
        EXPECT_EQ(stop(tok, "ps_other", 1.0, 1, reason).status, 204) << reason;
    }
}

TEST_F(SessionsContract, RefreshReturnsFreshBlocksWhileLiveAnd404AfterStop) {
    const std::string tok = stack().token("k_refresh", "kp_refresh");
    const HttpReply s = start(tok, {.device = "refresh-tv", .drm = {"playready"}});
    const std::string sid = session_id_of(s);
    ASSERT_FALSE(sid.empty());
    const json::object started = parse_object(s);
    const HttpReply r = refresh(tok, sid);
    ASSERT_TRUE(is_json(r, 200));
    const json::object o = parse_object(r);
    EXPECT_EQ(o.at("session_id").as_string(), sid);
    const json::object& stream = o.at("stream").as_object();
    EXPECT_EQ(stream.at("protocol"), started.at("stream").at("protocol"));
    EXPECT_EQ(stream.at("video_codec"), started.at("stream").at("video_codec"));
    EXPECT_GE(
        stream.at("expires_at_ms").as_int64(), started.at("stream").at("expires_at_ms").as_int64()
    );
    expect_signed_manifest(
        stream, "/vod/c_main/avc_1080/manifest.mpd", o.at("server_time_ms").as_int64()
    );
    expect_signed_cookies(stream, "c_main");
    const json::object& drm = o.at("drm").as_object();
    EXPECT_EQ(drm.at("system").as_string(), "playready");
    EXPECT_GE(
        drm.at("token_expires_at_ms").as_int64(),
        started.at("drm").at("token_expires_at_ms").as_int64()
    );
    expect_pallycon_token(drm, "PlayReady", "c_main");

    ASSERT_EQ(stop(tok, sid, 10, 1).status, 204);
    EXPECT_TRUE(is_error(refresh(tok, sid), 404, "SESSION_NOT_FOUND"));
    EXPECT_TRUE(is_error(refresh(tok, "ps_neverexisted"), 404, "SESSION_NOT_FOUND"));
}

TEST_F(SessionsContract, ListShowsEveryLiveSessionOfTheAccount) {
    const std::string tok = stack().token("k_list", "kp_list");
    const std::int64_t t0 = now_ms();
    const std::string tv = session_id_of(start(tok, {.device = "list-tv", .name = "Living room"}));
    const std::string phone = session_id_of(
        start(tok, {.content = "s_1e1", .device = "list-phone", .type = "android", .name = "Pixel"})
    );
    ASSERT_FALSE(tv.empty());
    ASSERT_FALSE(phone.empty());
    const HttpReply r = list(tok);
    ASSERT_TRUE(is_json(r, 200));
    const json::object o = parse_object(r);
    EXPECT_EQ(o.at("max_concurrent_streams").as_int64(), 4);
    const json::array& sessions = o.at("sessions").as_array();
    ASSERT_EQ(sessions.size(), 2U) << r.body;
    std::set<std::string> seen;
    for (const json::value& v : sessions) {
        const json::object& s = v.as_object();
        EXPECT_EQ(s.size(), 8U) << json::serialize(s);
        const std::string sid(s.at("session_id").as_string());
        seen.insert(sid);
        const bool is_tv = sid == tv;
        EXPECT_EQ(s.at("device_id").as_string(), is_tv ? "list-tv" : "list-phone");
        EXPECT_EQ(s.at("device_type").as_string(), is_tv ? "tv" : "android");
        EXPECT_EQ(s.at("device_name").as_string(), is_tv ? "Living room" : "Pixel");
        EXPECT_EQ(s.at("content_id").as_string(), is_tv ? "c_main" : "s_1e1");
        EXPECT_EQ(s.at("profile_id").as_string(), "kp_list");
        EXPECT_GE(s.at("started_at_ms").as_int64(), t0 - 1000);
        EXPECT_LE(s.at("started_at_ms").as_int64(), o.at("server_time_ms").as_int64());
        EXPECT_GE(s.at("last_seen_ms").as_int64(), s.at("started_at_ms").as_int64());
        EXPECT_LE(s.at("last_seen_ms").as_int64(), o.at("server_time_ms").as_int64());
    }
    EXPECT_EQ(seen, (std::set<std::string>{tv, phone}));
    // Other accounts see none of them.
    EXPECT_TRUE(parse_object(list(stack().token("k_list_other", "kp_list_other")))
                    .at("sessions")
                    .as_array()
                    .empty());
    ASSERT_EQ(stop(tok, phone, 5, 1).status, 204);
    const json::array after = parse_object(list(tok)).at("sessions").as_array();
    ASSERT_EQ(after.size(), 1U);
    EXPECT_EQ(after[0].at("session_id").as_string(), tv);
}

TEST_F(SessionsContract, KickEndsAnotherDeviceWhichThenGetsSessionEvicted) {
    const std::string tok = stack().token("k_kick", "kp_kick");
    const std::string other = stack().token("k_kick_other", "kp_kick_other");
    const std::string victim =
        session_id_of(start(tok, {.device = "kick-tablet", .type = "android"}));
    const std::string keeper = session_id_of(start(tok, {.device = "kick-tv"}));
    ASSERT_FALSE(victim.empty());
    ASSERT_FALSE(keeper.empty());

    // Another account may not touch it (and the session survives every attempt).
    EXPECT_TRUE(is_error(kick(other, victim), 403, "NOT_OWNER"));
    EXPECT_EQ(
        stop(other, victim, 9999, 50).status, 204
    );  // stop is idempotent, but not theirs to stop
    EXPECT_TRUE(is_error(refresh(other, victim), 404, "SESSION_NOT_FOUND"));
    EXPECT_TRUE(is_json(heartbeat(tok, victim, 10, 1), 200));
    EXPECT_DOUBLE_EQ(progress_item(tok, "c_main").at("position_sec").to_number<double>(), 10);

    const double kicks = stack().metric("moneta_playback_kicks_total");
    const HttpReply k = kick(tok, victim);
    EXPECT_EQ(k.status, 204);
    EXPECT_TRUE(k.body.empty());
    EXPECT_EQ(stack().metric("moneta_playback_kicks_total") - kicks, 1);
    EXPECT_TRUE(is_error(heartbeat(tok, victim, 11, 2), 409, "SESSION_EVICTED"));
    EXPECT_TRUE(is_error(refresh(tok, victim), 404, "SESSION_NOT_FOUND"));
    const json::array sessions = parse_object(list(tok)).at("sessions").as_array();
    ASSERT_EQ(sessions.size(), 1U);
    EXPECT_EQ(sessions[0].at("session_id").as_string(), keeper);
    EXPECT_TRUE(is_json(heartbeat(tok, keeper, 10, 1), 200));

    EXPECT_TRUE(is_error(kick(tok, victim), 404, "SESSION_NOT_FOUND"));
    EXPECT_TRUE(is_error(kick(tok, "ps_neverexisted"), 404, "SESSION_NOT_FOUND"));
}

TEST_F(SessionsContract, ConcurrentStartsNeverExceedTheStreamLimit) {
    // N+1 devices start at once, each on its own connection: exactly N leases (atomic
    // check-and-add), and the one refused sees who is watching. Several rounds on a warm cache
    // (the racing requests then differ only in the lease script), stopping everything between.
    constexpr int kRounds = 3;
    for (const auto& race :
         {std::pair{std::string("race4"), 4}, std::pair{std::string("race2"), 2}}) {
        const std::string account = race.first;
        const int max_streams = race.second;
        const std::string tok = stack().token("k_" + account, "kp_" + account);
        ASSERT_TRUE(is_json(list(tok), 200));  // caches the account
        for (int round = 0; round < kRounds; ++round) {
            const int n = max_streams + 1;
            std::vector<HttpReply> replies(static_cast<std::size_t>(n));
            std::latch go(n);
            std::vector<std::thread> threads;
            for (int i = 0; i < n; ++i) {
                threads.emplace_back([&, i] {
                    const std::string body = start_body(
                        {.device = account + "-" + std::to_string(round) + "-" + std::to_string(i),
                         .type = "android"}
                    );
                    go.arrive_and_wait();
                    replies[static_cast<std::size_t>(i)] =
                        stack().call("POST", "/v1/playback/sessions", body, tok);
                });
            }
            for (auto& t : threads) {
                t.join();
            }
            std::set<std::string> sids;
            for (const HttpReply& r : replies) {
                if (r.status == 201) {
                    sids.insert(session_id_of(r));
                    continue;
                }
                ASSERT_TRUE(is_error(r, 403, "STREAM_LIMIT_REACHED"));
                const json::array active =
                    parse_object(r).at("error").at("details").at("active_sessions").as_array();
                EXPECT_EQ(active.size(), static_cast<std::size_t>(max_streams)) << r.body;
                for (const json::value& a : active) {
                    EXPECT_EQ(a.as_object().size(), 4U) << json::serialize(a);
                    EXPECT_TRUE(a.at("session_id").is_string());
                    EXPECT_EQ(a.at("device_type").as_string(), "android");
                    EXPECT_EQ(a.at("content_id").as_string(), "c_main");
                    EXPECT_LE(a.at("last_seen_ms").as_int64(), now_ms());
                    EXPECT_GE(a.at("last_seen_ms").as_int64(), now_ms() - 60'000);
                }
            }
            ASSERT_EQ(sids.size(), static_cast<std::size_t>(max_streams))
                << account << " round " << round;
            EXPECT_EQ(
                stack().redis_cmd({"ZCARD", testing::account_key("lease:", "k_" + account)}),
                std::to_string(max_streams)
            );
            EXPECT_EQ(
                parse_object(list(tok)).at("sessions").as_array().size(),
                static_cast<std::size_t>(max_streams)
            );
            for (const std::string& sid : sids) {
                ASSERT_EQ(stop(tok, sid, 1, 1).status, 204);
            }
        }
    }
}

TEST_F(SessionsContract, SameDeviceRestartReplacesItsOwnLease) {
    const std::string tok = stack().token("k_restart", "kp_restart");  // basic plan: one stream
    const std::string first =
        session_id_of(start(tok, {.device = "restart-phone", .type = "android"}));
    ASSERT_FALSE(first.empty());
    const HttpReply other = start(tok, {.device = "restart-tablet"});
    ASSERT_TRUE(is_error(other, 403, "STREAM_LIMIT_REACHED"));
    const json::array active =
        parse_object(other).at("error").at("details").at("active_sessions").as_array();
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(active[0].at("session_id").as_string(), first);
    EXPECT_EQ(active[0].at("device_type").as_string(), "android");

    const double replaced = stack().metric("moneta_playback_lease_replacements_total");
    const HttpReply again = start(tok, {.device = "restart-phone", .type = "android"});
    ASSERT_TRUE(is_json(again, 201));
    const std::string second = session_id_of(again);
    EXPECT_NE(second, first);
    EXPECT_EQ(parse_object(again).at("limits").at("active_streams").as_int64(), 1);
    EXPECT_EQ(stack().metric("moneta_playback_lease_replacements_total") - replaced, 1);
    EXPECT_TRUE(is_error(heartbeat(tok, first, 1, 1), 409, "SESSION_EVICTED"));
    EXPECT_TRUE(is_json(heartbeat(tok, second, 1, 1), 200));
    EXPECT_EQ(stack().redis_cmd({"ZCARD", testing::account_key("lease:", "k_restart")}), "1");
    // Stopping frees the one stream for another device.
    ASSERT_EQ(stop(tok, second, 2, 2).status, 204);
    EXPECT_TRUE(is_json(start(tok, {.device = "restart-tablet"}), 201));
}

TEST_F(SessionsContract, ReplaceSessionIdHandsTheLeaseOver) {
    const std::string tok = stack().token("k_handover", "kp_handover");  // basic plan: one stream
    const HttpReply ep1 = start(tok, {.content = "s_1e1", .device = "handover-tv"});
    const std::string sid1 = session_id_of(ep1);
    ASSERT_FALSE(sid1.empty());
    EXPECT_EQ(parse_object(ep1).at("content").at("next_content_id"), json::value("s_1e2"));
    EXPECT_EQ(parse_object(ep1).at("content").at("kind"), json::value("episode"));
    // Another device: no free lease, and naming a session that is not live frees nothing.
    EXPECT_TRUE(is_error(
        start(tok, {.content = "s_1e2", .device = "handover-cast"}), 403, "STREAM_LIMIT_REACHED"
    ));
    EXPECT_TRUE(is_error(
        start(tok, {.content = "s_1e2", .device = "handover-cast", .replace = "ps_neverexisted"}),
        403,
        "STREAM_LIMIT_REACHED"
    ));
    // Naming another account's live session frees nothing either, and does not touch it.
    const std::string foreign = session_id_of(
        start(stack().token("k_handover_other", "kp_handover_other"), {.device = "foreign-tv"})
    );
    EXPECT_TRUE(is_error(
        start(tok, {.content = "s_1e2", .device = "handover-cast", .replace = foreign}),
        403,
        "STREAM_LIMIT_REACHED"
    ));
    EXPECT_TRUE(is_json(
        heartbeat(stack().token("k_handover_other", "kp_handover_other"), foreign, 1, 1), 200
    ));
    const HttpReply ep2 =
        start(tok, {.content = "s_1e2", .device = "handover-cast", .replace = sid1});
    ASSERT_TRUE(is_json(ep2, 201));
    const std::string sid2 = session_id_of(ep2);
    EXPECT_EQ(parse_object(ep2).at("limits").at("active_streams").as_int64(), 1);
    EXPECT_TRUE(is_error(heartbeat(tok, sid1, 2600, 1), 409, "SESSION_EVICTED"));
    EXPECT_TRUE(is_json(heartbeat(tok, sid2, 5, 1), 200));
    const json::array sessions = parse_object(list(tok)).at("sessions").as_array();
    ASSERT_EQ(sessions.size(), 1U);
    EXPECT_EQ(sessions[0].at("content_id").as_string(), "s_1e2");
}

TEST_F(SessionsContract, IdempotentStartReplaysTheSameResponse) {
    const std::string tok = stack().token("k_idem", "kp_idem");
    const std::string body = start_body({.device = "idem-tv"});
    const HttpHeaders key{{"Idempotency-Key", "idem-key-1"}};
    const HttpReply first = stack().call("POST", "/v1/playback/sessions", body, tok, key);
    ASSERT_TRUE(is_json(first, 201));
    const double replayed = stack().metric("moneta_playback_starts_total", "result=\"replayed\"");
    const HttpReply second = stack().call("POST", "/v1/playback/sessions", body, tok, key);
    ASSERT_TRUE(is_json(second, 201));
    EXPECT_EQ(second.body, first.body) << "same key + same body → the same response";
    EXPECT_EQ(session_id_of(second), session_id_of(first));
    EXPECT_EQ(stack().metric("moneta_playback_starts_total", "result=\"replayed\"") - replayed, 1);
    EXPECT_EQ(stack().redis_cmd({"ZCARD", testing::account_key("lease:", "k_idem")}), "1");
    EXPECT_TRUE(is_json(heartbeat(tok, session_id_of(first), 1, 1), 200))
        << "the replay did not evict the session";
    // Remembered for 60 s, not longer.
    const std::int64_t ttl = std::stoll(stack().redis_cmd({"PTTL", testing::account_key("idem:", "k_idem", ":idem-key-1")}));
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 60'000);

    const HttpReply conflict = stack().call(
        "POST",
        "/v1/playback/sessions",
        start_body({.content = "s_1e1", .device = "idem-tv"}),
        tok,
        key
    );
    EXPECT_TRUE(is_error(conflict, 409, "IDEMPOTENCY_CONFLICT"));
    // Keys are per account: the same key from another account is its own start, never a replay
    // of this account's session.
    const HttpReply foreign = stack().call(
        "POST", "/v1/playback/sessions", body, stack().token("k_idem_other", "kp_idem_other"), key
    );
    ASSERT_TRUE(is_json(foreign, 201));
    EXPECT_NE(session_id_of(foreign), session_id_of(first));
    EXPECT_EQ(stack().redis_cmd({"ZCARD", testing::account_key("lease:", "k_idem_other")}), "1");
    // A new key is a new start (same device: it replaces the first session).
    const HttpReply fresh = stack().call(
        "POST", "/v1/playback/sessions", body, tok, {{"Idempotency-Key", "idem-key-2"}}
    );
    ASSERT_TRUE(is_json(fresh, 201));
    EXPECT_NE(session_id_of(fresh), session_id_of(first));
    EXPECT_TRUE(is_invalid_field(
        stack().call(
            "POST", "/v1/playback/sessions", body, tok, {{"Idempotency-Key", "not a key!"}}
        ),
        "Idempotency-Key"
    ));
}

TEST_F(SessionsContract, WarmStartTouchesOnlyRedisWithinItsRoundTripBudget) {
    testing::Stack& s = stack();
    const std::string tok = s.token("k_warm", "kp_warm");
    ASSERT_TRUE(is_json(start(tok, {.content = "c_warm", .device = "warm-tv"}), 201)
    );  // fills the caches

    const double api0 = read_path_internal_calls();
    const double moneta_api0 =
        s.metric("moneta_internal_api_requests_total", "resource=\"account\"") +
        s.metric("moneta_internal_api_requests_total", "resource=\"content\"") +
        s.metric("moneta_internal_api_requests_total", "resource=\"progress_read\"");
    const double rt0 = s.metric("moneta_redis_round_trips_total");
    const HttpReply warm = start(tok, {.content = "c_warm", .device = "warm-tv"});
    ASSERT_TRUE(is_json(warm, 201));
    const double rt = s.metric("moneta_redis_round_trips_total") - rt0;
    EXPECT_EQ(read_path_internal_calls() - api0, 0)
        << "a warm start never reaches the internal API";
    EXPECT_EQ(
        s.metric("moneta_internal_api_requests_total", "resource=\"account\"") +
            s.metric("moneta_internal_api_requests_total", "resource=\"content\"") +
            s.metric("moneta_internal_api_requests_total", "resource=\"progress_read\"") -
            moneta_api0,
        0
    );
    EXPECT_GE(rt, 1);
    EXPECT_LE(rt, 2) << "a warm start makes at most 2 Redis round trips";

    const double rt1 = s.metric("moneta_redis_round_trips_total");
    ASSERT_TRUE(is_json(heartbeat(tok, session_id_of(warm), 12, 1), 200));
    EXPECT_EQ(s.metric("moneta_redis_round_trips_total") - rt1, 1)
        << "a heartbeat is exactly 1 Redis round trip";
}

}  // namespace
}  // namespace moneta::contract
