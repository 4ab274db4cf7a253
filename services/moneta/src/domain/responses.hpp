/// @file services/moneta/src/domain/responses.hpp
/// @brief JSON bodies of successful playback responses (api.md §5), written without a DOM.
#pragma once

#include <cstdint>
#include <string>

#include "domain/catalog.hpp"
#include "domain/lease.hpp"

namespace moneta::domain {

struct StartView {
    const std::string& session_id;
    const LeaseGranted& lease;
    int heartbeat_interval_sec;
    const Content& content;
    int max_concurrent_streams;
    std::int64_t server_time_ms;
};

/// 201 body of POST /v1/playback/sessions (the parts this build implements: session, lease,
/// content, limits; stream/drm/tracks/resume arrive with the playback-domain work).
std::string start_response(const StartView& v);

/// 200 body of POST /v1/playback/sessions/{id}/heartbeat.
std::string heartbeat_response(std::int64_t lease_expires_at_ms, int heartbeat_interval_sec,
                               std::int64_t server_time_ms);

}  // namespace moneta::domain
