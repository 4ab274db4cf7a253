#include "domain/lease.hpp"

#include <boost/json.hpp>

#include <array>

#include "domain/json_writer.hpp"

namespace moneta::domain {

std::string encode_session_info(const SessionInfo& s, std::size_t extra_capacity) {
    // The keys, quotes and the integer take < 160 bytes; the values as given (escaping may grow
    // an unusual device name: the string then grows once more, nothing breaks).
    const std::size_t values = s.session_id.size() + s.device_id.size() + s.device_type.size() +
                               s.device_name.size() + s.content_id.size() + s.profile_id.size();
    JsonWriter w(160 + values + extra_capacity);
    w.begin_object();
    w.key("session_id").string(s.session_id);
    w.key("device_id").string(s.device_id);
    w.key("device_type").string(s.device_type);
    w.key("device_name").string(s.device_name);
    w.key("content_id").string(s.content_id);
    w.key("profile_id").string(s.profile_id);
    w.key("started_at_ms").integer(s.started_at_ms);
    w.end_object();
    return std::move(w).take();
}

SessionInfo decode_session_info(std::string_view text) {
    SessionInfo s;
    boost::system::error_code ec;
    // The tree lives in a stack arena (a session info is ~250 bytes of JSON): a session list
    // decodes one per live session, with no heap allocation per node.
    std::array<unsigned char, 2048> buf;
    boost::json::monotonic_resource arena(buf.data(), buf.size());
    const boost::json::value v = boost::json::parse(text, ec, &arena);
    if (ec || !v.is_object()) {
        return s;
    }
    const auto& o = v.get_object();
    auto str = [&](std::string_view k, std::string& out) {
        if (const auto* f = o.if_contains(k); f != nullptr && f->is_string()) {
            out.assign(f->get_string().data(), f->get_string().size());
        }
    };
    str("session_id", s.session_id);
    str("device_id", s.device_id);
    str("device_type", s.device_type);
    str("device_name", s.device_name);
    str("content_id", s.content_id);
    str("profile_id", s.profile_id);
    if (const auto* f = o.if_contains("started_at_ms"); f != nullptr && f->is_int64()) {
        s.started_at_ms = f->get_int64();
    }
    return s;
}

std::string stream_limit_details(const LeaseDenied& denied) {
    JsonWriter w(128 + 128 * denied.active.size());
    w.begin_object().key("active_sessions").begin_array();
    for (const ActiveSession& a : denied.active) {
        w.begin_object();
        w.key("session_id").string(a.info.session_id);
        w.key("device_type").string(a.info.device_type);
        w.key("content_id").string(a.info.content_id);
        w.key("last_seen_ms").integer(a.last_seen_ms);
        w.end_object();
    }
    w.end_array().end_object();
    return std::move(w).take();
}

}  // namespace moneta::domain
