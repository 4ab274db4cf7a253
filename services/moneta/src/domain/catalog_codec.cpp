#include "domain/catalog_codec.hpp"

#include <boost/json.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <optional>

namespace moneta::domain {
namespace {

namespace json = boost::json;
using core::Errc;
using Problem = std::optional<CatalogProblem>;

// Each reader returns the problem with the field, or nullopt when the value is in range, so
// decoding stays exception-free and every refusal says what was wrong.

Problem fail(std::string_view field, std::string_view rule) { return CatalogProblem{field, rule}; }

Problem read_string(const json::object& o, std::string_view k, std::string& out) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || !v->is_string()) {
        return fail(k, "must be a string");
    }
    out.assign(v->get_string().data(), v->get_string().size());
    return std::nullopt;
}

Problem read_opt_string(const json::object& o, std::string_view k, std::optional<std::string>& out) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || v->is_null()) {
        out.reset();
        return std::nullopt;
    }
    if (!v->is_string()) {
        return fail(k, "must be a string or null");
    }
    out.emplace(v->get_string().data(), v->get_string().size());
    return std::nullopt;
}

/// A JSON integer, or a double with no fraction (4.0) inside ±2^53; nullopt for anything else
/// (4.5, 1e300, a string, true).
std::optional<std::int64_t> as_integer(const json::value& v) {
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64()) {
        return v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                   ? std::optional<std::int64_t>(static_cast<std::int64_t>(v.get_uint64()))
                   : std::nullopt;
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) {
            return static_cast<std::int64_t>(d);
        }
    }
    return std::nullopt;
}

Problem read_int64(const json::value* v, std::string_view k, std::int64_t min, std::int64_t max,
                   std::string_view rule, std::int64_t& out) {
    const std::optional<std::int64_t> n = v != nullptr ? as_integer(*v) : std::nullopt;
    if (!n || *n < min || *n > max) {
        return fail(k, rule);
    }
    out = *n;
    return std::nullopt;
}

Problem read_int(const json::object& o, std::string_view k, int min, int max, std::string_view rule, int& out) {
    std::int64_t n = 0;
    if (auto p = read_int64(o.if_contains(k), k, min, max, rule, n)) {
        return p;
    }
    out = static_cast<int>(n);
    return std::nullopt;
}

/// A finite number in [min, max] (or (min, max] when @p open_min).
Problem read_number(const json::value* v, std::string_view k, double min, bool open_min, double max,
                    std::string_view rule, double& out) {
    if (v == nullptr || !v->is_number()) {
        return fail(k, rule);
    }
    const double d = v->to_number<double>();
    if (!std::isfinite(d) || d < min || (open_min && d == min) || d > max) {
        return fail(k, rule);
    }
    out = d;
    return std::nullopt;
}

Problem read_bool(const json::object& o, std::string_view k, bool& out) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || !v->is_bool()) {
        return fail(k, "must be a boolean");
    }
    out = v->get_bool();
    return std::nullopt;
}

bool get_string_array(const json::value& v, std::vector<std::string>& out) {
    if (!v.is_array()) {
        return false;
    }
    out.clear();
    out.reserve(v.get_array().size());
    for (const json::value& e : v.get_array()) {
        if (!e.is_string()) {
            return false;
        }
        out.emplace_back(e.get_string().data(), e.get_string().size());
    }
    return true;
}

/// Bytes of the stack arena a document's tree is parsed into: a cached account or content is
/// 1-4 KB of JSON, its tree a few KB more; a larger one spills to the heap by itself.
constexpr std::size_t kArenaBytes = 16 * 1024;

/// @p storage must have been made on @p arena (then the parsed tree is moved into it, not copied).
const json::object* parse_object(std::string_view text, json::value& storage, json::monotonic_resource& arena) {
    boost::system::error_code ec;
    storage = json::parse(text, ec, &arena);
    if (ec || !storage.is_object()) {
        return nullptr;
    }
    return &storage.get_object();
}

