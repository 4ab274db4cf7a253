#include "domain/responses.hpp"

#include "domain/json_writer.hpp"

namespace moneta::domain {

std::string start_response(const StartView& v) {
    JsonWriter w(512);
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
    if (v.content.credits_start_sec) {
        w.number(*v.content.credits_start_sec);
    } else {
        w.null();
    }
    w.key("next_content_id");
    if (v.content.next_content_id) {
        w.string(*v.content.next_content_id);
    } else {
        w.null();
    }
    w.end_object();
    w.key("limits").begin_object();
    w.key("max_concurrent_streams").integer(v.max_concurrent_streams);
    w.key("active_streams").integer(v.lease.active_streams);
    w.end_object();
    w.key("server_time_ms").integer(v.server_time_ms);
    w.end_object();
    return std::move(w).take();
}

std::string heartbeat_response(std::int64_t lease_expires_at_ms, int heartbeat_interval_sec,
                               std::int64_t server_time_ms) {
    JsonWriter w(160);
    w.begin_object();
    w.key("lease_expires_at_ms").integer(lease_expires_at_ms);
    w.key("heartbeat_interval_sec").integer(heartbeat_interval_sec);
    w.key("action").string("continue");
    w.key("reason").null();
    w.key("server_time_ms").integer(server_time_ms);
    w.end_object();
    return std::move(w).take();
}

}  // namespace moneta::domain
