/// @file services/moneta/src/domain/requests.hpp
/// @brief Strict parsing of the playback request bodies (api.md §5). Any malformed JSON, wrong
/// type, unknown enum value, missing field or bad id is INVALID_REQUEST with a field-level reason
/// in `details`. Unknown extra fields are ignored (older and newer apps share one API).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace moneta::domain {

/// ids: [A-Za-z0-9_-]{1,64} (api.md §4).
bool is_valid_id(std::string_view id) noexcept;

/// Two upper-case ASCII letters (ISO 3166-1 alpha-2).
bool is_valid_country(std::string_view c) noexcept;

enum class DeviceType : std::uint8_t { kAndroid, kIos, kWeb, kTv };
enum class ResumeMode : std::uint8_t { kAuto, kStartOver };
enum class PlaybackState : std::uint8_t { kPlaying, kPaused, kBuffering };
enum class StopReason : std::uint8_t { kUser, kEnded, kBackground, kError, kNextEpisode };

std::string_view to_string(DeviceType t) noexcept;
std::string_view to_string(PlaybackState s) noexcept;
std::string_view to_string(StopReason r) noexcept;

struct Device {
    std::string id;
    DeviceType type = DeviceType::kWeb;
    std::string name;
    std::string app_version;
};

struct Capabilities {
    std::vector<std::string> protocols;     ///< dash | hls
    std::vector<std::string> drm;           ///< widevine | playready | fairplay
    std::vector<std::string> video_codecs;  ///< avc | hevc | av1
    std::vector<std::string> hdr;           ///< hdr10 | dolby_vision
    int max_height = 0;
};

struct StartRequest {
    std::string content_id;
    Device device;
    Capabilities capabilities;
    ResumeMode resume = ResumeMode::kAuto;
    std::optional<std::string> replace_session_id;
    std::optional<std::string> preferred_audio_lang;
    std::optional<std::string> preferred_subtitle_lang;
};

struct HeartbeatRequest {
    double position_sec = 0;
    PlaybackState state = PlaybackState::kPlaying;
    std::int64_t seq = 0;
};

struct StopRequest {
    double position_sec = 0;
    StopReason reason = StopReason::kUser;
    std::int64_t seq = 0;
};

/// Body of PUT /v1/me/progress/{content_id} (offline viewing): the client's clock and seq.
struct ProgressPut {
    double position_sec = 0;
    double duration_sec = 0;
    std::int64_t updated_at_ms = 0;
    std::int64_t seq = 0;
};

/// Why a body was rejected: the JSON path of the offending field and a short reason. Safe to
/// return to the client (it only echoes field names we define).
struct FieldError {
    std::string field;
    std::string reason;
};

template <class T>
using Parsed = std::variant<T, FieldError>;

Parsed<StartRequest> parse_start_request(std::string_view body);
Parsed<HeartbeatRequest> parse_heartbeat_request(std::string_view body);
Parsed<StopRequest> parse_stop_request(std::string_view body);
/// @param now_ms updated_at_ms may not lie more than a day in the future (a broken device clock
/// must not pin a position forever).
Parsed<ProgressPut> parse_progress_put(std::string_view body, std::int64_t now_ms);

/// `{"field":"...","reason":"..."}` for the error details.
std::string field_error_details(const FieldError& e);

}  // namespace moneta::domain
