// NOTE: values are returned by copy (a few short strings): cheap next to the JSON the handler
// writes, and it keeps cache entries private to the cache.
#include "moneta/cdn/delivery.hpp"

#include "encoding.hpp"
#include "moneta/cdn/signature_cache.hpp"

namespace moneta::cdn {
namespace {

using core::Errc;
using core::make_error;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool is_manifest_path(std::string_view path) noexcept {
    return path.starts_with('/') && detail::is_plain_url_text(path);
}

class CloudFrontDelivery final : public DeliverySigner {
public:
    CloudFrontDelivery(std::shared_ptr<const CloudFrontSigner> signer, CloudFrontDeliveryOptions o)
        : signer_(std::move(signer)),
          options_(o),
          manifests_(o.expiry.max_entries),
          cookies_(o.expiry.max_entries) {}

    // moneta::cdn::DeliverySigner
    core::Result<const SignedDelivery*> sign(std::string_view manifest_path, std::int64_t now_ms)
        override {
        if (now_ms < 0 || !is_manifest_path(manifest_path)) {
            return make_error(Errc::kInvalidArgument);
        }
        const std::int64_t exp = bucketed_expiry_s(now_ms, options_.expiry);
        if (const SignedDelivery* hit = manifests_.find(manifest_path, exp)) {
            return hit;
        }
        // The scope first: a manifest whose cookies would span titles is refused unsigned.
        auto scope = scope_prefix(manifest_path, options_.scope_segments, options_.title_segments);
        if (!scope) {
            return scope.error();
        }
        const std::string& prefix = *scope;
        auto url = signer_->signed_url(manifest_path, exp);
        if (!url) {
            return url.error();
        }
        ++signatures_;
        const std::vector<Cookie>* cookies = cookies_.find(prefix, exp);
        if (cookies == nullptr) {
            auto fresh = signer_->signed_cookies(prefix, exp);
            if (!fresh) {
                return fresh.error();
            }
            ++signatures_;
            cookies = &cookies_.insert(prefix, exp, std::move(*fresh));
        }
        return &manifests_.insert(
            manifest_path, exp, SignedDelivery{std::move(*url), *cookies, exp * 1000}
        );
    }

    CacheStats cache_stats() const noexcept override {
        return {manifests_.hits(), manifests_.misses(), signatures_, manifests_.size()};
    }

private:
    std::shared_ptr<const CloudFrontSigner> signer_;
    CloudFrontDeliveryOptions options_;
    SignatureCache<SignedDelivery> manifests_;
    SignatureCache<std::vector<Cookie>> cookies_;
    std::uint64_t signatures_ = 0;
};

class AkamaiDelivery final : public DeliverySigner {
public:
    AkamaiDelivery(std::shared_ptr<const AkamaiEdgeAuth> auth, AkamaiDeliveryOptions o)
        : auth_(std::move(auth)), options_(std::move(o)), manifests_(options_.expiry.max_entries) {}

    // moneta::cdn::DeliverySigner
    core::Result<const SignedDelivery*> sign(std::string_view manifest_path, std::int64_t now_ms)
        override {
        if (now_ms < 0 || !is_manifest_path(manifest_path)) {
            return make_error(Errc::kInvalidArgument);
        }
        const std::int64_t exp = bucketed_expiry_s(now_ms, options_.expiry);
        if (const SignedDelivery* hit = manifests_.find(manifest_path, exp)) {
            return hit;
        }
        const std::int64_t now_s = floor_div(now_ms, 1000);
        // st = the bucket's start: shared by the whole bucket and never after now.
        const std::int64_t bucket_start =
            floor_div(now_s, options_.expiry.bucket_s) * options_.expiry.bucket_s;
        auto scope = scope_prefix(manifest_path, options_.scope_segments, options_.title_segments);
        if (!scope) {
            return scope.error();
        }
        const std::string acl = *scope + "*";
        auto token = auth_->token(
            acl, bucket_start > 0 ? std::optional(bucket_start) : std::nullopt, exp, now_s
        );
        if (!token) {
            return token.error();
        }
        ++signatures_;
        std::string url = options_.base_url;
        url += manifest_path;
        url += manifest_path.find('?') == std::string_view::npos ? '?' : '&';
        url += auth_->token_name();
        url += '=';
        url += *token;
        return &manifests_.insert(
            manifest_path, exp, SignedDelivery{std::move(url), {}, exp * 1000}
        );
    }

