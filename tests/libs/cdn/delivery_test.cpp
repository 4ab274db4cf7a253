#include "moneta/cdn/delivery.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>

#include "moneta/cdn/signature_cache.hpp"
#include "test_keys.hpp"

namespace moneta::cdn {
namespace {

constexpr std::int64_t kNowMs = 1'764'000'000'000;  // a 300 s bucket boundary
constexpr const char* kManifest = "/vod/m_1/avc_1080/manifest.mpd";
constexpr const char* kAkamaiKey = "0f1e2d3c4b5a69780f1e2d3c4b5a6978";

std::shared_ptr<const CloudFrontSigner> cloudfront_signer() {
    auto s = CloudFrontSigner::create(
        {"K2JCJMDEHXQW5F",
         testing::private_pem(testing::shared_rsa_2048().get()),
         "https://cdn.moneta.local",
         ""}
    );
    EXPECT_TRUE(s);
    return std::make_shared<const CloudFrontSigner>(*s);
}

DeliverySignerPtr cloudfront_delivery(CloudFrontDeliveryOptions options = {}) {
    auto d = make_cloudfront_delivery(cloudfront_signer(), options);
    EXPECT_TRUE(d);
    return std::move(*d);
}

/// Checks a signed URL against the public key: the signature covers the canned policy for the
/// URL without its signing parameters, with the Expires the URL carries.
void expect_url_verifies(const std::string& url, std::int64_t expected_exp) {
    const std::size_t q = url.find("?Expires=");
    ASSERT_NE(q, std::string::npos) << url;
    const std::string resource = url.substr(0, q);
    EXPECT_EQ(testing::between(url, "?Expires=", "&"), std::to_string(expected_exp));
    const auto sig = testing::cloudfront_b64_decode(
        testing::between(url, "&Signature=", "&Key-Pair-Id=").value_or("")
    );
    ASSERT_TRUE(sig) << url;
    const std::string policy = R"({"Statement":[{"Resource":")" + resource +
                               R"(","Condition":{"DateLessThan":{"AWS:EpochTime":)" +
                               std::to_string(expected_exp) + "}}}]}";
    const auto pub = testing::public_only(testing::shared_rsa_2048().get());
    EXPECT_TRUE(testing::verify_sha1(pub.get(), policy, *sig)) << url;
}

/// Decodes the cookies' policy, checks Resource/expiry and the signature.
void expect_cookies_verify(
    const std::vector<Cookie>& cookies, const std::string& prefix, std::int64_t expected_exp
) {
    ASSERT_EQ(cookies.size(), 3U);
    const auto policy = testing::cloudfront_b64_decode(cookies[0].value);
    ASSERT_TRUE(policy);
    const boost::json::value doc = boost::json::parse(*policy);
    const auto& st = doc.at("Statement").at(0);
    EXPECT_EQ(st.at("Resource").as_string(), "https://cdn.moneta.local" + prefix + "*");
    EXPECT_EQ(
        st.at("Condition").at("DateLessThan").at("AWS:EpochTime").to_number<std::int64_t>(),
        expected_exp
    );
    const auto sig = testing::cloudfront_b64_decode(cookies[1].value);
    ASSERT_TRUE(sig);
    const auto pub = testing::public_only(testing::shared_rsa_2048().get());
    EXPECT_TRUE(testing::verify_sha1(pub.get(), *policy, *sig));
    for (const Cookie& c : cookies) {
        EXPECT_EQ(c.path, prefix);
    }
}

TEST(ExpiryBucketTest, SameBucketSameExpiryNextBucketLater) {
    const ExpiryPolicy p;  // 300 s buckets, 600 s ttl
    EXPECT_EQ(bucketed_expiry_s(kNowMs, p), 1'764'000'900);
    EXPECT_EQ(bucketed_expiry_s(kNowMs + 299'999, p), 1'764'000'900);
    EXPECT_EQ(bucketed_expiry_s(kNowMs + 300'000, p), 1'764'001'200);
    EXPECT_EQ(bucketed_expiry_s(kNowMs - 1, p), 1'764'000'600);
}

TEST(ExpiryBucketTest, AServedValueAlwaysHasAtLeastTtlLeft) {
    for (const std::int64_t bucket : {60, 300, 3600}) {
        for (const std::int64_t ttl : {300, 900}) {
            const ExpiryPolicy p{bucket, ttl, 16};
            for (std::int64_t t = kNowMs; t < kNowMs + 3 * bucket * 1000; t += 997) {
                const std::int64_t left_ms = bucketed_expiry_s(t, p) * 1000 - t;
                ASSERT_GE(left_ms, ttl * 1000) << "bucket " << bucket << " t " << t;
                ASSERT_LE(left_ms, (ttl + bucket) * 1000) << "bucket " << bucket << " t " << t;
            }
        }
    }
}

TEST(ExpiryBucketTest, PolicyNeedsFiveMinutesAndAPositiveBucket) {
    EXPECT_TRUE(validate(ExpiryPolicy{}));
    EXPECT_TRUE(validate(ExpiryPolicy{60, 300, 1}));
    EXPECT_FALSE(validate(ExpiryPolicy{300, 299, 16}));
    EXPECT_FALSE(validate(ExpiryPolicy{0, 600, 16}));
    EXPECT_FALSE(validate(ExpiryPolicy{-300, 600, 16}));
    EXPECT_FALSE(validate(ExpiryPolicy{300, 600, 0}));
}

std::string scope(std::string_view manifest, std::size_t n) {
    const auto p = scope_prefix(manifest, n);
    return p ? *p : "error";
}

TEST(ScopePrefixTest, ManifestDirectoryOrFirstSegments) {
    EXPECT_EQ(scope(kManifest, 0), "/vod/m_1/avc_1080/");
    EXPECT_EQ(scope(kManifest, 2), "/vod/m_1/");
    EXPECT_EQ(scope(kManifest, 3), "/vod/m_1/avc_1080/");
    EXPECT_EQ(scope(kManifest, 9), "/vod/m_1/avc_1080/");  // fewer segments: its own directory
    EXPECT_EQ(scope("/vod/m_1/master.m3u8?a=/x/y", 0), "/vod/m_1/");
    EXPECT_EQ(scope("/vod/m_1/master.m3u8", 3), "/vod/m_1/");  // still one title
}

// Issue 10: a scope that would cover more than one title is an error, never a shorter prefix.
TEST(ScopePrefixTest, AScopeWiderThanOneTitleIsAnError) {
    EXPECT_EQ(scope(kManifest, 1), "error");                  // "/vod/": every title
    EXPECT_EQ(scope("/vod/manifest.mpd", 2), "error");        // used to fall back to "/vod/"
    EXPECT_EQ(scope("/vod/manifest.mpd", 0), "error");
    EXPECT_EQ(scope("/manifest.mpd", 2), "error");            // used to be "/"
    EXPECT_EQ(scope("/manifest.mpd", 0), "error");
    EXPECT_EQ(scope("/vod/m_1/x.mpd?p=/a/b/c", 2), "/vod/m_1/");  // the query never counts
    EXPECT_EQ(scope("/vod/x.mpd?p=/a/b/c", 2), "error");
    // Segments a CDN could normalise to a shorter path.
    for (const char* p : {"/vod//x/a.mpd", "/vod/./x/a.mpd", "/vod/../x/a.mpd", "/vod/m_1/../a.mpd",
                          "/vod/%2e%2e/a.mpd", "/vod/m%2f1/a.mpd"}) {
        EXPECT_EQ(scope(p, 0), "error") << p;
        EXPECT_EQ(scope(p, 2), "error") << p;
    }
    // A deeper title layout is configuration.
    EXPECT_EQ(scope(kManifest, 2).size(), 9U);
    const auto deep = scope_prefix(kManifest, 2, 3);
    EXPECT_FALSE(deep);
    EXPECT_EQ(*scope_prefix(kManifest, 3, 3), "/vod/m_1/avc_1080/");
}

TEST(SignatureCacheTest, BoundedFifoAndOlderBucketsDropped) {
    SignatureCache<std::string> cache(4);
    for (int i = 0; i < 10; ++i) {
        cache.insert("/p" + std::to_string(i), 100, "v" + std::to_string(i));
        ASSERT_LE(cache.size(), 4U);
    }
    EXPECT_EQ(cache.size(), 4U);
    EXPECT_EQ(cache.find("/p0", 100), nullptr);  // the oldest went first
    EXPECT_EQ(cache.find("/p5", 100), nullptr);
    ASSERT_NE(cache.find("/p6", 100), nullptr);
    ASSERT_NE(cache.find("/p9", 100), nullptr);
    EXPECT_EQ(*cache.find("/p9", 100), "v9");
    EXPECT_EQ(cache.find("/p9", 101), nullptr);  // the expiry is part of the key
    EXPECT_EQ(cache.hits(), 3U);
    EXPECT_EQ(cache.misses(), 3U);

    // A later bucket's first insert drops every entry of earlier buckets.
    cache.insert("/p9", 400, "next");
    EXPECT_EQ(cache.size(), 1U);
    EXPECT_EQ(cache.find("/p9", 100), nullptr);
    ASSERT_NE(cache.find("/p9", 400), nullptr);
    EXPECT_EQ(*cache.find("/p9", 400), "next");
    // Re-inserting an existing key replaces in place.
    cache.insert("/p9", 400, "again");
    EXPECT_EQ(cache.size(), 1U);
    EXPECT_EQ(*cache.find("/p9", 400), "again");
}

TEST(CloudFrontDeliveryTest, SameBucketSharesOneSignatureNextBucketSignsAgain) {
    const DeliverySignerPtr delivery = cloudfront_delivery();
    const auto a = delivery->sign(kManifest, kNowMs + 1'000);
    ASSERT_TRUE(a) << a.error().message();
    expect_url_verifies((*a)->manifest_url, 1'764'000'900);
    expect_cookies_verify((*a)->cookies, "/vod/m_1/avc_1080/", 1'764'000'900);
    EXPECT_EQ((*a)->expires_at_ms, 1'764'000'900'000);
    EXPECT_EQ((*a)->cookies[0].domain, "cdn.moneta.local");

    const std::string first_url = (*a)->manifest_url;  // a is valid until the next sign() only
    const auto b = delivery->sign(kManifest, kNowMs + 299'999);
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, *a) << "a hit answers the cached value itself, not a copy";
    EXPECT_EQ((*b)->manifest_url, first_url);
    EXPECT_EQ((*b)->cookies, (*a)->cookies);
    CacheStats s = delivery->cache_stats();
    EXPECT_EQ(s.misses, 1U);
    EXPECT_EQ(s.hits, 1U);
    EXPECT_EQ(s.signatures, 2U);  // one for the URL, one for the cookie policy
    // Served at the bucket's last millisecond it still has the full ttl left.
    EXPECT_GE((*b)->expires_at_ms - (kNowMs + 299'999), 600'000);

    const auto c = delivery->sign(kManifest, kNowMs + 300'000);
    ASSERT_TRUE(c);
    EXPECT_NE((*c)->manifest_url, first_url);
    expect_url_verifies((*c)->manifest_url, 1'764'001'200);
    expect_cookies_verify((*c)->cookies, "/vod/m_1/avc_1080/", 1'764'001'200);
    s = delivery->cache_stats();
    EXPECT_EQ(s.misses, 2U);
    EXPECT_EQ(s.signatures, 4U);
    EXPECT_EQ(s.entries, 1U);  // the previous bucket's entry is gone
}

TEST(CloudFrontDeliveryTest, SiblingManifestsShareTheCookiesOfTheirScope) {
    CloudFrontDeliveryOptions options;
    options.scope_segments = 2;
    const DeliverySignerPtr delivery = cloudfront_delivery(options);
    const auto avc = delivery->sign("/vod/m_1/avc_1080/manifest.mpd", kNowMs);
    const auto hevc = delivery->sign("/vod/m_1/hevc_2160/manifest.mpd", kNowMs);
    ASSERT_TRUE(avc);
    ASSERT_TRUE(hevc);
    EXPECT_NE((*avc)->manifest_url, (*hevc)->manifest_url);
    expect_url_verifies((*hevc)->manifest_url, 1'764'000'900);
    EXPECT_EQ((*avc)->cookies, (*hevc)->cookies);
    expect_cookies_verify((*hevc)->cookies, "/vod/m_1/", 1'764'000'900);
    const CacheStats s = delivery->cache_stats();
    EXPECT_EQ(s.misses, 2U);
    EXPECT_EQ(s.signatures, 3U);  // two URLs, one cookie policy
}

TEST(CloudFrontDeliveryTest, CacheStaysBounded) {
    CloudFrontDeliveryOptions options;
    options.expiry.max_entries = 8;
    const DeliverySignerPtr delivery = cloudfront_delivery(options);
    for (int i = 0; i < 30; ++i) {
        ASSERT_TRUE(delivery->sign("/vod/m_1/avc_1080/v" + std::to_string(i) + ".mpd", kNowMs));
        ASSERT_LE(delivery->cache_stats().entries, 8U);
    }
    EXPECT_EQ(delivery->cache_stats().misses, 30U);
    ASSERT_TRUE(delivery->sign("/vod/m_1/avc_1080/v29.mpd", kNowMs));  // recent: still cached
    EXPECT_EQ(delivery->cache_stats().hits, 1U);
    ASSERT_TRUE(delivery->sign("/vod/m_1/avc_1080/v0.mpd", kNowMs));  // evicted long ago
    EXPECT_EQ(delivery->cache_stats().misses, 31U);
}

TEST(CloudFrontDeliveryTest, RejectsBadConfigurationAndInput) {
    EXPECT_FALSE(make_cloudfront_delivery(nullptr, {}));
    CloudFrontDeliveryOptions short_ttl;
    short_ttl.expiry.ttl_s = 60;
    EXPECT_FALSE(make_cloudfront_delivery(cloudfront_signer(), short_ttl));
    const DeliverySignerPtr delivery = cloudfront_delivery();
    EXPECT_FALSE(delivery->sign("vod/m_1/a.mpd", kNowMs));
    EXPECT_FALSE(delivery->sign("/vod/\"m_1\"/a.mpd", kNowMs));
    EXPECT_FALSE(delivery->sign(kManifest, -1));
    EXPECT_EQ(delivery->cache_stats().signatures, 0U);
}

TEST(CloudFrontDeliveryTest, CookiesNeverCoverMoreThanOneTitle) {
    CloudFrontDeliveryOptions one_segment;
    one_segment.scope_segments = 1;  // "/vod/*": refused when built, not at the first viewer
    EXPECT_FALSE(make_cloudfront_delivery(cloudfront_signer(), one_segment));
    CloudFrontDeliveryOptions no_title;
    no_title.title_segments = 0;
    EXPECT_FALSE(make_cloudfront_delivery(cloudfront_signer(), no_title));
    for (std::size_t n : {0U, 2U}) {
        CloudFrontDeliveryOptions options;
        options.scope_segments = n;
        const DeliverySignerPtr delivery = cloudfront_delivery(options);
        const auto shallow = delivery->sign("/vod/manifest.mpd", kNowMs);
        ASSERT_FALSE(shallow) << n;
        EXPECT_EQ(shallow.error(), core::make_error_code(core::Errc::kInvalidArgument));
        EXPECT_FALSE(delivery->sign("/manifest.mpd", kNowMs)) << n;
        EXPECT_EQ(delivery->cache_stats().signatures, 0U) << "refused before anything is signed";
        ASSERT_TRUE(delivery->sign(kManifest, kNowMs));
    }
}

std::shared_ptr<const AkamaiEdgeAuth> akamai_auth() {
    auto a = AkamaiEdgeAuth::create({kAkamaiKey, "hdnts", false});
    EXPECT_TRUE(a);
    return std::make_shared<const AkamaiEdgeAuth>(*a);
}

TEST(AkamaiDeliveryTest, ManifestUrlCarriesAVerifiableTokenAndNoCookies) {
    auto made = make_akamai_delivery(akamai_auth(), {"https://akamai.moneta.local/", {}, 0});
    ASSERT_TRUE(made);
    const DeliverySignerPtr delivery = std::move(*made);
    const std::int64_t now_ms = kNowMs + 123'456;
    const auto d = delivery->sign(kManifest, now_ms);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_TRUE((*d)->cookies.empty());
    EXPECT_EQ((*d)->expires_at_ms, 1'764'000'900'000);
    const std::string prefix = "https://akamai.moneta.local/vod/m_1/avc_1080/manifest.mpd?hdnts=";
    ASSERT_TRUE((*d)->manifest_url.starts_with(prefix)) << (*d)->manifest_url;
    const std::string body = "st=1764000000~exp=1764000900~acl=/vod/m_1/avc_1080/*";
    EXPECT_EQ(
        (*d)->manifest_url.substr(prefix.size()),
        body + "~hmac=" + testing::hmac_sha256_hex(kAkamaiKey, body)
    );

    const auto again = delivery->sign(kManifest, now_ms + 100'000);
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)->manifest_url, (*d)->manifest_url);
    EXPECT_EQ(delivery->cache_stats().hits, 1U);
    EXPECT_EQ(delivery->cache_stats().signatures, 1U);
}

TEST(AkamaiDeliveryTest, StartIsNeverAfterNowAndExpiryKeepsTheTtl) {
    auto made =
        make_akamai_delivery(akamai_auth(), {"https://akamai.moneta.local", {60, 300, 64}, 2});
    ASSERT_TRUE(made);
    const DeliverySignerPtr delivery = std::move(*made);
    for (std::int64_t t = kNowMs; t < kNowMs + 400'000; t += 7'919) {
        const auto d = delivery->sign(kManifest, t);
        ASSERT_TRUE(d);
        const std::int64_t st = std::stoll(testing::between((*d)->manifest_url, "st=", "~").value());
        const std::int64_t exp = std::stoll(testing::between((*d)->manifest_url, "exp=", "~").value());
        EXPECT_LE(st * 1000, t);
        EXPECT_GE(exp * 1000 - t, 300'000);
        EXPECT_EQ(exp * 1000, (*d)->expires_at_ms);
        EXPECT_EQ(testing::between((*d)->manifest_url, "acl=", "~"), "/vod/m_1/*");
    }
}

TEST(AkamaiDeliveryTest, TheAclNeverCoversMoreThanOneTitle) {
    EXPECT_FALSE(make_akamai_delivery(akamai_auth(), {"https://akamai.moneta.local", {}, 1}));
    auto made = make_akamai_delivery(akamai_auth(), {"https://akamai.moneta.local", {}, 2});
    ASSERT_TRUE(made);
    EXPECT_FALSE((*made)->sign("/vod/manifest.mpd", kNowMs));  // would be acl=/vod/*
    EXPECT_FALSE((*made)->sign("/manifest.mpd", kNowMs));      // would be acl=/*
    EXPECT_EQ((*made)->cache_stats().signatures, 0U);
}

// Why the cache exists: prints one RSA signature's cost next to a cache hit's, and checks that
// a hit is at least 10x cheaper (in practice it is ~1000x).
TEST(DeliveryCostTest, ACacheHitIsFarCheaperThanASignature) {
    using Clock = std::chrono::steady_clock;
    const auto signer = cloudfront_signer();
    constexpr int kSigns = 20;
    auto t0 = Clock::now();
    for (int i = 0; i < kSigns; ++i) {
        ASSERT_TRUE(signer->signed_url("/vod/m_" + std::to_string(i) + "/a.mpd", 1'764'000'900));
    }
    const double sign_us =
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kSigns;

    const DeliverySignerPtr delivery = cloudfront_delivery();
    ASSERT_TRUE(delivery->sign(kManifest, kNowMs));
    constexpr int kHits = 2000;
    t0 = Clock::now();
    for (int i = 0; i < kHits; ++i) {
        ASSERT_TRUE(delivery->sign(kManifest, kNowMs + i));
    }
    const double hit_us =
        std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kHits;
    EXPECT_EQ(delivery->cache_stats().hits, static_cast<std::uint64_t>(kHits));
    std::printf(
        "[ cost ] RSA-2048 SHA1 signed URL: %.1f us; cache hit (URL + 3 cookies): %.2f us\n",
        sign_us,
        hit_us
    );
    RecordProperty("sign_us", std::to_string(sign_us));
    RecordProperty("hit_us", std::to_string(hit_us));
    EXPECT_LT(hit_us * 10, sign_us);
}

}  // namespace
}  // namespace moneta::cdn
