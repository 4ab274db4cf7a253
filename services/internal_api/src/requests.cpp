#include "requests.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cmath>

namespace moneta::internal_api {

namespace json = boost::json;

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

std::optional<ProgressRow> parse_item(const json::value& v, std::string& why) {
    if (!v.is_object()) {
        why = "items[] must be objects";
        return std::nullopt;
    }
    const json::object& o = v.get_object();
    ProgressRow r;
    auto str = [&](const char* k, std::string& out) {
        const json::value* f = o.if_contains(k);
        if (f == nullptr || !f->is_string() || !valid_id(f->get_string())) {
            why = std::string(k) + " must be an id";
            return false;
        }
        out = std::string(f->get_string());
        return true;
    };
    auto num = [&](const char* k, double& out) {
        const json::value* f = o.if_contains(k);
        if (f == nullptr || !f->is_number() || !std::isfinite(f->to_number<double>()) || f->to_number<double>() < 0) {
            why = std::string(k) + " must be a non-negative number";
            return false;
        }
        out = f->to_number<double>();
        return true;
    };
    auto integer = [&](const char* k, std::int64_t& out) {
        const json::value* f = o.if_contains(k);
        if (f == nullptr || !f->is_int64() || f->get_int64() < 0) {
            if (f != nullptr && f->is_uint64()) {
                why = std::string(k) + " out of range";
                return false;
            }
            why = std::string(k) + " must be a non-negative integer";
            return false;
        }
        out = f->get_int64();
        return true;
    };
    const json::value* completed = o.if_contains("completed");
    if (!str("profile_id", r.profile_id) || !str("content_id", r.content_id) ||
        !num("position_sec", r.position_sec) || !num("duration_sec", r.duration_sec) ||
        !integer("updated_at_ms", r.updated_at_ms) || !integer("seq", r.seq)) {
        return std::nullopt;
    }
    if (completed == nullptr || !completed->is_bool()) {
        why = "completed must be a boolean";
        return std::nullopt;
    }
    r.completed = completed->get_bool();
    return r;
}

boost::system::result<std::vector<ProgressRow>, std::string> parse_batch_upsert(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object() || !v.get_object().contains("items") || !v.get_object().at("items").is_array()) {
        return std::string("body must be {\"items\":[...]}");
    }
    const json::array& items = v.get_object().at("items").get_array();
    if (items.size() > 1000) {
        return std::string("at most 1000 items");
    }
    std::vector<ProgressRow> rows;
    rows.reserve(items.size());
    for (const json::value& item : items) {
        std::string why;
        auto row = parse_item(item, why);
        if (!row) {
            return why;
        }
        rows.push_back(std::move(*row));
    }
    return rows;
}

boost::system::result<std::vector<std::string>, std::string> parse_content_ids_query(std::string_view q) {
    std::vector<std::string> ids;
    constexpr std::string_view kKey = "content_ids=";
    if (q.empty()) {
        return ids;
    }
    if (q.substr(0, kKey.size()) != kKey) {
        return std::string("only content_ids is accepted");
    }
    std::string_view list = q.substr(kKey.size());
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view id = list.substr(0, comma);
        if (!valid_id(id)) {
            return std::string("content_ids must be ids");
        }
        ids.emplace_back(id);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    if (ids.size() > 100) {
        return std::string("at most 100 content_ids");
    }
    return ids;
}

}  // namespace moneta::internal_api
