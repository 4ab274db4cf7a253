/// @file tests/services/moneta/domain/requests_dom_reference.hpp
/// @brief The request body parsers as they were before issue 11: a Boost.JSON DOM read with
/// `if_contains`. Kept only as the oracle that the SAX parsers of domain/requests.cpp are
/// compared with (requests_test.cpp, fuzz/moneta_requests_fuzz.cpp); production never links it.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "domain/requests.hpp"

namespace moneta::domain::dom_reference {

Parsed<StartRequest> parse_start_request(std::string_view body);
Parsed<HeartbeatRequest> parse_heartbeat_request(std::string_view body);
Parsed<StopRequest> parse_stop_request(std::string_view body);
Parsed<ProgressPut> parse_progress_put(std::string_view body, std::int64_t now_ms);

/// Equal bit for bit (-0.0 is not 0.0 here: the parsers must agree on the sign too).
inline bool same_bits(double a, double b) noexcept {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

inline bool same(const FieldError& a, const FieldError& b) {
    return a.field == b.field && a.reason == b.reason;
}
inline bool same(const StartRequest& a, const StartRequest& b) {
    return a.content_id == b.content_id && a.device.id == b.device.id &&
           a.device.type == b.device.type && a.device.name == b.device.name &&
           a.device.app_version == b.device.app_version &&
           a.capabilities.protocols == b.capabilities.protocols &&
           a.capabilities.drm == b.capabilities.drm &&
           a.capabilities.video_codecs == b.capabilities.video_codecs &&
           a.capabilities.hdr == b.capabilities.hdr &&
           a.capabilities.max_height == b.capabilities.max_height && a.resume == b.resume &&
           a.replace_session_id == b.replace_session_id &&
           a.preferred_audio_lang == b.preferred_audio_lang &&
           a.preferred_subtitle_lang == b.preferred_subtitle_lang;
}
inline bool same(const HeartbeatRequest& a, const HeartbeatRequest& b) {
    return same_bits(a.position_sec, b.position_sec) && a.state == b.state && a.seq == b.seq;
}
inline bool same(const StopRequest& a, const StopRequest& b) {
    return same_bits(a.position_sec, b.position_sec) && a.reason == b.reason && a.seq == b.seq;
}
inline bool same(const ProgressPut& a, const ProgressPut& b) {
    return same_bits(a.position_sec, b.position_sec) && same_bits(a.duration_sec, b.duration_sec) &&
           a.updated_at_ms == b.updated_at_ms && a.seq == b.seq;
}

/// The same request, or the same error (field path and reason).
template <class T>
bool same(const Parsed<T>& a, const Parsed<T>& b) {
    if (a.index() != b.index()) {
        return false;
    }
    if (const auto* e = std::get_if<FieldError>(&a)) {
        return same(*e, std::get<FieldError>(b));
    }
    return same(std::get<T>(a), std::get<T>(b));
}

/// For failure messages: "error field: reason" or "accepted".
template <class T>
std::string describe(const Parsed<T>& p) {
    if (const auto* e = std::get_if<FieldError>(&p)) {
        return "error " + e->field + ": " + e->reason;
    }
    return "accepted";
}

}  // namespace moneta::domain::dom_reference
