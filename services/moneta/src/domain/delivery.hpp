/// @file services/moneta/src/domain/delivery.hpp
/// @brief The signed-delivery and DRM parts of a start/refresh response as plain data (built by
/// services/moneta/src/delivery from libs/cdn and libs/drm; written by responses.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <string_view>

namespace moneta::domain {

// Views, not copies: the strings live in the worker's signature cache, the selection, the DRM
// issuer's config and static storage, and a block is written into the response body before
// anything else runs on that worker (docs/performance.md "Start"). Do not keep one across a
// co_await.

struct CdnCookie {
    std::string_view name;
    std::string_view value;
    std::string_view domain;
    std::string_view path;
};

/// api.md §5.1 "stream".
struct StreamBlock {
    static constexpr std::size_t kMaxCookies = 4;  ///< CloudFront sets 3 (Policy, Signature, Key-Pair-Id)

    std::string_view protocol;
    std::string_view manifest_url;
    std::array<CdnCookie, kMaxCookies> cookie_slots{};
    std::size_t cookie_count = 0;
    /// Appended to other delivery URLs of the title (subtitles) when the CDN authorizes by query
    /// token instead of cookies (Akamai: "?hdnts=..."); empty with CloudFront cookies.
    std::string_view url_suffix;
    std::int64_t expires_at_ms = 0;
    std::string_view video_codec;
    int max_height = 0;
    std::optional<std::string_view> hdr;

    std::span<const CdnCookie> cookies() const noexcept { return {cookie_slots.data(), cookie_count}; }
};

/// api.md §5.1 "drm"; `system == "none"` for clear content (then every other field is empty).
struct DrmBlock {
    std::string_view system = "none";
    std::string_view license_url;
    std::optional<std::string_view> certificate_url;
    std::string_view header_name;
    std::string_view token;  ///< issued for this request, in the delivery worker's token buffer
    std::int64_t token_expires_at_ms = 0;
};

}  // namespace moneta::domain
