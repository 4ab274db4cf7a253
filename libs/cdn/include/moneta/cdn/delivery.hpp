/// @file moneta/cdn/delivery.hpp
/// @brief What the playback handler calls: a signed manifest URL (plus cookies for the segments)
/// for one manifest path, served from a per-thread cache with bucketed expiries.
///
/// Expiry bucketing: expires_s = (floor(now_s / bucket_s) + 1) * bucket_s + ttl_s. Every request
/// in one bucket gets the same expiry, so the same signature, and a value served from the cache
/// still has more than ttl_s seconds to live (at least ttl_s + the rest of the bucket).
///
/// Example (one per worker thread):
/// @code
///   auto signer = cdn::CloudFrontSigner::create(cfg);           // at startup
///   auto delivery = cdn::make_cloudfront_delivery(
///       std::make_shared<const cdn::CloudFrontSigner>(*signer), {});
///   auto d = (*delivery)->sign("/vod/m_1/avc_1080/manifest.mpd", now_ms);
///   // (*d)->manifest_url, (*d)->cookies, (*d)->expires_at_ms: until the next sign()
/// @endcode
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/cdn/akamai.hpp"
#include "moneta/cdn/cloudfront.hpp"
#include "moneta/cdn/cookie.hpp"
#include "moneta/core/result.hpp"

namespace moneta::cdn {

/// The "stream" part of a playback answer that depends on the CDN.
struct SignedDelivery {
    std::string manifest_url;
    std::vector<Cookie> cookies;  ///< empty for Akamai (the token is in the URL)
    std::int64_t expires_at_ms = 0;
};

inline constexpr std::int64_t kMinTtlS = 300;  ///< api.md §6: expiry at least 5 min ahead

struct ExpiryPolicy {
    std::int64_t bucket_s = 300;     ///< requests within one bucket share a signature
    std::int64_t ttl_s = 600;        ///< minimum validity left when a value is served (>= 300)
    std::size_t max_entries = 4096;  ///< per worker thread
};

/// kInvalidArgument unless bucket_s > 0, ttl_s >= kMinTtlS and max_entries > 0.
core::Result<void> validate(const ExpiryPolicy& policy);

/// (floor(now_s / bucket_s) + 1) * bucket_s + ttl_s, with now_s = floor(now_ms / 1000).
std::int64_t bucketed_expiry_s(std::int64_t now_ms, const ExpiryPolicy& policy) noexcept;

/// Leading path segments that name one title: "/vod/<title>/" is 2 (docs/delivery.md).
inline constexpr std::size_t kTitleSegments = 2;

/// The directory that signed cookies / the Akamai ACL cover for a manifest. It never covers more
/// than one title: a wildcard over "/vod/" or "/" would let one viewer's cookie fetch every title.
/// @param scope_segments 0: the manifest's own directory ("/vod/m_1/avc_1080/"); N > 0: the first
/// N path segments ("/vod/m_1/" for N = 2); a manifest with fewer gets its own directory.
/// @param title_segments the scope must keep at least this many segments (kTitleSegments).
/// @return kInvalidArgument when the scope would keep fewer than @p title_segments segments
/// (N = 1, or a manifest directly under "/vod/" or "/": an error, never a shorter prefix), or
/// when one of its segments is empty, ".", ".." or holds a '%' (a CDN could normalise those
/// to a shorter path).
core::Result<std::string> scope_prefix(std::string_view manifest_path, std::size_t scope_segments,
                                       std::size_t title_segments = kTitleSegments);

struct CacheStats {
    std::uint64_t hits = 0;        ///< sign() answered from the cache
    std::uint64_t misses = 0;      ///< sign() had to build a new value
    std::uint64_t signatures = 0;  ///< RSA signatures / HMACs computed
    std::size_t entries = 0;       ///< manifest entries held now
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (each worker thread owns one; see
/// SignatureCache). The underlying CloudFrontSigner / AkamaiEdgeAuth may be shared.
class DeliverySigner {
public:
    virtual ~DeliverySigner() = default;

    /// @param manifest_path "/vod/m_1/avc_1080/manifest.mpd"
    /// @param now_ms wall clock in ms (an argument so tests need no clock)
    /// @return the cached value (no copy: valid until the next sign() on this object, which may
    /// evict it); kInvalidArgument for a bad path or negative now_ms; kInternal if OpenSSL fails.
    virtual core::Result<const SignedDelivery*> sign(
        std::string_view manifest_path, std::int64_t now_ms
    ) = 0;

    virtual CacheStats cache_stats() const noexcept = 0;
};
using DeliverySignerPtr = std::unique_ptr<DeliverySigner>;

struct CloudFrontDeliveryOptions {
    ExpiryPolicy expiry;
    std::size_t scope_segments = 0;  ///< see scope_prefix(); 0 or >= title_segments
    std::size_t title_segments = kTitleSegments;  ///< >= 1
};

/// Canned-policy manifest URL plus custom-policy cookies for scope_prefix(manifest). Cookies are
/// cached per (prefix, expiry) too, so sibling manifests share them. kInvalidArgument when
/// scope_segments is between 1 and title_segments - 1 (every scope would span titles); sign()
/// answers kInvalidArgument for a manifest whose scope would (scope_prefix).
core::Result<DeliverySignerPtr> make_cloudfront_delivery(
    std::shared_ptr<const CloudFrontSigner> signer, CloudFrontDeliveryOptions options
);

struct AkamaiDeliveryOptions {
    std::string base_url;  ///< "https://akamai.moneta.local" (a trailing '/' is dropped)
    ExpiryPolicy expiry;
    std::size_t scope_segments = 0;  ///< ACL = scope_prefix(manifest) + "*"; 0 or >= title_segments
    std::size_t title_segments = kTitleSegments;  ///< >= 1
};

/// Manifest URL with "?<token_name>=<token>" and no cookies. st= is the bucket's start, which is
/// never after now; exp= is the bucketed expiry.
core::Result<DeliverySignerPtr> make_akamai_delivery(
    std::shared_ptr<const AkamaiEdgeAuth> auth, AkamaiDeliveryOptions options
);

}  // namespace moneta::cdn
