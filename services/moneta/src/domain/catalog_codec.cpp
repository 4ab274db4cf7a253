#include "domain/catalog_codec.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <limits>

namespace moneta::domain {
namespace {

namespace json = boost::json;
using core::Errc;

// Each getter returns false on a missing/mistyped field so decoding stays exception-free.
bool get_string(const json::object& o, std::string_view k, std::string& out) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || !v->is_string()) {
        return false;
    }
    out.assign(v->get_string().data(), v->get_string().size());
    return true;
}

bool get_opt_string(const json::object& o, std::string_view k, std::optional<std::string>& out) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || v->is_null()) {
        out.reset();
        return true;
    }
    if (!v->is_string()) {
        return false;
    }
    out.emplace(v->get_string().data(), v->get_string().size());
    return true;
}

bool get_int64(const json::value* v, std::int64_t& out) {
    if (v == nullptr) {
        return false;
    }
    if (v->is_int64()) {
        out = v->get_int64();
        return true;
    }
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = static_cast<std::int64_t>(v->get_uint64());
        return true;
    }
    if (v->is_double()) {
        const double d = v->get_double();
        if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) {
            out = static_cast<std::int64_t>(d);
            return true;
        }
    }
    return false;
}

bool get_int(const json::object& o, std::string_view k, int& out) {
    std::int64_t v = 0;
    if (!get_int64(o.if_contains(k), v) || v < INT32_MIN || v > INT32_MAX) {
        return false;
    }
    out = static_cast<int>(v);
    return true;
}

bool get_double(const json::value* v, double& out) {
    if (v == nullptr || !v->is_number()) {
        return false;
    }
    out = v->to_number<double>();
    return std::isfinite(out);
}

bool get_bool(const json::object& o, std::string_view k, bool& out) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr || !v->is_bool()) {
        return false;
    }
    out = v->get_bool();
    return true;
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

const json::object* parse_object(std::string_view text, json::value& storage) {
    boost::system::error_code ec;
    storage = json::parse(text, ec);
    if (ec || !storage.is_object()) {
        return nullptr;
    }
    return &storage.get_object();
}

bool decode_plan(const json::value* v, Plan& plan) {
    if (v == nullptr || !v->is_object()) {
        return false;
    }
    const json::object& o = v->get_object();
    return get_string(o, "id", plan.id) && get_int(o, "rank", plan.rank) &&
           get_int(o, "max_streams", plan.max_streams) && get_int(o, "max_height", plan.max_height) &&
           get_bool(o, "uhd", plan.uhd) && get_bool(o, "hdr", plan.hdr) && plan.max_streams >= 0;
}

bool decode_rendition(const json::value& v, Rendition& r) {
    if (!v.is_object()) {
        return false;
    }
    const json::object& o = v.get_object();
    const json::value* drm = o.if_contains("drm");
    if (drm == nullptr) {
        return false;
    }
    if (!drm->is_null() && !get_string_array(*drm, r.drm)) {
        return false;
    }
    return get_string(o, "protocol", r.protocol) && get_string(o, "video_codec", r.video_codec) &&
           get_int(o, "max_height", r.max_height) && get_opt_string(o, "hdr", r.hdr) &&
           get_string(o, "path", r.path);
}

}  // namespace

core::Result<Account> decode_account(std::string_view text) {
    json::value storage;
    const json::object* o = parse_object(text, storage);
    if (o == nullptr) {
        return core::make_error(Errc::kProtocolError);
    }
    Account a;
    if (!get_string(*o, "id", a.id) || !get_string(*o, "status", a.status) ||
        !decode_plan(o->if_contains("plan"), a.plan) ||
        !get_int64(o->if_contains("paid_until_ms"), a.paid_until_ms) ||
        !get_string(*o, "country", a.country)) {
        return core::make_error(Errc::kProtocolError);
    }
    const json::value* profiles = o->if_contains("profiles");
    if (profiles == nullptr || !profiles->is_array()) {
        return core::make_error(Errc::kProtocolError);
    }
    for (const json::value& pv : profiles->get_array()) {
        if (!pv.is_object()) {
            return core::make_error(Errc::kProtocolError);
        }
        Profile p;
        const json::object& po = pv.get_object();
        if (!get_string(po, "id", p.id) || !get_int(po, "max_age_rating", p.max_age_rating)) {
            return core::make_error(Errc::kProtocolError);
        }
        (void)get_string(po, "name", p.name);
        a.profiles.push_back(std::move(p));
    }
    return a;
}

