/// @file services/moneta/src/domain/negotiation.hpp
/// @brief Capability negotiation (api.md §5.1): pick the rendition, DRM system and height a
/// device gets, capped by the plan. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/catalog.hpp"
#include "domain/requests.hpp"

namespace moneta::domain {

/// What was chosen (kept with the session, encoded, so /refresh can sign it again).
/// Views, not copies: select_stream's point into the Content and the request's capabilities,
/// decode_selection's into the text it read; keep those alive while the selection is used (a
/// start holds the content's shared_ptr and the request). A start copied these strings, then
/// encoded them again: one allocation per start for nothing.
struct StreamSelection {
    std::string_view protocol;
    std::string_view drm_system;  ///< "widevine" | "playready" | "fairplay" | "none" (clear)
    std::string_view video_codec;
    int max_height = 0;           ///< min(rendition, plan, device)
    std::optional<std::string_view> hdr;
    std::string_view path;        ///< the manifest
    std::string_view drm_cid;     ///< the content's DRM id

    friend bool operator==(const StreamSelection&, const StreamSelection&) = default;
};

/// "protocol|drm|codec|height|hdr|path|drm_cid" (paths and ids never hold '|').
std::string encode_selection(const StreamSelection& s);
std::optional<StreamSelection> decode_selection(std::string_view text);
/// The selection views @p text: a temporary string would leave it dangling.
std::optional<StreamSelection> decode_selection(std::string&& text) = delete;

/// Rules, in order:
/// 1. A rendition is eligible when the device lists its protocol and codec, and either it is
///    clear or the device lists one of its DRM systems; an HDR rendition also needs the plan's
///    `hdr` and the device's support of that HDR format.
/// 2. Among eligible renditions, those whose height fits under the cap (min of plan max_height
///    and device max_height; a plan without `uhd` is capped at 1080) win over those that do not
///    (an over-cap rendition is still playable: the player limits its ladder to `max_height`).
/// 3. Then the greatest playable height; then HDR over SDR; then the more efficient codec
///    (av1 > hevc > avc, api.md "prefer hevc/av1 over avc when both sides can"); then the
///    device's protocol order.
/// The DRM system is the device's first listed system the rendition offers.
/// @return nullopt: NO_COMPATIBLE_STREAM.
std::optional<StreamSelection> select_stream(const Content& content, const Plan& plan,
                                             const Capabilities& caps) noexcept;
/// The selection views @p content: a temporary one would leave it dangling.
std::optional<StreamSelection> select_stream(Content&& content, const Plan& plan, const Capabilities& caps) = delete;

}  // namespace moneta::domain
