// Fuzz target: moneta's request parsers (services/moneta/src/domain/requests.cpp, progress.cpp):
// the bodies of start, heartbeat, stop and PUT progress, and the content_ids / limit queries.
// The first input byte picks the parser, the rest is the body or query. Invariants:
// - differential (issue 11): the four body parsers (Boost.JSON SAX) give exactly what the DOM
//   reader they replaced gives (tests/services/moneta/domain/requests_dom_reference.*): the same
//   request field for field (doubles bit for bit), or the same FieldError (path and reason);
// - every accepted value is inside its documented range (api.md §4-§5, requests.hpp);
// - an accepted body written back with JsonWriter (the writer the responses use) parses to the
//   same request: the parser and the writer agree on every string and number;
// - a rejection names a field and a reason, and field_error_details() is valid JSON;
// - parsing is deterministic.
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "check.hpp"
#include "domain/json_writer.hpp"
#include "domain/progress.hpp"
#include "domain/requests.hpp"
#include "requests_dom_reference.hpp"

namespace {

using namespace moneta::domain;
namespace ref = moneta::domain::dom_reference;

constexpr std::int64_t kNowMs = 1'700'000'000'000;
constexpr double kMaxPositionSec = 7.0 * 24 * 3600;
constexpr std::int64_t kMaxSeq = std::int64_t{1} << 53;

bool is_lang(std::string_view s) {
    // requests.cpp's BCP 47 subset, restated: 2-3 lower-case letters, then optionally "-" and
    // 2-8 letters or digits; 16 characters at most.
    std::size_t i = 0;
    while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') {
        ++i;
    }
    if (s.size() > 16 || i < 2 || i > 3) {
        return false;
    }
    if (i == s.size()) {
        return true;
    }
    const std::string_view sub = s.substr(i + 1);
    return s[i] == '-' && sub.size() >= 2 && sub.size() <= 8 &&
           std::all_of(sub.begin(), sub.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) != 0;
           });
}

void check_error(const FieldError& e) {
    FUZZ_CHECK(!e.reason.empty(), "a rejection without a reason");
    boost::system::error_code ec;
    const auto v = boost::json::parse(field_error_details(e), ec);
    FUZZ_CHECK(
        !ec && v.is_object() && v.as_object().at("reason") == e.reason.c_str(),
        "field_error_details is not the JSON of the error"
    );
}

template <class T>
void check_same_as_dom(const Parsed<T>& sax, const Parsed<T>& dom, std::string_view body) {
    FUZZ_CHECK(
        ref::same(sax, dom),
        "the SAX parser and the DOM reader disagree: SAX " + ref::describe(sax) + ", DOM " +
            ref::describe(dom) + ", body: " + std::string(body)
    );
}

template <class T>
const T* accepted(const Parsed<T>& p) {
    if (const FieldError* e = std::get_if<FieldError>(&p)) {
        check_error(*e);
        return nullptr;
    }
    return &std::get<T>(p);
}

void check_list(
    const moneta::domain::NameList& list, std::initializer_list<std::string_view> allowed
) {
    FUZZ_CHECK(list.size() <= 16, "a capability list longer than 16");
    for (const auto& s : list) {
        FUZZ_CHECK(
            std::find(allowed.begin(), allowed.end(), s) != allowed.end(),
            "an unknown capability value accepted"
        );
    }
}

void write_list(JsonWriter& w, std::string_view key, const moneta::domain::NameList& list) {
    w.key(key).begin_array();
    for (const auto& s : list) {
        w.string(s);
    }
    w.end_array();
}

