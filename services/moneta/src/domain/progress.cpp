#include "domain/progress.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "domain/json_writer.hpp"

namespace moneta::domain {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxIdsPerQuery = 100;

template <class T>
bool parse_number(std::string_view s, T& out) noexcept {
    if (s.empty()) {
        return false;
    }
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

/// Splits @p s at @p sep into exactly @p n parts; false when the count differs.
template <std::size_t N>
bool split_exact(std::string_view s, char sep, std::array<std::string_view, N>& parts) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
        const auto pos = s.find(sep);
        if (i + 1 == N) {
            if (pos != std::string_view::npos) {
                return false;
            }
            parts[i] = s;
            return true;
        }
        if (pos == std::string_view::npos) {
            return false;
        }
        parts[i] = s.substr(0, pos);
        s.remove_prefix(pos + 1);
    }
    return false;
}

/// What every writer produces: finite, non-negative position and duration; non-negative
/// updated_at_ms and seq (the system of record refuses negative ones).
bool valid_record(const ProgressRecord& r) noexcept {
    return std::isfinite(r.position_sec) && r.position_sec >= 0 && std::isfinite(r.duration_sec) &&
           r.duration_sec >= 0 && r.updated_at_ms >= 0 && r.seq >= 0;
}

}  // namespace

double completion_threshold_sec(double duration_sec, std::optional<double> credits_start_sec) noexcept {
    if (!(duration_sec > 0)) {
        return HUGE_VAL;
    }
    return std::max(credits_start_sec.value_or(0.0), 0.95 * duration_sec);
}

std::string format_seconds(double v) {
    char buf[kDoubleChars];
    return std::string(buf, write_double(buf, v));
}

std::string encode_progress_value(const ProgressRecord& r, std::string_view session_id) {
    std::string out = format_seconds(r.position_sec);
    out += '|';
    out += format_seconds(r.duration_sec);
    out += '|';
    out += std::to_string(r.updated_at_ms);
    out += '|';
    out += std::to_string(r.seq);
    out += r.completed ? "|1|" : "|0|";
    out += session_id;
    return out;
}

std::optional<ProgressRecord> decode_progress_value(std::string_view content_id, std::string_view v) {
    std::array<std::string_view, 6> p;
    if (!split_exact(v, '|', p)) {
        return std::nullopt;
    }
    ProgressRecord r;
    r.content_id = std::string(content_id);
    if (!parse_number(p[0], r.position_sec) || !parse_number(p[1], r.duration_sec) ||
        !parse_number(p[2], r.updated_at_ms) || !parse_number(p[3], r.seq) ||
        (p[4] != "0" && p[4] != "1")) {
        return std::nullopt;
    }
    // from_chars also reads "nan", "inf" and "-1": no writer produces them (a NaN would be
    // served as a null position), so such a value is as malformed as any other.
    if (!valid_record(r)) {
        return std::nullopt;
    }
    r.completed = p[4] == "1";
    return r;
}

double resume_position(const std::optional<ProgressRecord>& stored, ResumeMode mode) noexcept {
    if (mode == ResumeMode::kStartOver || !stored || stored->completed) {
        return 0;
    }
    return stored->position_sec;
}

Parsed<std::vector<std::string>> parse_content_ids_query(std::string_view query) {
    constexpr std::string_view kKey = "content_ids=";
    if (query.substr(0, kKey.size()) != kKey || query.find('&') != std::string_view::npos) {
        return FieldError{"content_ids", "required (and the only parameter)"};
    }
    // Browsers' URLSearchParams send the separator as %2C; ids themselves never hold '%'.
    std::string decoded;
    const std::string_view raw = query.substr(kKey.size());
    decoded.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%') {
            if (raw.substr(i, 3) != "%2C" && raw.substr(i, 3) != "%2c") {
                return FieldError{"content_ids", "must be a comma-separated list of ids"};
            }
            decoded += ',';
            i += 2;
        } else {
            decoded += raw[i];
        }
    }
    std::string_view list = decoded;
    std::vector<std::string> ids;
    while (true) {
        const auto comma = list.find(',');
        const std::string_view id = list.substr(0, comma);
        if (!is_valid_id(id)) {
            return FieldError{"content_ids", "must be a comma-separated list of ids"};
        }
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
            ids.emplace_back(id);
        }
        if (ids.size() > kMaxIdsPerQuery) {
            return FieldError{"content_ids", "at most 100 ids"};
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    return ids;
}