Problem decode_plan(const json::value* v, Plan& plan) {
    if (v == nullptr || !v->is_object()) {
        return fail("plan", "must be an object");
    }
    const json::object& o = v->get_object();
    if (auto p = read_string(o, "id", plan.id)) {
        return fail("plan.id", p->rule);
    }
    if (read_int(o, "rank", 0, kMaxRank, "", plan.rank)) {
        return fail("plan.rank", "must be an integer in 0..1000");
    }
    if (read_int(o, "max_streams", 1, kMaxStreams, "", plan.max_streams)) {
        return fail("plan.max_streams", "must be an integer in 1..100");
    }
    if (read_int(o, "max_height", 1, kMaxHeight, "", plan.max_height)) {
        return fail("plan.max_height", "must be an integer in 1..8640");
    }
    if (read_bool(o, "uhd", plan.uhd)) {
        return fail("plan.uhd", "must be a boolean");
    }
    if (read_bool(o, "hdr", plan.hdr)) {
        return fail("plan.hdr", "must be a boolean");
    }
    return std::nullopt;
}

Problem decode_rendition(const json::value& v, Rendition& r) {
    if (!v.is_object()) {
        return fail("renditions[]", "must be an object");
    }
    const json::object& o = v.get_object();
    const json::value* drm = o.if_contains("drm");
    if (drm == nullptr || (!drm->is_null() && !get_string_array(*drm, r.drm))) {
        return fail("renditions[].drm", "must be an array of strings or null");
    }
    if (read_string(o, "protocol", r.protocol)) {
        return fail("renditions[].protocol", "must be a string");
    }
    if (read_string(o, "video_codec", r.video_codec)) {
        return fail("renditions[].video_codec", "must be a string");
    }
    if (read_int(o, "max_height", 1, kMaxHeight, "", r.max_height)) {
        return fail("renditions[].max_height", "must be an integer in 1..8640");
    }
    if (read_opt_string(o, "hdr", r.hdr)) {
        return fail("renditions[].hdr", "must be a string or null");
    }
    if (read_string(o, "path", r.path)) {
        return fail("renditions[].path", "must be a string");
    }
    return std::nullopt;
}

}  // namespace

boost::system::result<Account, CatalogProblem> check_account(std::string_view text) {
    // The tree lives in a stack arena: no heap allocation per node (only the decoded strings).
    std::array<unsigned char, kArenaBytes> buf;
    json::monotonic_resource arena(buf.data(), buf.size());
    json::value storage(&arena);
    const json::object* o = parse_object(text, storage, arena);
    if (o == nullptr) {
        return *fail("", "must be a JSON object");
    }
    Account a;
    if (auto p = read_string(*o, "id", a.id)) {
        return *p;
    }
    if (auto p = read_string(*o, "status", a.status)) {
        return *p;
    }
    if (auto p = decode_plan(o->if_contains("plan"), a.plan)) {
        return *p;
    }
    if (auto p = read_int64(o->if_contains("paid_until_ms"), "paid_until_ms", 0, kMaxEpochMs,
                            "must be an integer in 0..253402300799999 (ms)", a.paid_until_ms)) {
        return *p;
    }
    if (auto p = read_string(*o, "country", a.country)) {
        return *p;
    }
    const json::value* profiles = o->if_contains("profiles");
    if (profiles == nullptr || !profiles->is_array()) {
        return *fail("profiles", "must be an array");
    }
    a.profiles.reserve(profiles->get_array().size());
    for (const json::value& pv : profiles->get_array()) {
        if (!pv.is_object()) {
            return *fail("profiles[]", "must be an object");
        }
        Profile p;
        const json::object& po = pv.get_object();
        if (read_string(po, "id", p.id)) {
            return *fail("profiles[].id", "must be a string");
        }
        if (read_int(po, "max_age_rating", 0, kMaxAgeRating, "", p.max_age_rating)) {
            return *fail("profiles[].max_age_rating", "must be an integer in 0..99");
        }
        (void)read_string(po, "name", p.name);
        a.profiles.push_back(std::move(p));
    }
    return a;
}