    CacheStats cache_stats() const noexcept override {
        return {manifests_.hits(), manifests_.misses(), signatures_, manifests_.size()};
    }

private:
    std::shared_ptr<const AkamaiEdgeAuth> auth_;
    AkamaiDeliveryOptions options_;
    SignatureCache<SignedDelivery> manifests_;
    std::uint64_t signatures_ = 0;
};

}  // namespace

core::Result<void> validate(const ExpiryPolicy& policy) {
    if (policy.bucket_s <= 0 || policy.ttl_s < kMinTtlS || policy.max_entries == 0) {
        return make_error(Errc::kInvalidArgument);
    }
    return {};
}

std::int64_t bucketed_expiry_s(std::int64_t now_ms, const ExpiryPolicy& policy) noexcept {
    const std::int64_t now_s = floor_div(now_ms, 1000);
    return (floor_div(now_s, policy.bucket_s) + 1) * policy.bucket_s + policy.ttl_s;
}

core::Result<std::string> scope_prefix(std::string_view manifest_path, std::size_t scope_segments,
                                       std::size_t title_segments) {
    const std::string_view path = manifest_path.substr(0, manifest_path.find('?'));
    const std::string_view dir = path.substr(0, path.rfind('/') + 1);
    if (!dir.starts_with('/')) {
        return make_error(Errc::kInvalidArgument);
    }
    // Every directory segment ("/vod/m_1/avc_1080/" has 3) must be a plain name: an empty, "."
    // or ".." segment, or an escape, could be normalised by the CDN into a shorter path.
    std::size_t end = 0;  // index of the '/' closing the last segment kept
    std::size_t kept = 0;
    const std::size_t want = scope_segments == 0 ? std::string_view::npos : scope_segments;
    for (std::size_t start = 1; start < dir.size();) {
        const std::size_t slash = dir.find('/', start);
        const std::string_view segment = dir.substr(start, slash - start);
        if (segment.empty() || segment == "." || segment == ".." ||
            segment.find('%') != std::string_view::npos) {
            return make_error(Errc::kInvalidArgument);
        }
        if (kept < want) {
            end = slash;
            ++kept;
        }
        start = slash + 1;
    }
    // Fewer segments than asked: the manifest's own directory, if that is still one title.
    if (kept < title_segments || title_segments == 0) {
        return make_error(Errc::kInvalidArgument);  // it would cover more than one title
    }
    return std::string(dir.substr(0, end + 1));
}

namespace {

bool valid_scope(std::size_t scope_segments, std::size_t title_segments) noexcept {
    return title_segments >= 1 && (scope_segments == 0 || scope_segments >= title_segments);
}

}  // namespace

core::Result<DeliverySignerPtr> make_cloudfront_delivery(
    std::shared_ptr<const CloudFrontSigner> signer, CloudFrontDeliveryOptions options
) {
    if (!signer || !validate(options.expiry) ||
        !valid_scope(options.scope_segments, options.title_segments)) {
        return make_error(Errc::kInvalidArgument);
    }
    return DeliverySignerPtr(std::make_unique<CloudFrontDelivery>(std::move(signer), options));
}

core::Result<DeliverySignerPtr> make_akamai_delivery(
    std::shared_ptr<const AkamaiEdgeAuth> auth, AkamaiDeliveryOptions options
) {
    auto base_url = detail::normalise_base_url(options.base_url);
    if (!auth || !base_url || !validate(options.expiry) ||
        !valid_scope(options.scope_segments, options.title_segments)) {
        return make_error(Errc::kInvalidArgument);
    }
    options.base_url = std::move(*base_url);
    return DeliverySignerPtr(std::make_unique<AkamaiDelivery>(std::move(auth), std::move(options)));
}

}  // namespace moneta::cdn
