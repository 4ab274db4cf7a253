#include "delivery/playback_delivery.hpp"

#include <fstream>
#include <sstream>

namespace moneta::delivery {

boost::system::result<std::shared_ptr<const DeliveryFactory>, std::string> DeliveryFactory::create(
    const CdnSettings& cdn_settings, const drm::PallyConConfig& drm_config) {
    auto fail = [](std::string m) {
        return boost::system::result<std::shared_ptr<const DeliveryFactory>, std::string>(
            boost::system::in_place_error, std::move(m));
    };
    std::shared_ptr<DeliveryFactory> f(new DeliveryFactory());
    f->cdn_ = cdn_settings;
    cdn::ExpiryPolicy expiry{cdn_settings.bucket_sec, cdn_settings.ttl_sec, 4096};
    if (!cdn::validate(expiry)) {
        return fail("delivery.cdn.bucket_sec/ttl_sec: need bucket_sec > 0 and ttl_sec >= 300");
    }
    if (cdn_settings.provider == "cloudfront") {
        std::ifstream in(cdn_settings.private_key_file);
        if (!in) {
            return fail("delivery.cdn.private_key_file: cannot read '" + cdn_settings.private_key_file + "'");
        }
        std::stringstream pem;
        pem << in.rdbuf();
        auto signer = cdn::CloudFrontSigner::create(
            {cdn_settings.key_pair_id, pem.str(), cdn_settings.base_url, cdn_settings.cookie_domain});
        if (!signer) {
            return fail("delivery.cdn: bad CloudFront key pair id, private key or base_url (" +
                        signer.error().message() + ")");
        }
        f->cloudfront_ = std::make_shared<const cdn::CloudFrontSigner>(std::move(*signer));
    } else if (cdn_settings.provider == "akamai") {
        auto auth = cdn::AkamaiEdgeAuth::create({cdn_settings.akamai_key_hex, cdn_settings.akamai_token_name, false});
        if (!auth) {
            return fail("delivery.cdn.akamai_key: must be an even number of hex digits");
        }
        f->akamai_ = std::make_shared<const cdn::AkamaiEdgeAuth>(std::move(*auth));
    } else {
        return fail("delivery.cdn.provider: must be \"cloudfront\" or \"akamai\"");
    }
    auto issuer = drm::PallyConTokenIssuer::create(drm_config);
    if (!issuer) {
        return fail("delivery.drm: site_id (4 chars), site_key and access_key (32 chars each), license_url "
                    "(http/https) and positive durations are required");
    }
    f->drm_ = std::make_shared<const drm::PallyConTokenIssuer>(std::move(*issuer));
    // A first signature now: a key that loads but cannot sign fails startup, not the first user.
    auto probe = f->make_worker();
    if (!probe) {
        return fail("delivery.cdn: cannot build a signer");
    }
    domain::StreamSelection s{"dash", "widevine", "avc", 1080, std::nullopt, "/vod/probe/manifest.mpd", "probe"};
    if (auto b = probe->build(s, "probe", 1'764'000'000'000); !b) {
        return fail("delivery: signing a probe URL failed (" + b.error().message() + ")");
    }
    return std::shared_ptr<const DeliveryFactory>(std::move(f));
}

std::unique_ptr<DeliveryFactory::Worker> DeliveryFactory::make_worker() const {
    cdn::ExpiryPolicy expiry{cdn_.bucket_sec, cdn_.ttl_sec, 4096};
    core::Result<cdn::DeliverySignerPtr> signer =
        cloudfront_ ? cdn::make_cloudfront_delivery(cloudfront_, {expiry, cdn_.scope_segments})
                    : cdn::make_akamai_delivery(akamai_, {cdn_.base_url, expiry, cdn_.scope_segments});
    if (!signer) {
        return nullptr;
    }
    return std::make_unique<Worker>(std::move(*signer), drm_, akamai_ != nullptr);
}

DeliveryFactory::Worker::Worker(cdn::DeliverySignerPtr signer, std::shared_ptr<const drm::PallyConTokenIssuer> drm,
                                bool query_token)
    : signer_(std::move(signer)), drm_(std::move(drm)), query_token_(query_token) {}

core::Result<Blocks> DeliveryFactory::Worker::build(const domain::StreamSelection& selection,
                                                    std::string_view user_id, std::int64_t now_ms) {
    auto signed_delivery = signer_->sign(selection.path, now_ms);
    if (!signed_delivery) {
        return signed_delivery.error();
    }
    const cdn::SignedDelivery& d = **signed_delivery;  // in the worker's cache: viewed, not copied
    Blocks out;
    out.stream.protocol = selection.protocol;
    out.stream.manifest_url = d.manifest_url;
    for (const cdn::Cookie& c : d.cookies) {
        if (out.stream.cookie_count == domain::StreamBlock::kMaxCookies) {
            return core::make_error(core::Errc::kInternal);  // never: a CDN sets at most 3
        }
        out.stream.cookie_slots[out.stream.cookie_count++] = {c.name, c.value, c.domain, c.path};
    }
    if (query_token_) {
        const auto q = out.stream.manifest_url.find('?');
        if (q != std::string_view::npos) {
            out.stream.url_suffix = out.stream.manifest_url.substr(q);
        }
    }
    out.stream.expires_at_ms = d.expires_at_ms;
    out.stream.video_codec = selection.video_codec;
    out.stream.max_height = selection.max_height;
    if (selection.hdr) {
        out.stream.hdr = *selection.hdr;
    }
    if (const auto system = drm::parse_system(selection.drm_system)) {
        auto grant = drm_->issue(*system, user_id, selection.drm_cid, now_ms, std::move(token_));
        if (!grant) {
            return grant.error();
        }
        token_ = std::move(grant->token);  // viewed by the block; its capacity serves the next one
        out.drm.system = grant->system;
        out.drm.license_url = grant->license_url;
        out.drm.certificate_url = grant->certificate_url;
        out.drm.header_name = grant->header_name;
        out.drm.token = token_;
        out.drm.token_expires_at_ms = grant->token_expires_at_ms;
    }
    return out;
}

}  // namespace moneta::delivery
