/// @file moneta/drm/pallycon.hpp
/// @brief PallyCon / DoveRunner license tokens ("pallycon-customdata-v2" header), policy v2.
///
/// token  = base64(JSON {"drm_type","site_id","user_id","cid","policy","timestamp","hash"})
/// policy = base64(AES-256-CBC(policy JSON, key = site_key, IV = "0123456789abcdef", PKCS#7))
/// hash   = base64(sha256(access_key + drm_type + site_id + user_id + cid + policy + timestamp))
/// timestamp is "yyyy-mm-ddThh:mm:ssZ" (UTC). The policy JSON is
/// {"policy_version":2,"playback_policy":{"persistent":false,"license_duration":N}}.
/// How long a token is accepted is set per site in the PallyCon console (600 s by default); the
/// service mirrors that value in token_ttl_s to report token_expires_at_ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "moneta/core/result.hpp"

namespace moneta::drm {

enum class DrmSystem : std::uint8_t { kWidevine, kPlayReady, kFairPlay };

/// The API's name: "widevine", "playready", "fairplay".
std::string_view system_name(DrmSystem system) noexcept;
/// PallyCon's drm_type: "Widevine", "PlayReady", "FairPlay".
std::string_view pallycon_drm_type(DrmSystem system) noexcept;
/// Parses the API's name; nullopt for anything else (including "none").
std::optional<DrmSystem> parse_system(std::string_view name) noexcept;

inline constexpr std::string_view kPallyConHeader = "pallycon-customdata-v2";
inline constexpr std::string_view kPallyConIv = "0123456789abcdef";  ///< fixed by PallyCon

struct PallyConConfig {
    std::string site_id;      ///< 4 characters
    std::string site_key;     ///< 32 characters: the AES-256 key as is
    std::string access_key;   ///< 32 characters
    std::string license_url;  ///< "https://license-global.pallycon.com/ri/licenseManager.do"
    std::string fairplay_certificate_url;  ///< empty: FairPlay not offered
    std::int64_t license_duration_s = 0;   ///< playback_policy.license_duration, > 0
    std::int64_t token_ttl_s = 600;        ///< the console's token validity, > 0
};

/// The "drm" block of a playback answer. The views point into static storage and the issuer's
/// config: valid while the issuer lives (built once per process); the token is this grant's own.
struct DrmGrant {
    std::string_view system;  ///< system_name()
    std::string_view license_url;
    std::optional<std::string_view> certificate_url;  ///< FairPlay only
    std::string_view header_name;                     ///< kPallyConHeader
    std::string token;                                ///< the header's value
    std::int64_t token_expires_at_ms = 0;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (immutable after create(); issue() is const).
class PallyConTokenIssuer {
public:
    /// @return kInvalidArgument unless site_id has 4 alphanumeric characters, site_key and
    /// access_key 32 printable ASCII characters each, license_url is http(s), and both durations
    /// are positive.
    static core::Result<PallyConTokenIssuer> create(PallyConConfig config);

    /// @param user_id, cid non-empty (cid is the content's drm_cid)
    /// @param now_ms wall clock; the token's timestamp is its whole second
    /// @return kInvalidArgument for empty ids, negative now_ms or FairPlay without a certificate
    /// URL. One allocation (the token string): the JSON is built in a per-thread buffer and the
    /// hash with a stack SHA-256 context.
    /// @param token_buffer storage for the token (cleared, its capacity kept): a caller that
    /// issues many tokens hands back the previous grant's token, and issuing allocates nothing.
    core::Result<DrmGrant> issue(
        DrmSystem system, std::string_view user_id, std::string_view cid, std::int64_t now_ms,
        std::string token_buffer = {}
    ) const;

    const PallyConConfig& config() const noexcept { return config_; }

private:
    PallyConTokenIssuer(PallyConConfig config, std::string policy)
        : config_(std::move(config)), policy_(std::move(policy)) {}

    PallyConConfig config_;
    std::string policy_;  ///< encrypted policy, base64: the same for every token, built once
};

/// "yyyy-mm-ddThh:mm:ssZ" for the UTC second containing @p epoch_ms (epoch_ms >= 0).
std::string utc_timestamp(std::int64_t epoch_ms);

/// The same into @p out (20 characters, no terminator); no allocation.
void write_utc_timestamp(std::int64_t epoch_ms, char (&out)[20]) noexcept;

}  // namespace moneta::drm