void start(std::string_view body) {
    const auto parsed = parse_start_request(body);
    check_same_as_dom(parsed, ref::parse_start_request(body), body);
    const StartRequest* r = accepted(parsed);
    FUZZ_CHECK(
        (r == nullptr) == (accepted(parse_start_request(body)) == nullptr), "not deterministic"
    );
    if (r == nullptr) {
        return;
    }
    FUZZ_CHECK(is_valid_id(r->content_id) && is_valid_id(r->device.id), "an invalid id accepted");
    FUZZ_CHECK(
        static_cast<int>(r->device.type) <= static_cast<int>(DeviceType::kTv),
        "device type out of range"
    );
    FUZZ_CHECK(
        r->device.name.size() <= 128 && r->device.app_version.size() <= 32,
        "device strings too long"
    );
    check_list(r->capabilities.protocols, {"dash", "hls"});
    check_list(r->capabilities.drm, {"widevine", "playready", "fairplay"});
    check_list(r->capabilities.video_codecs, {"avc", "hevc", "av1"});
    check_list(r->capabilities.hdr, {"hdr10", "dolby_vision"});
    FUZZ_CHECK(!r->capabilities.protocols.empty(), "no protocol accepted");
    FUZZ_CHECK(
        r->capabilities.max_height >= 144 && r->capabilities.max_height <= 4320,
        "max_height out of range"
    );
    FUZZ_CHECK(
        !r->replace_session_id || is_valid_id(*r->replace_session_id),
        "an invalid replace_session_id"
    );
    FUZZ_CHECK(
        !r->preferred_audio_lang || is_lang(*r->preferred_audio_lang), "a bad audio language"
    );
    FUZZ_CHECK(
        !r->preferred_subtitle_lang || is_lang(*r->preferred_subtitle_lang),
        "a bad subtitle language"
    );

    // Written back with the response writer, it parses to the same request.
    JsonWriter w;
    w.begin_object().key("content_id").string(r->content_id);
    w.key("device")
        .begin_object()
        .key("id")
        .string(r->device.id)
        .key("type")
        .string(to_string(r->device.type));
    w.key("name")
        .string(r->device.name)
        .key("app_version")
        .string(r->device.app_version)
        .end_object();
    w.key("capabilities").begin_object();
    write_list(w, "protocols", r->capabilities.protocols);
    write_list(w, "drm", r->capabilities.drm);
    write_list(w, "video_codecs", r->capabilities.video_codecs);
    write_list(w, "hdr", r->capabilities.hdr);
    w.key("max_height").integer(r->capabilities.max_height).end_object();
    w.key("resume").string(r->resume == ResumeMode::kAuto ? "auto" : "start_over");
    if (r->replace_session_id) {
        w.key("replace_session_id").string(*r->replace_session_id);
    }
    if (r->preferred_audio_lang) {
        w.key("preferred_audio_lang").string(*r->preferred_audio_lang);
    }
    if (r->preferred_subtitle_lang) {
        w.key("preferred_subtitle_lang").string(*r->preferred_subtitle_lang);
    }
    w.end_object();
    const std::string text = std::move(w).take();
    const auto again = parse_start_request(text);
    const StartRequest* r2 = std::get_if<StartRequest>(&again);
    FUZZ_CHECK(r2 != nullptr, "a written-back start request is rejected: " + text);
    FUZZ_CHECK(
        r2->content_id == r->content_id && r2->device.id == r->device.id &&
            r2->device.type == r->device.type && r2->device.name == r->device.name &&
            r2->device.app_version == r->device.app_version &&
            r2->capabilities.protocols == r->capabilities.protocols &&
            r2->capabilities.drm == r->capabilities.drm &&
            r2->capabilities.video_codecs == r->capabilities.video_codecs &&
            r2->capabilities.hdr == r->capabilities.hdr &&
            r2->capabilities.max_height == r->capabilities.max_height && r2->resume == r->resume &&
            r2->replace_session_id == r->replace_session_id &&
            r2->preferred_audio_lang == r->preferred_audio_lang &&
            r2->preferred_subtitle_lang == r->preferred_subtitle_lang,
        "a written-back start request parses differently: " + text
    );
}

void check_position(double p) {
    FUZZ_CHECK(std::isfinite(p) && p >= 0 && p <= kMaxPositionSec, "position out of [0, 1 week]");
}

void check_seq(std::int64_t s) { FUZZ_CHECK(s >= 0 && s <= kMaxSeq, "seq out of [0, 2^53]"); }

void heartbeat(std::string_view body) {
    const auto parsed = parse_heartbeat_request(body);
    check_same_as_dom(parsed, ref::parse_heartbeat_request(body), body);
    const HeartbeatRequest* r = accepted(parsed);
    if (r == nullptr) {
        return;
    }
    check_position(r->position_sec);
    check_seq(r->seq);
    FUZZ_CHECK(
        static_cast<int>(r->state) <= static_cast<int>(PlaybackState::kBuffering),
        "state out of range"
    );
    JsonWriter w;
    w.begin_object()
        .key("position_sec")
        .number(r->position_sec)
        .key("state")
        .string(to_string(r->state));
    w.key("seq").integer(r->seq).end_object();
    const std::string text = std::move(w).take();
    const auto again = parse_heartbeat_request(text);
    const HeartbeatRequest* r2 = std::get_if<HeartbeatRequest>(&again);
    FUZZ_CHECK(
        r2 != nullptr && moneta::fuzz::same_double(r2->position_sec, r->position_sec) &&
            r2->state == r->state && r2->seq == r->seq,
        "a written-back heartbeat parses differently: " + text
    );
}

