#include "moneta/cdn/cloudfront.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "test_keys.hpp"

namespace moneta::cdn {
namespace {

using testing::cloudfront_b64_decode;
using testing::verify_sha1;

constexpr std::int64_t kExp = 1'764'000'900;
constexpr const char* kKeyPairId = "K2JCJMDEHXQW5F";

CloudFrontConfig config_for(EVP_PKEY* key, std::string base_url = "https://cdn.moneta.local") {
    return {kKeyPairId, testing::private_pem(key), std::move(base_url), ""};
}

CloudFrontSigner make_signer(EVP_PKEY* key) {
    auto s = CloudFrontSigner::create(config_for(key));
    EXPECT_TRUE(s) << s.error().message();
    return *s;
}

bool url_safe_alphabet(std::string_view s) {
    for (const char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~';
        if (!ok) {
            return false;
        }
    }
    return true;
}

TEST(CloudFrontSignerTest, SignedUrlCarriesACannedPolicySignatureThePublicKeyVerifies) {
    const auto& key = testing::shared_rsa_2048();
    const CloudFrontSigner signer = make_signer(key.get());
    const auto url = signer.signed_url("/vod/m_1/avc_1080/manifest.mpd", kExp);
    ASSERT_TRUE(url) << url.error().message();

    const std::string expected_prefix =
        "https://cdn.moneta.local/vod/m_1/avc_1080/manifest.mpd?Expires=1764000900&Signature=";
    ASSERT_TRUE(url->starts_with(expected_prefix)) << *url;
    EXPECT_TRUE(url->ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F")) << *url;
    const auto sig_text = testing::between(*url, "&Signature=", "&Key-Pair-Id=");
    ASSERT_TRUE(sig_text);
    EXPECT_TRUE(url_safe_alphabet(*sig_text)) << *sig_text;
    const auto sig = cloudfront_b64_decode(*sig_text);
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->size(), 256U);  // RSA-2048

    // The exact canned policy CloudFront rebuilds from the URL: no whitespace, Resource = URL.
    const std::string policy =
        R"({"Statement":[{"Resource":"https://cdn.moneta.local/vod/m_1/avc_1080/manifest.mpd",)"
        R"("Condition":{"DateLessThan":{"AWS:EpochTime":1764000900}}}]})";
    const auto pub = testing::public_only(key.get());
    EXPECT_TRUE(verify_sha1(pub.get(), policy, *sig));

    // Tampering with the expiry, the resource or the whitespace breaks verification.
    std::string later = policy;
    later.replace(later.find("1764000900"), 10, "1764000901");
    EXPECT_FALSE(verify_sha1(pub.get(), later, *sig));
    std::string other = policy;
    other.replace(other.find("m_1"), 3, "m_2");
    EXPECT_FALSE(verify_sha1(pub.get(), other, *sig));
    std::string spaced = policy;
    spaced.insert(1, " ");
    EXPECT_FALSE(verify_sha1(pub.get(), spaced, *sig));
    // Another key pair's public key does not verify it either.
    const auto stranger = testing::generate_rsa(2048);
    EXPECT_FALSE(verify_sha1(testing::public_only(stranger.get()).get(), policy, *sig));
}

TEST(CloudFrontSignerTest, UrlWithItsOwnQueryStringSignsItAndAppendsWithAmpersand) {
    const auto& key = testing::shared_rsa_2048();
    const CloudFrontSigner signer = make_signer(key.get());
    const auto url = signer.signed_url("/vod/m_1/master.m3u8?lang=ko", kExp);
    ASSERT_TRUE(url);
    ASSERT_TRUE(url->starts_with(
        "https://cdn.moneta.local/vod/m_1/master.m3u8?lang=ko&Expires=1764000900&Signature="
    )) << *url;
    const auto sig = cloudfront_b64_decode(*testing::between(*url, "&Signature=", "&Key-Pair-Id="));
    ASSERT_TRUE(sig);
    const std::string policy =
        R"({"Statement":[{"Resource":"https://cdn.moneta.local/vod/m_1/master.m3u8?lang=ko",)"
        R"("Condition":{"DateLessThan":{"AWS:EpochTime":1764000900}}}]})";
    EXPECT_TRUE(verify_sha1(testing::public_only(key.get()).get(), policy, *sig));
}

TEST(CloudFrontSignerTest, SignedCookiesCarryACustomPolicyForThePrefixAndItsSignature) {
    const auto& key = testing::shared_rsa_2048();
    const CloudFrontSigner signer = make_signer(key.get());
    const auto cookies = signer.signed_cookies("/vod/m_1/", kExp);
    ASSERT_TRUE(cookies) << cookies.error().message();
    ASSERT_EQ(cookies->size(), 3U);
    EXPECT_EQ((*cookies)[0].name, "CloudFront-Policy");
    EXPECT_EQ((*cookies)[1].name, "CloudFront-Signature");
    EXPECT_EQ((*cookies)[2].name, "CloudFront-Key-Pair-Id");
    EXPECT_EQ((*cookies)[2].value, kKeyPairId);
    for (const Cookie& c : *cookies) {
        EXPECT_EQ(c.domain, "cdn.moneta.local") << c.name;  // default: the base URL's host
        EXPECT_EQ(c.path, "/vod/m_1/") << c.name;
        EXPECT_TRUE(url_safe_alphabet(c.value)) << c.name << "=" << c.value;
    }

    const auto policy = cloudfront_b64_decode((*cookies)[0].value);
    ASSERT_TRUE(policy);
    EXPECT_EQ(policy->find_first_of(" \t\r\n"), std::string::npos) << *policy;
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(*policy, ec);
    ASSERT_FALSE(ec) << *policy;
    const auto& statements = doc.at("Statement").as_array();
    ASSERT_EQ(statements.size(), 1U);
    const auto& st = statements[0].as_object();
    EXPECT_EQ(st.at("Resource").as_string(), "https://cdn.moneta.local/vod/m_1/*");
    const auto& cond = st.at("Condition").as_object();
    EXPECT_EQ(cond.size(), 1U);  // DateLessThan only
    EXPECT_EQ(cond.at("DateLessThan").at("AWS:EpochTime").to_number<std::int64_t>(), kExp);

    const auto sig = cloudfront_b64_decode((*cookies)[1].value);
    ASSERT_TRUE(sig);
    const auto pub = testing::public_only(key.get());
    EXPECT_TRUE(verify_sha1(pub.get(), *policy, *sig));
    std::string tampered = *policy;
    tampered.replace(tampered.find("m_1"), 3, "m_9");
    EXPECT_FALSE(verify_sha1(pub.get(), tampered, *sig));
}

TEST(CloudFrontSignerTest, CookieDomainIsConfigurable) {
    const auto& key = testing::shared_rsa_2048();
    CloudFrontConfig cfg = config_for(key.get(), "https://cdn.moneta.local:8443/");
    cfg.cookie_domain = ".moneta.local";
    auto signer = CloudFrontSigner::create(cfg);
    ASSERT_TRUE(signer);
    EXPECT_EQ(signer->base_url(), "https://cdn.moneta.local:8443");  // trailing '/' dropped
    const auto cookies = signer->signed_cookies("/vod/", kExp);
    ASSERT_TRUE(cookies);
    for (const Cookie& c : *cookies) {
        EXPECT_EQ(c.domain, ".moneta.local");
    }
    cfg.cookie_domain = "";
    auto by_host = CloudFrontSigner::create(cfg);
    ASSERT_TRUE(by_host);
    EXPECT_EQ(by_host->cookie_domain(), "cdn.moneta.local");  // port is not part of the domain
}

TEST(CloudFrontSignerTest, BadKeysAreErrorsNotExceptions) {
    const auto& key = testing::shared_rsa_2048();
    auto expect_invalid = [](const CloudFrontConfig& cfg, const char* what) {
        const auto s = CloudFrontSigner::create(cfg);
        ASSERT_FALSE(s) << what;
        EXPECT_EQ(s.error(), core::make_error(core::Errc::kInvalidArgument)) << what;
    };
    CloudFrontConfig cfg = config_for(key.get());
    cfg.private_key_pem =
        "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n";
    expect_invalid(cfg, "garbage PEM");
    cfg.private_key_pem = "";
    expect_invalid(cfg, "empty PEM");
    // A truncated real key.
    const std::string pem = testing::private_pem(key.get());
    cfg.private_key_pem = pem.substr(0, pem.size() / 2);
    expect_invalid(cfg, "truncated PEM");
    // An encrypted key fails without prompting for a passphrase.
    cfg.private_key_pem = testing::encrypted_private_pem(key.get(), "secret");
    expect_invalid(cfg, "encrypted PEM");
    // Not RSA.
    const testing::PkeyPtr ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    cfg.private_key_pem = testing::private_pem(ec.get());
    expect_invalid(cfg, "EC key");
    // RSA, but too short for CloudFront.
    const auto small = testing::generate_rsa(1024);
    cfg.private_key_pem = testing::private_pem(small.get());
    expect_invalid(cfg, "RSA-1024");
    // A public key is not a private key.
    cfg = config_for(key.get());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    cfg.private_key_pem.assign(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    expect_invalid(cfg, "public key PEM");

    cfg = config_for(key.get());
    cfg.key_pair_id = "";
    expect_invalid(cfg, "empty key pair id");
    cfg.key_pair_id = "K2&x=1";
    expect_invalid(cfg, "key pair id with query characters");
    for (const char* base :
         {"cdn.moneta.local",
          "ftp://cdn",
          "https://",
          "https://cdn/x?y=1",
          "https://c dn",
          "https://cdn/\"x"}) {
        expect_invalid(config_for(key.get(), base), base);
    }
}

TEST(CloudFrontSignerTest, PathsThatCannotGoIntoThePolicyAreRejected) {
    const CloudFrontSigner signer = make_signer(testing::shared_rsa_2048().get());
    for (const char* p :
         {"vod/m_1/a.mpd",
          "",
          "/vod/\"x\".mpd",
          "/vod/a b.mpd",
          "/vod/a\\b.mpd",
          "/vod/\xc3\xa9.mpd"}) {
        EXPECT_FALSE(signer.signed_url(p, kExp)) << p;
    }
    EXPECT_FALSE(signer.signed_url("/vod/a.mpd", 0));
    for (const char* p : {"/vod/m_1", "vod/m_1/", "/vod/*/", "/vod/?/", "/vod/a;b/"}) {
        EXPECT_FALSE(signer.signed_cookies(p, kExp)) << p;
    }
}

}  // namespace
}  // namespace moneta::cdn
