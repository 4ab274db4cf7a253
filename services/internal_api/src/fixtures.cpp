#include "fixtures.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace moneta::internal_api {

namespace json = boost::json;

namespace {

struct Fail {
    std::string message;
};

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
            return false;
        }
    }
    return true;
}

const json::value& need(const json::object& o, std::string_view key, std::string_view where) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
        throw Fail{std::string(where) + ": missing \"" + std::string(key) + "\""};
    }
    return *v;
}

std::string need_id(const json::object& o, std::string_view where) {
    const json::value& v = need(o, "id", where);
    if (!v.is_string() || !valid_id(v.get_string())) {
        throw Fail{std::string(where) + ": id must match [A-Za-z0-9_-]{1,64}"};
    }
    return std::string(v.get_string());
}

/// splitmix64: tiny, deterministic across platforms (std:: distributions are not).
struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
};

std::string pad(std::uint64_t n, int width) {
    std::string s = std::to_string(n);
    return std::string(static_cast<std::size_t>(std::max(0, width - static_cast<int>(s.size()))), '0') + s;
}

json::object rendition(const char* protocol, json::array drm, const char* codec, int height,
                       json::value hdr, const std::string& base) {
    const bool hls = std::string_view(protocol) == "hls";
    return json::object{{"protocol", protocol}, {"drm", std::move(drm)}, {"video_codec", codec},
                        {"max_height", height}, {"hdr", std::move(hdr)},
                        {"path", base + codec + "_" + std::to_string(height) + (hls ? "/master.m3u8" : "/manifest.mpd")}};
}

/// Appends generated plans-compatible accounts and contents to @p doc.
void generate(json::object& doc, const json::object& spec) {
    const auto accounts = spec.contains("accounts") ? spec.at("accounts").to_number<std::int64_t>() : 0;
    const auto contents = spec.contains("contents") ? spec.at("contents").to_number<std::int64_t>() : 0;
    Rng rng{spec.contains("seed") ? static_cast<std::uint64_t>(spec.at("seed").to_number<std::int64_t>()) : 42};
    if (accounts < 0 || accounts > 1'000'000 || contents < 0 || contents > 100'000) {
        throw Fail{"generate: accounts must be in [0, 1e6] and contents in [0, 1e5]"};
    }
    json::array& acc = doc["accounts"].as_array();
    static const char* kPlans[] = {"basic", "standard", "standard", "premium", "premium"};
    static const char* kCountries[] = {"KR", "KR", "KR", "JP", "US"};
    for (std::int64_t i = 1; i <= accounts; ++i) {
        const std::string id = "a_" + pad(static_cast<std::uint64_t>(i), 5);
        // Every 50th account has lapsed: SUBSCRIPTION_REQUIRED paths get load too.
        const bool lapsed = i % 50 == 0;
        acc.push_back(json::object{
            {"id", id},
            {"status", "active"},
            {"plan", kPlans[rng.below(5)]},
            {"paid_until_ms", lapsed ? std::int64_t{1600000000000} : std::int64_t{4102444800000}},
            {"country", kCountries[rng.below(5)]},
            {"profiles", json::array{json::object{{"id", "p_" + pad(static_cast<std::uint64_t>(i), 5) + "_1"}, {"name", "Main"}, {"max_age_rating", 19}},
                                     json::object{{"id", "p_" + pad(static_cast<std::uint64_t>(i), 5) + "_2"}, {"name", "Kids"}, {"max_age_rating", 12}}}}});
    }
    json::array& con = doc["contents"].as_array();
    static const int kRatings[] = {0, 7, 12, 15, 19};
    for (std::int64_t i = 1; i <= contents; ++i) {
        const std::string id = "c_" + pad(static_cast<std::uint64_t>(i), 4);
        const std::string base = "/vod/" + id + "/";
        const double duration = 1200.0 + static_cast<double>(rng.below(7800));
        json::array renditions;
        if (rng.below(3) == 0) {
            renditions.push_back(rendition("dash", json::array{"widevine", "playready"}, "hevc", 2160, "hdr10", base));
        }
        renditions.push_back(rendition("dash", json::array{"widevine", "playready"}, "avc", 1080, nullptr, base));
        renditions.push_back(rendition("hls", json::array{"fairplay"}, "avc", 1080, nullptr, base));
        con.push_back(json::object{
            {"id", id}, {"kind", "movie"}, {"title", "Generated title " + std::to_string(i)},
            {"duration_sec", duration}, {"credits_start_sec", duration - 120},
            {"window_start_ms", 0}, {"window_end_ms", nullptr},
            // Every 10th title is geo-limited to Japan.
            {"geo_allow", i % 10 == 0 ? json::value(json::array{"JP"}) : json::value(nullptr)},
            {"min_plan", i % 7 == 0 ? "premium" : "basic"},
            {"age_rating", kRatings[rng.below(5)]},
            {"next_content_id", nullptr}, {"drm_cid", id},
            {"renditions", std::move(renditions)},
            {"audio", json::array{json::object{{"lang", "ko"}, {"codec", "aac"}, {"channels", 2}},
                                  json::object{{"lang", "en"}, {"codec", "aac"}, {"channels", 6}}}},
            {"subtitles", json::array{json::object{{"lang", "ko"}, {"format", "webvtt"}, {"path", base + "subs/ko.vtt"}}}}});
    }
}

