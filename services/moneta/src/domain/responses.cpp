#include "domain/responses.hpp"

#include <charconv>
#include <cstring>

#include "domain/json_writer.hpp"
#include "moneta/core/decimal.hpp"

namespace moneta::domain {
namespace {

void optional_number(JsonWriter& w, const std::optional<double>& v) {
    if (v) {
        w.number(*v);
    } else {
        w.null();
    }
}

template <class String>
void optional_string(JsonWriter& w, const std::optional<String>& v) {
    if (v) {
        w.string(*v);
    } else {
        w.null();
    }
}

void write_stream(JsonWriter& w, const StreamBlock& s) {
    w.key("stream").begin_object();
    w.key("protocol").string(s.protocol);
    w.key("manifest_url").string(s.manifest_url);
    w.key("cdn_cookies").begin_array();
    for (const CdnCookie& c : s.cookies()) {
        w.begin_object();
        w.key("name").string(c.name);
        w.key("value").string(c.value);
        w.key("domain").string(c.domain);
        w.key("path").string(c.path);
        w.end_object();
    }
    w.end_array();
    w.key("expires_at_ms").integer(s.expires_at_ms);
    w.key("video_codec").string(s.video_codec);
    w.key("max_height").integer(s.max_height);
    w.key("hdr");
    optional_string(w, s.hdr);
    w.end_object();
}

void write_drm(JsonWriter& w, const DrmBlock& d) {
    w.key("drm").begin_object();
    w.key("system").string(d.system);
    if (d.system == "none") {
        w.key("license_url").null();
        w.key("certificate_url").null();
        w.key("license_headers").begin_object().end_object();
        w.key("token_expires_at_ms").null();
    } else {
        w.key("license_url").string(d.license_url);
        w.key("certificate_url");
        optional_string(w, d.certificate_url);
        w.key("license_headers").begin_object().key(d.header_name).string(d.token).end_object();
        w.key("token_expires_at_ms").integer(d.token_expires_at_ms);
    }
    w.end_object();
}

void write_tracks(JsonWriter& w, const StartView& v) {
    w.key("tracks").begin_object();
    w.key("audio").begin_array();
    for (std::size_t i = 0; i < v.content.audio.size(); ++i) {
        const AudioTrack& a = v.content.audio[i];
        w.begin_object();
        w.key("lang").string(a.lang);
        w.key("codec").string(a.codec);
        w.key("channels").integer(a.channels);
        w.key("default").boolean(i == v.tracks.audio_default);
        w.end_object();
    }
    w.end_array();
    w.key("subtitles").begin_array();
    for (std::size_t i = 0; i < v.content.subtitles.size(); ++i) {
        const SubtitleTrack& s = v.content.subtitles[i];
        w.begin_object();
        w.key("lang").string(s.lang);
        w.key("format").string(s.format);
        w.key("url").string_parts({v.cdn_base_url, s.path, v.stream.url_suffix});
        w.key("default").boolean(v.tracks.subtitle_default == i);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

}  // namespace

std::string start_response(const StartView& v, std::string buffer) {
    // At most one allocation (none in a recycled buffer): a start body with CloudFront cookies,
    // a DRM token and a few tracks is ~2.5-3.5 KB (tests/services/moneta/domain/responses_test.cpp
    // measures the demo one).
    JsonWriter w(std::move(buffer), 4096);
    w.begin_object();
    w.key("session_id").string(v.session_id);
    w.key("lease").begin_object();
    w.key("expires_at_ms").integer(v.lease.expires_at_ms);
    w.key("heartbeat_interval_sec").integer(v.heartbeat_interval_sec);
    w.end_object();
    w.key("content").begin_object();
    w.key("id").string(v.content.id);
    w.key("kind").string(v.content.kind);
    w.key("duration_sec").number(v.content.duration_sec);
    w.key("credits_start_sec");
    optional_number(w, v.content.credits_start_sec);
    w.key("next_content_id");
    optional_string(w, v.content.next_content_id);
    w.end_object();
    w.key("resume_position_sec").number(v.resume_position_sec);
    write_stream(w, v.stream);
    write_drm(w, v.drm);
    write_tracks(w, v);
    w.key("limits").begin_object();
    w.key("max_concurrent_streams").integer(v.max_concurrent_streams);
    w.key("active_streams").integer(v.lease.active_streams);
    w.end_object();
    w.key("server_time_ms").integer(v.server_time_ms);
    w.end_object();
    return std::move(w).take();
}

std::string refresh_response(const std::string& session_id, const StreamBlock& stream,
                             const DrmBlock& drm, std::int64_t server_time_ms) {
    JsonWriter w(3072);
    w.begin_object();
    w.key("session_id").string(session_id);
    write_stream(w, stream);
    write_drm(w, drm);
    w.key("server_time_ms").integer(server_time_ms);
    w.end_object();
    return std::move(w).take();
}

std::string heartbeat_response(std::int64_t lease_expires_at_ms, int heartbeat_interval_sec,
                               std::string_view stop_reason, std::int64_t server_time_ms,
                               std::string buffer) {
    // The one body on every heartbeat: three integers between fixed texts, written with raw
    // stores into a stack buffer and appended once. Through JsonWriter (a comma check, a capacity
    // check and a call per piece) it cost ~1,600 instructions, a twentieth of a heartbeat
    // (docs/performance.md, eleventh round); responses_test checks the bytes are JsonWriter's.
    // A stop reason is a code from domain::stop_reason (never input), escaped all the same.
    if (!stop_reason.empty()) {
        JsonWriter w(std::move(buffer), 160);
        w.begin_object();
        w.key("lease_expires_at_ms").integer(lease_expires_at_ms);
        w.key("heartbeat_interval_sec").integer(heartbeat_interval_sec);
        w.key("action").string("stop");
        w.key("reason").string(stop_reason);
        w.key("server_time_ms").integer(server_time_ms);
        w.end_object();
        return std::move(w).take();
    }
    char text[192];  // 103 bytes of text and three integers of at most 20 characters (kDecimalRoom)
    char* p = text;
    const auto put = [&p](std::string_view s) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    };
    // The two times are 13 digits: eight at a time (core/decimal.hpp), the same text as to_chars.
    const auto put_int = [&p](std::int64_t v) { p = core::write_decimal(p, v); };
    put(R"({"lease_expires_at_ms":)");
    put_int(lease_expires_at_ms);
    put(R"(,"heartbeat_interval_sec":)");
    put_int(heartbeat_interval_sec);
    put(R"(,"action":"continue","reason":null,"server_time_ms":)");
    put_int(server_time_ms);
    *p++ = '}';
    buffer.assign(text, static_cast<std::size_t>(p - text));
    return buffer;
}

std::string sessions_response(int max_concurrent_streams, const std::vector<ActiveSession>& sessions,
                              std::int64_t server_time_ms, std::string buffer) {
    JsonWriter w(std::move(buffer), 96 + 256 * sessions.size());
    w.begin_object();
    w.key("max_concurrent_streams").integer(max_concurrent_streams);
    w.key("sessions").begin_array();
    for (const ActiveSession& a : sessions) {
        w.begin_object();
        w.key("session_id").string(a.info.session_id);
        w.key("device_id").string(a.info.device_id);
        w.key("device_type").string(a.info.device_type);
        w.key("device_name").string(a.info.device_name);
        w.key("content_id").string(a.info.content_id);
        w.key("profile_id").string(a.info.profile_id);
        w.key("started_at_ms").integer(a.info.started_at_ms);
        w.key("last_seen_ms").integer(a.last_seen_ms);
        w.end_object();
    }
    w.end_array();
    w.key("server_time_ms").integer(server_time_ms);
    w.end_object();
    return std::move(w).take();
}

}  // namespace moneta::domain
