#include "moneta/cdn/cloudfront.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <charconv>

#include "encoding.hpp"

namespace moneta::cdn {
namespace {

using core::Errc;
using core::make_error;

// CloudFront key groups take 2048-bit RSA keys; anything shorter is a configuration mistake.
constexpr int kMinRsaBits = 2048;

// Encrypted PEMs must fail instead of OpenSSL's default callback prompting on the terminal.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

bool is_key_pair_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (const char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// {"Statement":[{"Resource":"<resource>","Condition":{"DateLessThan":{"AWS:EpochTime":<exp>}}}]}
/// Callers have checked that @p resource needs no JSON escaping (is_plain_url_text).
std::string policy_json(std::string_view resource, std::int64_t expires_s) {
    char exp[24];
    const auto [end, ec] = std::to_chars(exp, exp + sizeof exp, expires_s);
    std::string out;
    out.reserve(resource.size() + 96);
    out += R"({"Statement":[{"Resource":")";
    out += resource;
    out += R"(","Condition":{"DateLessThan":{"AWS:EpochTime":)";
    out.append(exp, ec == std::errc() ? end : exp);
    out += "}}}]}";
    return out;
}

}  // namespace

core::Result<CloudFrontSigner> CloudFrontSigner::create(const CloudFrontConfig& config) {
    if (!is_key_pair_id(config.key_pair_id)) {
        return make_error(Errc::kInvalidArgument);
    }
    auto base_url = detail::normalise_base_url(config.base_url);
    if (!base_url) {
        return make_error(Errc::kInvalidArgument);
    }
    const std::string_view domain =
        config.cookie_domain.empty() ? detail::url_host(*base_url) : config.cookie_domain;
    if (domain.empty() || !detail::is_plain_url_text(domain) ||
        domain.find_first_of(";,/") != std::string_view::npos) {
        return make_error(Errc::kInvalidArgument);
    }

    BIO* bio = BIO_new_mem_buf(
        config.private_key_pem.data(), static_cast<int>(config.private_key_pem.size())
    );
    if (bio == nullptr) {
        return make_error(Errc::kInternal);
    }
    EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio, nullptr, &no_passphrase, nullptr);
    BIO_free(bio);
    std::shared_ptr<EVP_PKEY> key(raw, &EVP_PKEY_free);
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA ||
        EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
        return make_error(Errc::kInvalidArgument);
    }

    CloudFrontSigner s;
    s.key_pair_id_ = config.key_pair_id;
    s.base_url_ = std::move(*base_url);
    s.cookie_domain_ = std::string(domain);
    s.key_ = std::move(key);
    // One signature now, so a key OpenSSL cannot use fails at startup, not on the first request.
    if (!s.sign_policy("{}")) {
        return make_error(Errc::kInvalidArgument);
    }
    return s;
}

core::Result<std::string> CloudFrontSigner::sign_policy(std::string_view policy) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha1(), nullptr, key_.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        return make_error(Errc::kInternal);
    }
    const auto* data = reinterpret_cast<const unsigned char*>(policy.data());
    std::size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, data, policy.size()) != 1) {
        return make_error(Errc::kInternal);
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(
            ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, policy.size()
        ) != 1) {
        return make_error(Errc::kInternal);
    }
    sig.resize(len);
    return detail::cloudfront_base64(sig);
}

core::Result<std::string> CloudFrontSigner::signed_url(
    std::string_view path, std::int64_t expires_epoch_s
) const {
    if (!path.starts_with('/') || !detail::is_plain_url_text(path) || expires_epoch_s <= 0) {
        return make_error(Errc::kInvalidArgument);
    }
    std::string url = base_url_;
    url += path;
    // The canned policy's Resource is the URL as requested, own query string included.
    auto signature = sign_policy(policy_json(url, expires_epoch_s));
    if (!signature) {
        return signature.error();
    }
    url += path.find('?') == std::string_view::npos ? '?' : '&';
    url += "Expires=";
    url += std::to_string(expires_epoch_s);
    url += "&Signature=";
    url += *signature;
    url += "&Key-Pair-Id=";
    url += key_pair_id_;
    return url;
}

core::Result<std::vector<Cookie>> CloudFrontSigner::signed_cookies(
    std::string_view path_prefix, std::int64_t expires_epoch_s
) const {
    if (!path_prefix.starts_with('/') || !path_prefix.ends_with('/') ||
        !detail::is_plain_url_text(path_prefix) ||
        path_prefix.find_first_of("*?;,") != std::string_view::npos || expires_epoch_s <= 0) {
        return make_error(Errc::kInvalidArgument);
    }
    std::string resource = base_url_;
    resource += path_prefix;
    resource += '*';
    const std::string policy = policy_json(resource, expires_epoch_s);
    auto signature = sign_policy(policy);
    if (!signature) {
        return signature.error();
    }
    const std::string path(path_prefix);
    std::vector<Cookie> cookies;
    cookies.reserve(3);
    cookies.push_back(
        {std::string(kCloudFrontPolicyCookie),
         detail::cloudfront_base64(policy),
         cookie_domain_,
         path}
    );
    cookies.push_back(
        {std::string(kCloudFrontSignatureCookie), std::move(*signature), cookie_domain_, path}
    );
    cookies.push_back({std::string(kCloudFrontKeyPairIdCookie), key_pair_id_, cookie_domain_, path}
    );
    return cookies;
}

}  // namespace moneta::cdn