json::object read_document(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Fail{file.string() + ": cannot open"};
    }
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    json::value v = json::parse(ss.str(), ec);
    if (ec || !v.is_object()) {
        throw Fail{file.string() + ": not a JSON object (" + ec.message() + ")"};
    }
    json::object doc = std::move(v.get_object());
    for (const char* k : {"plans", "accounts", "contents", "progress"}) {
        if (!doc.contains(k)) {
            doc[k] = json::array{};
        }
        if (!doc.at(k).is_array()) {
            throw Fail{std::string(k) + ": must be an array"};
        }
    }
    if (const json::value* g = doc.if_contains("generate")) {
        if (!g->is_object()) {
            throw Fail{"generate: must be an object"};
        }
        const json::object spec = g->get_object();
        generate(doc, spec);
        doc.erase("generate");
    }
    return doc;
}

Fixtures build(const json::object& doc) {
    Fixtures f;
    std::map<std::string, json::object, std::less<>> plans;
    for (const json::value& pv : doc.at("plans").as_array()) {
        if (!pv.is_object()) {
            throw Fail{"plans: entries must be objects"};
        }
        const json::object& p = pv.get_object();
        const std::string id = need_id(p, "plans[]");
        for (const char* k : {"rank", "max_streams", "max_height", "uhd", "hdr"}) {
            need(p, k, "plans[" + id + "]");
        }
        if (!plans.emplace(id, p).second) {
            throw Fail{"plans[" + id + "]: duplicate id"};
        }
    }
    std::set<std::string> seen;
    for (const json::value& av : doc.at("accounts").as_array()) {
        if (!av.is_object()) {
            throw Fail{"accounts: entries must be objects"};
        }
        json::object a = av.get_object();
        const std::string id = need_id(a, "accounts[]");
        const std::string where = "accounts[" + id + "]";
        if (!seen.insert(id).second) {
            throw Fail{where + ": duplicate id"};
        }
        const json::value& plan_id = need(a, "plan", where);
        auto plan = plan_id.is_string() ? plans.find(plan_id.get_string()) : plans.end();
        if (plan == plans.end()) {
            throw Fail{where + ": unknown plan " + json::serialize(plan_id)};
        }
        need(a, "status", where);
        need(a, "paid_until_ms", where);
        need(a, "country", where);
        const json::value& profiles = need(a, "profiles", where);
        if (!profiles.is_array()) {
            throw Fail{where + ": profiles must be an array"};
        }
        for (const json::value& p : profiles.get_array()) {
            if (!p.is_object()) {
                throw Fail{where + ": profiles must be objects"};
            }
            const std::string pid = need_id(p.get_object(), where + ".profiles[]");
            need(p.get_object(), "max_age_rating", where + ".profiles[" + pid + "]");
        }
        json::object plan_doc = plan->second;
        a["plan"] = std::move(plan_doc);
        f.accounts.emplace_back(id, json::serialize(a));
    }
    seen.clear();
    for (const json::value& cv : doc.at("contents").as_array()) {
        if (!cv.is_object()) {
            throw Fail{"contents: entries must be objects"};
        }
        const json::object& c = cv.get_object();
        const std::string id = need_id(c, "contents[]");
        const std::string where = "contents[" + id + "]";
        if (!seen.insert(id).second) {
            throw Fail{where + ": duplicate id"};
        }
        for (const char* k : {"kind", "duration_sec", "min_plan", "age_rating", "renditions"}) {
            need(c, k, where);
        }
        const json::value& mp = c.at("min_plan");
        if (!mp.is_string() || !plans.contains(mp.get_string())) {
            throw Fail{where + ": unknown min_plan " + json::serialize(mp)};
        }
        f.contents.emplace_back(id, json::serialize(c));
    }
    for (const json::value& pv : doc.at("progress").as_array()) {
        if (!pv.is_object()) {
            throw Fail{"progress: entries must be objects"};
        }
        const json::object& p = pv.get_object();
        ProgressRow row;
        const json::value& pid = need(p, "profile_id", "progress[]");
        const json::value& cid = need(p, "content_id", "progress[]");
        if (!pid.is_string() || !cid.is_string() || !valid_id(pid.get_string()) || !valid_id(cid.get_string())) {
            throw Fail{"progress[]: profile_id/content_id must be valid ids"};
        }
        row.profile_id = std::string(pid.get_string());
        row.content_id = std::string(cid.get_string());
        row.position_sec = need(p, "position_sec", "progress[]").to_number<double>();
        row.duration_sec = p.contains("duration_sec") ? p.at("duration_sec").to_number<double>() : 0;
        row.completed = p.contains("completed") && p.at("completed").is_bool() && p.at("completed").get_bool();
        row.updated_at_ms = need(p, "updated_at_ms", "progress[]").to_number<std::int64_t>();
        row.seq = p.contains("seq") ? p.at("seq").to_number<std::int64_t>() : 0;
        f.progress.push_back(std::move(row));
    }
    // Benchmark triples: active, paid, non-basic accounts × unrestricted titles their adult
    // profile may watch everywhere.
    std::vector<std::string> open_titles;
    for (const json::value& cv : doc.at("contents").as_array()) {
        const json::object& c = cv.get_object();
        if (c.at("min_plan").get_string() == "basic" && (!c.contains("geo_allow") || c.at("geo_allow").is_null()) &&
            (!c.contains("window_end_ms") || c.at("window_end_ms").is_null()) &&
            (!c.contains("window_start_ms") || c.at("window_start_ms").to_number<std::int64_t>() == 0)) {
            open_titles.emplace_back(c.at("id").get_string());
        }
    }
    std::size_t t = 0;
    for (const json::value& av : doc.at("accounts").as_array()) {
        const json::object& a = av.get_object();
        if (open_titles.empty() || a.at("status").get_string() != "active" ||
            a.at("paid_until_ms").to_number<std::int64_t>() < 4000000000000 || a.at("plan").get_string() == "basic" ||
            a.at("profiles").get_array().empty()) {
            continue;
        }
        const json::object& p = a.at("profiles").get_array()[0].get_object();
        if (p.at("max_age_rating").to_number<std::int64_t>() < 19) {
            continue;
        }
        f.playable.push_back(std::string(a.at("id").get_string()) + " " + std::string(p.at("id").get_string()) + " " +
                             open_titles[t++ % open_titles.size()]);
    }
    return f;
}

}  // namespace

boost::system::result<Fixtures, std::string> load_fixtures(const std::filesystem::path& file) {
    try {
        return build(read_document(file));
    } catch (const Fail& e) {
        return {boost::system::in_place_error, "fixtures: " + e.message};
    } catch (const std::exception& e) {
        return {boost::system::in_place_error, std::string("fixtures: wrong type: ") + e.what()};
    }
}

boost::system::result<std::string, std::string> expand_fixtures_json(const std::filesystem::path& file) {
    try {
        return {boost::system::in_place_value, json::serialize(read_document(file))};
    } catch (const Fail& e) {
        return {boost::system::in_place_error, "fixtures: " + e.message};
    }
}

}  // namespace moneta::internal_api