Parsed<int> parse_limit_query(std::string_view query) {
    if (query.empty()) {
        return 20;
    }
    constexpr std::string_view kKey = "limit=";
    int limit = 0;
    if (query.substr(0, kKey.size()) != kKey || !parse_number(query.substr(kKey.size()), limit) ||
        limit < 1 || limit > 100) {
        return FieldError{"limit", "must be an integer in [1, 100] (and the only parameter)"};
    }
    return limit;
}

std::string progress_items_response(const std::vector<ProgressRecord>& items, std::int64_t now_ms,
                                    std::string buffer) {
    JsonWriter w(std::move(buffer), 64 + 128 * items.size());
    w.begin_object().key("items").begin_array();
    for (const ProgressRecord& r : items) {
        w.begin_object();
        w.key("content_id").string(r.content_id);
        w.key("position_sec").number(r.position_sec);
        w.key("duration_sec").number(r.duration_sec);
        w.key("completed").boolean(r.completed);
        w.key("updated_at_ms").integer(r.updated_at_ms);
        w.end_object();
    }
    w.end_array();
    w.key("server_time_ms").integer(now_ms);
    w.end_object();
    return std::move(w).take();
}

std::optional<std::vector<ProgressRecord>> decode_upstream_progress(std::string_view body) {
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    const json::value* items = v.get_object().if_contains("items");
    if (items == nullptr || !items->is_array()) {
        return std::nullopt;
    }
    std::vector<ProgressRecord> out;
    out.reserve(items->get_array().size());
    for (const json::value& iv : items->get_array()) {
        if (!iv.is_object()) {
            return std::nullopt;
        }
        const json::object& o = iv.get_object();
        const json::value* cid = o.if_contains("content_id");
        const json::value* pos = o.if_contains("position_sec");
        const json::value* dur = o.if_contains("duration_sec");
        const json::value* done = o.if_contains("completed");
        const json::value* upd = o.if_contains("updated_at_ms");
        const json::value* seq = o.if_contains("seq");
        if (cid == nullptr || !cid->is_string() || pos == nullptr || !pos->is_number() || dur == nullptr ||
            !dur->is_number() || done == nullptr || !done->is_bool() || upd == nullptr || !upd->is_int64() ||
            (seq != nullptr && !seq->is_int64())) {
            return std::nullopt;
        }
        ProgressRecord r;
        r.content_id = std::string(cid->get_string().data(), cid->get_string().size());
        if (!is_valid_id(r.content_id)) {
            return std::nullopt;
        }
        r.position_sec = pos->to_number<double>();
        r.duration_sec = dur->to_number<double>();
        if (!std::isfinite(r.position_sec) || r.position_sec < 0 || !std::isfinite(r.duration_sec) ||
            r.duration_sec < 0) {
            return std::nullopt;
        }
        r.completed = done->get_bool();
        r.updated_at_ms = upd->get_int64();
        r.seq = seq != nullptr ? seq->get_int64() : 0;
        if (!valid_record(r)) {
            return std::nullopt;  // negative updated_at_ms or seq
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::string batch_upsert_body(const std::vector<ProgressUpsert>& items) {
    JsonWriter w(32 + 160 * items.size());
    w.begin_object().key("items").begin_array();
    for (const ProgressUpsert& u : items) {
        w.begin_object();
        w.key("profile_id").string(u.profile_id);
        w.key("content_id").string(u.record.content_id);
        w.key("position_sec").number(u.record.position_sec);
        w.key("duration_sec").number(u.record.duration_sec);
        w.key("completed").boolean(u.record.completed);
        w.key("updated_at_ms").integer(u.record.updated_at_ms);
        w.key("seq").integer(u.record.seq);
        w.end_object();
    }
    w.end_array().end_object();
    return std::move(w).take();
}

}  // namespace moneta::domain
