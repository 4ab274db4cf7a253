/// @file services/moneta/src/domain/responses.hpp
/// @brief JSON bodies of successful playback responses (api.md §5), written without a DOM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/catalog.hpp"
#include "domain/delivery.hpp"
#include "domain/lease.hpp"
#include "domain/tracks.hpp"

namespace moneta::domain {

struct StartView {
    const std::string& session_id;
    const LeaseGranted& lease;
    int heartbeat_interval_sec;
    const Content& content;
    double resume_position_sec;
    const StreamBlock& stream;
    const DrmBlock& drm;
    const TrackChoice& tracks;
    const std::string& cdn_base_url;  ///< prefix of subtitle paths
    int max_concurrent_streams;
    std::int64_t server_time_ms;
};

/// 201 body of POST /v1/playback/sessions, written into @p buffer (its capacity reused).
std::string start_response(const StartView& v, std::string buffer = {});

/// 200 body of POST /v1/playback/sessions/{id}/refresh: new stream and drm blocks.
std::string refresh_response(const std::string& session_id, const StreamBlock& stream,
                             const DrmBlock& drm, std::int64_t server_time_ms);

/// 200 body of POST /v1/playback/sessions/{id}/heartbeat. @p stop_reason empty: "continue".
/// Written into @p buffer (its capacity reused: see JsonWriter), like sessions_response.
std::string heartbeat_response(std::int64_t lease_expires_at_ms, int heartbeat_interval_sec,
                               std::string_view stop_reason, std::int64_t server_time_ms,
                               std::string buffer = {});

/// 200 body of GET /v1/playback/sessions.
std::string sessions_response(int max_concurrent_streams, const std::vector<ActiveSession>& sessions,
                              std::int64_t server_time_ms, std::string buffer = {});

}  // namespace moneta::domain
