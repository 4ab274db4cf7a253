/// @file services/moneta/src/delivery/playback_delivery.hpp
/// @brief The "stream" and "drm" blocks of a start/refresh: the chosen rendition signed for the
/// configured CDN (libs/cdn, cached per worker) and a DRM license token (libs/drm).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "domain/delivery.hpp"
#include "domain/negotiation.hpp"
#include "moneta/cdn/delivery.hpp"
#include "moneta/core/result.hpp"
#include "moneta/drm/pallycon.hpp"

namespace moneta::delivery {

struct CdnSettings {
    std::string provider = "cloudfront";  ///< "cloudfront" | "akamai"
    std::string base_url = "https://cdn.moneta.local";
    std::string key_pair_id;        ///< CloudFront public key id
    std::string private_key_file;   ///< CloudFront RSA private key (PEM); secret, by path only
    std::string cookie_domain;      ///< empty: the host of base_url
    std::string akamai_key_hex;     ///< secret (env/file)
    std::string akamai_token_name = "hdnts";
    std::int64_t bucket_sec = 300;  ///< signatures are shared within a bucket …
    std::int64_t ttl_sec = 600;     ///< … and have at least this long left when served (≥ 300)
    std::size_t scope_segments = 2; ///< cookies/ACL cover "/vod/<title>/"
};

struct Blocks {
    domain::StreamBlock stream;
    domain::DrmBlock drm;
};

/// Built once per process (keys parsed and validated at startup; a bad key fails startup with
/// a message naming the setting); hands each worker thread its own signer with its own cache.
/// @par Thread safety
/// Shared: make_worker() and the shared signers are safe from any thread.
class DeliveryFactory {
public:
    /// @return a message naming the offending setting.
    static boost::system::result<std::shared_ptr<const DeliveryFactory>, std::string> create(
        const CdnSettings& cdn, const drm::PallyConConfig& drm);

    class Worker;
    std::unique_ptr<Worker> make_worker() const;

    const CdnSettings& cdn() const noexcept { return cdn_; }

private:
    DeliveryFactory() = default;
    CdnSettings cdn_;
    std::shared_ptr<const cdn::CloudFrontSigner> cloudfront_;
    std::shared_ptr<const cdn::AkamaiEdgeAuth> akamai_;
    std::shared_ptr<const drm::PallyConTokenIssuer> drm_;
};

/// One per worker thread (its signature cache is not thread-safe).
class DeliveryFactory::Worker {
public:
    Worker(cdn::DeliverySignerPtr signer, std::shared_ptr<const drm::PallyConTokenIssuer> drm, bool query_token);

    /// @param user_id the account (DRM license binding)
    /// @return blocks viewing this worker's signature cache and @p selection (domain/delivery.hpp):
    /// write them out before the next build() on this worker.
    core::Result<Blocks> build(const domain::StreamSelection& selection, std::string_view user_id,
                               std::int64_t now_ms);

    cdn::CacheStats cache_stats() const noexcept { return signer_->cache_stats(); }

private:
    cdn::DeliverySignerPtr signer_;
    std::shared_ptr<const drm::PallyConTokenIssuer> drm_;
    bool query_token_;  ///< Akamai: the manifest's query token also authorizes sibling URLs
    std::string token_;  ///< the last DRM token issued (the block views it): reused, not reallocated
};

}  // namespace moneta::delivery