core::Result<Content> decode_content(std::string_view text) {
    json::value storage;
    const json::object* o = parse_object(text, storage);
    if (o == nullptr) {
        return core::make_error(Errc::kProtocolError);
    }
    Content c;
    // Durations and credits are seconds into the title: a negative one would reach the stored
    // progress values, whose decoders refuse it (domain/progress.hpp), and hide the position.
    if (!get_string(*o, "id", c.id) || !get_string(*o, "kind", c.kind) ||
        !get_double(o->if_contains("duration_sec"), c.duration_sec) || c.duration_sec < 0 ||
        !get_string(*o, "min_plan", c.min_plan) || !get_int(*o, "age_rating", c.age_rating) ||
        !get_opt_string(*o, "next_content_id", c.next_content_id)) {
        return core::make_error(Errc::kProtocolError);
    }
    (void)get_string(*o, "title", c.title);
    if (!get_string(*o, "drm_cid", c.drm_cid)) {
        c.drm_cid = c.id;
    }
    if (const json::value* v = o->if_contains("credits_start_sec"); v != nullptr && !v->is_null()) {
        double d = 0;
        if (!get_double(v, d) || d < 0) {
            return core::make_error(Errc::kProtocolError);
        }
        c.credits_start_sec = d;
    }
    if (const json::value* v = o->if_contains("window_start_ms"); v != nullptr && !v->is_null()) {
        if (!get_int64(v, c.window_start_ms)) {
            return core::make_error(Errc::kProtocolError);
        }
    }
    if (const json::value* v = o->if_contains("window_end_ms"); v != nullptr && !v->is_null()) {
        std::int64_t end = 0;
        if (!get_int64(v, end)) {
            return core::make_error(Errc::kProtocolError);
        }
        c.window_end_ms = end;
    }
    if (const json::value* v = o->if_contains("geo_allow"); v != nullptr && !v->is_null()) {
        std::vector<std::string> geo;
        if (!get_string_array(*v, geo)) {
            return core::make_error(Errc::kProtocolError);
        }
        c.geo_allow = std::move(geo);
    }
    if (const json::value* v = o->if_contains("renditions"); v != nullptr && v->is_array()) {
        for (const json::value& rv : v->get_array()) {
            Rendition r;
            if (!decode_rendition(rv, r)) {
                return core::make_error(Errc::kProtocolError);
            }
            c.renditions.push_back(std::move(r));
        }
    }
    if (const json::value* v = o->if_contains("audio"); v != nullptr && v->is_array()) {
        for (const json::value& av : v->get_array()) {
            AudioTrack t;
            if (!av.is_object() || !get_string(av.get_object(), "lang", t.lang)) {
                return core::make_error(Errc::kProtocolError);
            }
            (void)get_string(av.get_object(), "codec", t.codec);
            (void)get_int(av.get_object(), "channels", t.channels);
            c.audio.push_back(std::move(t));
        }
    }
    if (const json::value* v = o->if_contains("subtitles"); v != nullptr && v->is_array()) {
        for (const json::value& sv : v->get_array()) {
            SubtitleTrack t;
            if (!sv.is_object() || !get_string(sv.get_object(), "lang", t.lang)) {
                return core::make_error(Errc::kProtocolError);
            }
            (void)get_string(sv.get_object(), "format", t.format);
            (void)get_string(sv.get_object(), "path", t.path);
            c.subtitles.push_back(std::move(t));
        }
    }
    return c;
}

}  // namespace moneta::domain
