/// @file services/moneta/src/domain/catalog.hpp
/// @brief Accounts and contents as the playback domain sees them (api.md §7 shapes).
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moneta::domain {

struct Plan {
    std::string id;
    int rank = 0;
    int max_streams = 1;
    int max_height = 0;
    bool uhd = false;
    bool hdr = false;
};

struct Profile {
    std::string id;
    std::string name;
    int max_age_rating = 0;
};

struct Account {
    std::string id;
    std::string status;  ///< "active" plays; anything else is SUBSCRIPTION_REQUIRED
    Plan plan;
    std::int64_t paid_until_ms = 0;
    std::string country;  ///< ISO 3166-1 alpha-2, upper case
    /// Inline up to 4 (what most accounts have): an account is decoded on most admissions (the
    /// per-worker decoded cache cannot hold a large account base), and this saves an allocation.
    boost::container::small_vector<Profile, 4> profiles;

    const Profile* find_profile(std::string_view profile_id) const noexcept;
};

struct Rendition {
    std::string protocol;           ///< "dash" | "hls"
    std::vector<std::string> drm;   ///< empty = clear
    std::string video_codec;        ///< "avc" | "hevc" | "av1"
    int max_height = 0;
    std::optional<std::string> hdr; ///< "hdr10" | "dolby_vision" | none
    std::string path;
};

struct AudioTrack {
    std::string lang;
    std::string codec;
    int channels = 2;
};

struct SubtitleTrack {
    std::string lang;
    std::string format;
    std::string path;
};

struct Content {
    std::string id;
    std::string kind;  ///< "movie" | "episode"
    std::string title;
    double duration_sec = 0;
    std::optional<double> credits_start_sec;
    std::int64_t window_start_ms = 0;
    std::optional<std::int64_t> window_end_ms;
    std::optional<std::vector<std::string>> geo_allow;  ///< nullopt = everywhere
    std::string min_plan;
    int age_rating = 0;
    std::optional<std::string> next_content_id;
    std::string drm_cid;
    std::vector<Rendition> renditions;
    std::vector<AudioTrack> audio;
    std::vector<SubtitleTrack> subtitles;
};

}  // namespace moneta::domain