boost::system::result<Content, CatalogProblem> check_content(std::string_view text) {
    // The tree lives in a stack arena: no heap allocation per node (only the decoded strings).
    std::array<unsigned char, kArenaBytes> buf;
    json::monotonic_resource arena(buf.data(), buf.size());
    json::value storage(&arena);
    const json::object* o = parse_object(text, storage, arena);
    if (o == nullptr) {
        return *fail("", "must be a JSON object");
    }
    Content c;
    if (auto p = read_string(*o, "id", c.id)) {
        return *p;
    }
    if (auto p = read_string(*o, "kind", c.kind)) {
        return *p;
    }
    if (auto p = read_number(o->if_contains("duration_sec"), "duration_sec", 0, true, kMaxDurationSec,
                             "must be a number in (0, 604800]", c.duration_sec)) {
        return *p;
    }
    if (auto p = read_string(*o, "min_plan", c.min_plan)) {
        return *p;
    }
    if (auto p = read_int(*o, "age_rating", 0, kMaxAgeRating, "must be an integer in 0..99", c.age_rating)) {
        return *p;
    }
    if (auto p = read_opt_string(*o, "next_content_id", c.next_content_id)) {
        return *p;
    }
    (void)read_string(*o, "title", c.title);
    if (read_string(*o, "drm_cid", c.drm_cid)) {
        c.drm_cid = c.id;
    }
    if (const json::value* v = o->if_contains("credits_start_sec"); v != nullptr && !v->is_null()) {
        double d = 0;
        if (auto p = read_number(v, "credits_start_sec", 0, false, c.duration_sec,
                                 "must be null or a number in [0, duration_sec]", d)) {
            return *p;
        }
        c.credits_start_sec = d;
    }
    if (const json::value* v = o->if_contains("window_start_ms"); v != nullptr && !v->is_null()) {
        if (auto p = read_int64(v, "window_start_ms", 0, kMaxEpochMs,
                                "must be null or an integer in 0..253402300799999 (ms)", c.window_start_ms)) {
            return *p;
        }
    }
    if (const json::value* v = o->if_contains("window_end_ms"); v != nullptr && !v->is_null()) {
        std::int64_t end = 0;
        if (auto p = read_int64(v, "window_end_ms", c.window_start_ms, kMaxEpochMs,
                                "must be null or an integer in window_start_ms..253402300799999 (ms)", end)) {
            return *p;
        }
        c.window_end_ms = end;
    }
    if (const json::value* v = o->if_contains("geo_allow"); v != nullptr && !v->is_null()) {
        std::vector<std::string> geo;
        if (!get_string_array(*v, geo)) {
            return *fail("geo_allow", "must be null or an array of strings");
        }
        c.geo_allow = std::move(geo);
    }
    if (const json::value* v = o->if_contains("renditions"); v != nullptr && v->is_array()) {
        for (const json::value& rv : v->get_array()) {
            Rendition r;
            if (auto p = decode_rendition(rv, r)) {
                return *p;
            }
            c.renditions.push_back(std::move(r));
        }
    }
    if (const json::value* v = o->if_contains("audio"); v != nullptr && v->is_array()) {
        for (const json::value& av : v->get_array()) {
            AudioTrack t;
            if (!av.is_object() || read_string(av.get_object(), "lang", t.lang)) {
                return *fail("audio[].lang", "must be a string");
            }
            (void)read_string(av.get_object(), "codec", t.codec);
            if (av.get_object().contains("channels") &&
                read_int(av.get_object(), "channels", 1, kMaxChannels, "", t.channels)) {
                return *fail("audio[].channels", "must be an integer in 1..64");
            }
            c.audio.push_back(std::move(t));
        }
    }
    if (const json::value* v = o->if_contains("subtitles"); v != nullptr && v->is_array()) {
        for (const json::value& sv : v->get_array()) {
            SubtitleTrack t;
            if (!sv.is_object() || read_string(sv.get_object(), "lang", t.lang)) {
                return *fail("subtitles[].lang", "must be a string");
            }
            (void)read_string(sv.get_object(), "format", t.format);
            (void)read_string(sv.get_object(), "path", t.path);
            c.subtitles.push_back(std::move(t));
        }
    }
    return c;
}

core::Result<Account> decode_account(std::string_view json) {
    auto a = check_account(json);
    if (!a) {
        return core::make_error(Errc::kProtocolError);
    }
    return std::move(*a);
}

core::Result<Content> decode_content(std::string_view json) {
    auto c = check_content(json);
    if (!c) {
        return core::make_error(Errc::kProtocolError);
    }
    return std::move(*c);
}

}  // namespace moneta::domain
