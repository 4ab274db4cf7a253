/// @file services/moneta/src/domain/delivery.hpp
/// @brief The signed-delivery and DRM parts of a start/refresh response as plain data (built by
/// services/moneta/src/delivery from libs/cdn and libs/drm; written by responses.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moneta::domain {

struct CdnCookie {
    std::string name;
    std::string value;
    std::string domain;
    std::string path;
};

/// api.md §5.1 "stream".
struct StreamBlock {
    std::string protocol;
    std::string manifest_url;
    std::vector<CdnCookie> cookies;
    /// Appended to other delivery URLs of the title (subtitles) when the CDN authorizes by query
    /// token instead of cookies (Akamai: "?hdnts=..."); empty with CloudFront cookies.
    std::string url_suffix;
    std::int64_t expires_at_ms = 0;
    std::string video_codec;
    int max_height = 0;
    std::optional<std::string> hdr;
};

/// api.md §5.1 "drm"; `system == "none"` for clear content (then every other field is empty).
struct DrmBlock {
    std::string system = "none";
    std::string license_url;
    std::optional<std::string> certificate_url;
    std::string header_name;
    std::string token;
    std::int64_t token_expires_at_ms = 0;
};

}  // namespace moneta::domain