void stop(std::string_view body) {
    const auto parsed = parse_stop_request(body);
    check_same_as_dom(parsed, ref::parse_stop_request(body), body);
    const StopRequest* r = accepted(parsed);
    if (r == nullptr) {
        return;
    }
    check_position(r->position_sec);
    check_seq(r->seq);
    FUZZ_CHECK(
        static_cast<int>(r->reason) <= static_cast<int>(StopReason::kNextEpisode),
        "reason out of range"
    );
    JsonWriter w;
    w.begin_object()
        .key("position_sec")
        .number(r->position_sec)
        .key("reason")
        .string(to_string(r->reason));
    w.key("seq").integer(r->seq).end_object();
    const std::string text = std::move(w).take();
    const auto again = parse_stop_request(text);
    const StopRequest* r2 = std::get_if<StopRequest>(&again);
    FUZZ_CHECK(
        r2 != nullptr && moneta::fuzz::same_double(r2->position_sec, r->position_sec) &&
            r2->reason == r->reason && r2->seq == r->seq,
        "a written-back stop parses differently: " + text
    );
}

void progress_put(std::string_view body) {
    const auto parsed = parse_progress_put(body, kNowMs);
    check_same_as_dom(parsed, ref::parse_progress_put(body, kNowMs), body);
    const ProgressPut* r = accepted(parsed);
    if (r == nullptr) {
        return;
    }
    check_position(r->position_sec);
    check_position(r->duration_sec);
    check_seq(r->seq);
    FUZZ_CHECK(
        r->updated_at_ms > 0 && r->updated_at_ms <= kNowMs + 24LL * 3600 * 1000,
        "updated_at_ms not in (0, now + 1 day]"
    );
    FUZZ_CHECK(
        r->duration_sec == 0 || r->position_sec <= r->duration_sec + 1,
        "position beyond the duration"
    );
    JsonWriter w;
    w.begin_object()
        .key("position_sec")
        .number(r->position_sec)
        .key("duration_sec")
        .number(r->duration_sec);
    w.key("updated_at_ms").integer(r->updated_at_ms).key("seq").integer(r->seq).end_object();
    const std::string text = std::move(w).take();
    const auto again = parse_progress_put(text, kNowMs);
    const ProgressPut* r2 = std::get_if<ProgressPut>(&again);
    FUZZ_CHECK(
        r2 != nullptr && moneta::fuzz::same_double(r2->position_sec, r->position_sec) &&
            moneta::fuzz::same_double(r2->duration_sec, r->duration_sec) &&
            r2->updated_at_ms == r->updated_at_ms && r2->seq == r->seq,
        "a written-back progress put parses differently: " + text
    );
}

void content_ids(std::string_view query) {
    const auto parsed = parse_content_ids_query(query);
    const auto* ids = accepted(parsed);
    if (ids == nullptr) {
        return;
    }
    FUZZ_CHECK(!ids->empty() && ids->size() <= 100, "not 1..100 ids");
    for (std::size_t i = 0; i < ids->size(); ++i) {
        FUZZ_CHECK(is_valid_id((*ids)[i]), "an invalid content id accepted");
        FUZZ_CHECK(
            query.find((*ids)[i]) != std::string_view::npos, "an id that is not in the query"
        );
        FUZZ_CHECK(
            std::find(ids->begin(), ids->begin() + static_cast<std::ptrdiff_t>(i), (*ids)[i]) ==
                ids->begin() + static_cast<std::ptrdiff_t>(i),
            "a duplicate id"
        );
    }
    std::string joined = "content_ids=";
    for (std::size_t i = 0; i < ids->size(); ++i) {
        joined += (i == 0 ? "" : ",") + (*ids)[i];
    }
    const auto again = parse_content_ids_query(joined);
    FUZZ_CHECK(
        std::holds_alternative<std::vector<std::string>>(again) &&
            std::get<std::vector<std::string>>(again) == *ids,
        "the ids written back parse differently"
    );
}

void limit(std::string_view query) {
    const auto parsed = parse_limit_query(query);
    const int* l = accepted(parsed);
    if (l == nullptr) {
        return;
    }
    FUZZ_CHECK(*l >= 1 && *l <= 100, "limit out of [1, 100]");
    FUZZ_CHECK(
        query.empty() ? *l == 20 : query.starts_with("limit="), "limit from another parameter"
    );
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
        case 0:
            start(rest);
            break;
        case 1:
            heartbeat(rest);
            break;
        case 2:
            stop(rest);
            break;
        case 3:
            progress_put(rest);
            break;
        case 4:
            content_ids(rest);
            break;
        default:
            limit(rest);
            break;
    }
    return 0;
}
