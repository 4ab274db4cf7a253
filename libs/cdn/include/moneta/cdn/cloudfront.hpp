/// @file moneta/cdn/cloudfront.hpp
/// @brief CloudFront signed URLs (canned policy) and signed cookies (custom policy), RSA-SHA1
/// PKCS#1 v1.5 as CloudFront defines it, on OpenSSL 3 EVP.
///
/// Canned policy text (no whitespace, signed but never sent):
///   {"Statement":[{"Resource":"<url>","Condition":{"DateLessThan":{"AWS:EpochTime":<exp>}}}]}
/// The custom policy for cookies has the same shape with Resource "<base_url><prefix>*"; it is sent
/// as CloudFront-Policy. Policy and signature use base64 with '+'->'-', '='->'_', '/'->'~'.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/cdn/cookie.hpp"
#include "moneta/core/result.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of the public header

namespace moneta::cdn {

inline constexpr std::string_view kCloudFrontPolicyCookie = "CloudFront-Policy";
inline constexpr std::string_view kCloudFrontSignatureCookie = "CloudFront-Signature";
inline constexpr std::string_view kCloudFrontKeyPairIdCookie = "CloudFront-Key-Pair-Id";

struct CloudFrontConfig {
    std::string key_pair_id;  ///< public key id in the CloudFront key group, e.g. "K2JCJMDEHXQW5F"
    std::string private_key_pem;  ///< unencrypted RSA private key, PKCS#1 or PKCS#8 PEM text
    std::string base_url;         ///< "https://cdn.moneta.local" (a trailing '/' is dropped)
    std::string cookie_domain;    ///< Domain of the cookies; empty: the host of base_url
};

/// Signs with one RSA key. Immutable after create(); copies share the key.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (signing is const; OpenSSL 3 allows concurrent
/// use of one EVP_PKEY as long as nobody modifies it).
class CloudFrontSigner {
public:
    /// @return kInvalidArgument for a bad PEM, an encrypted PEM (never prompts), a non-RSA or
    /// shorter-than-2048-bit key, an empty/non-alphanumeric key_pair_id or a malformed base_url.
    static core::Result<CloudFrontSigner> create(const CloudFrontConfig& config);

    /// Canned-policy signed URL.
    /// @param path "/vod/m_1/avc_1080/manifest.mpd" (may carry its own query string)
    /// @return base_url + path + "?Expires=<exp>&Signature=<sig>&Key-Pair-Id=<id>";
    /// kInvalidArgument for a path that does not start with '/' or holds characters that cannot
    /// go into the policy JSON (quote, backslash, space, control, non-ASCII).
    core::Result<std::string> signed_url(std::string_view path, std::int64_t expires_epoch_s) const;

    /// Custom-policy signed cookies for everything under @p path_prefix.
    /// @param path_prefix "/vod/m_1/": starts and ends with '/', no '*' or '?' (CloudFront
    /// wildcards)
    /// @return CloudFront-Policy, CloudFront-Signature, CloudFront-Key-Pair-Id, in that order, each
    /// with the configured domain and path = @p path_prefix.
    core::Result<std::vector<Cookie>> signed_cookies(
        std::string_view path_prefix, std::int64_t expires_epoch_s
    ) const;

    const std::string& base_url() const noexcept { return base_url_; }
    const std::string& cookie_domain() const noexcept { return cookie_domain_; }
    const std::string& key_pair_id() const noexcept { return key_pair_id_; }

private:
    CloudFrontSigner() = default;
    core::Result<std::string> sign_policy(std::string_view policy) const;

    std::string key_pair_id_;
    std::string base_url_;
    std::string cookie_domain_;
    std::shared_ptr<evp_pkey_st> key_;
};

}  // namespace moneta::cdn
