/// @file services/moneta/src/domain/requests.hpp
/// @brief Strict parsing of the playback request bodies (api.md §5). Any malformed JSON, wrong
/// type, unknown enum value, missing field or bad id is INVALID_REQUEST with a field-level reason
/// in `details`. Unknown extra fields are ignored (older and newer apps share one API).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace moneta::domain {

/// The longest id is_valid_id accepts.
inline constexpr std::size_t kMaxIdLength = 64;

/// ids: [A-Za-z0-9_-]{1,kMaxIdLength} (api.md §4).
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

/// A capability list: at most 16 names (a longer list is refused), each a view of the
/// vocabulary's static name (not of the request body), so parsing allocates nothing.
class NameList {
public:
    static constexpr std::size_t kMax = 16;

    NameList() = default;
    /// The first kMax of @p names (the views must outlive the list).
    NameList(std::initializer_list<std::string_view> names) noexcept {
        for (const std::string_view n : names) {
            push_back(n);
        }
    }
    bool push_back(std::string_view name) noexcept {
        if (size_ == kMax) {
            return false;
        }
        items_[size_++] = name;
        return true;
    }
    const std::string_view* begin() const noexcept { return items_.data(); }
    const std::string_view* end() const noexcept { return items_.data() + size_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view operator[](std::size_t i) const noexcept { return items_[i]; }
    friend bool operator==(const NameList& a, const NameList& b) noexcept {
        return std::equal(a.begin(), a.end(), b.begin(), b.end());
    }

private:
    std::array<std::string_view, kMax> items_{};
    std::size_t size_ = 0;
};

struct Capabilities {
    NameList protocols;     ///< dash | hls
    NameList drm;           ///< widevine | playready | fairplay
    NameList video_codecs;  ///< avc | hevc | av1
    NameList hdr;           ///< hdr10 | dolby_vision
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
