#include "moneta/drm/pallycon.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <set>

#include "moneta/testing/base64.hpp"

namespace moneta::drm {
namespace {

// PallyCon's tutorial values (public, non-working): the shapes the real ones have.
constexpr const char* kSiteId = "TUTO";
constexpr const char* kSiteKey = "lU5D8s3PWoLls3PWFWkClULlFWk5D8oC";
constexpr const char* kAccessKey = "LT2FVJDp2Xr018zf4Di6lzvNOv3DKP20";
constexpr const char* kLicenseUrl = "https://license-global.pallycon.com/ri/licenseManager.do";
constexpr const char* kCertUrl =
    "https://license-global.pallycon.com/ri/fpsKeyManager.do?siteId=TUTO";
constexpr std::int64_t kNowMs = 1'764'000'000'000;

PallyConConfig config() {
    return {kSiteId, kSiteKey, kAccessKey, kLicenseUrl, kCertUrl, 3600, 600};
}

PallyConTokenIssuer issuer(PallyConConfig cfg = config()) {
    auto i = PallyConTokenIssuer::create(std::move(cfg));
    EXPECT_TRUE(i);
    return *i;
}

// Test-side codecs straight on OpenSSL: moneta/testing/base64.hpp.
using moneta::testing::base64_decode;
using moneta::testing::base64_encode;
std::optional<std::string> aes256_cbc_decrypt(
    std::string_view key, std::string_view iv, std::string_view cipher
) {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(
        EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free
    );
    std::string out(cipher.size() + 16, '\0');
    int n = 0;
    int tail = 0;
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    if (EVP_DecryptInit_ex(
            ctx.get(),
            EVP_aes_256_cbc(),
            nullptr,
            reinterpret_cast<const unsigned char*>(key.data()),
            reinterpret_cast<const unsigned char*>(iv.data())
        ) != 1 ||
        EVP_DecryptUpdate(
            ctx.get(),
            dst,
            &n,
            reinterpret_cast<const unsigned char*>(cipher.data()),
            static_cast<int>(cipher.size())
        ) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), dst + n, &tail) != 1) {  // checks the PKCS#7 padding
        return std::nullopt;
    }
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
}

std::string sha256_b64(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return base64_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

boost::json::object decode_token(const std::string& token) {
    const auto json = base64_decode(token);
    EXPECT_TRUE(json) << token;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(json.value_or(""), ec);
    EXPECT_FALSE(ec) << json.value_or("");
    EXPECT_TRUE(v.is_object());
    return v.is_object() ? v.as_object() : boost::json::object{};
}

std::string str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string("<missing>");
}

TEST(PallyConTokenTest, TokenDecodesPolicyDecryptsAndHashVerifies) {
    const PallyConTokenIssuer issuer_of_grant = issuer();  // the grant views its config
    const auto grant = issuer_of_grant.issue(DrmSystem::kWidevine, "a_1", "m_1", kNowMs);
    ASSERT_TRUE(grant) << grant.error().message();
    EXPECT_EQ(grant->system, "widevine");
    EXPECT_EQ(grant->license_url, kLicenseUrl);
    EXPECT_FALSE(grant->certificate_url);
    EXPECT_EQ(grant->header_name, "pallycon-customdata-v2");
    EXPECT_EQ(grant->token_expires_at_ms, kNowMs + 600'000);

    const boost::json::object t = decode_token(grant->token);
    std::set<std::string> keys;
    for (const auto& kv : t) {
        keys.emplace(kv.key());
    }
    EXPECT_EQ(
        keys,
        (std::set<std::string>{
            "drm_type", "site_id", "user_id", "cid", "policy", "timestamp", "hash"})
    );
    EXPECT_EQ(str(t, "drm_type"), "Widevine");
    EXPECT_EQ(str(t, "site_id"), "TUTO");
    EXPECT_EQ(str(t, "user_id"), "a_1");
    EXPECT_EQ(str(t, "cid"), "m_1");
    EXPECT_EQ(str(t, "timestamp"), "2025-11-24T16:00:00Z");

    // policy = base64(AES-256-CBC(policy JSON, site key, IV "0123456789abcdef")).
    const auto cipher = base64_decode(str(t, "policy"));
    ASSERT_TRUE(cipher);
    EXPECT_EQ(cipher->size() % 16, 0U);
    const auto plain = aes256_cbc_decrypt(kSiteKey, "0123456789abcdef", *cipher);
    ASSERT_TRUE(plain);
    EXPECT_EQ(
        boost::json::parse(*plain),
        boost::json::parse(
            R"({"policy_version":2,"playback_policy":{"persistent":false,"license_duration":3600}})"
        )
    );
    // The wrong key does not give the policy back.
    const auto wrong =
        aes256_cbc_decrypt("XU5D8s3PWoLls3PWFWkClULlFWk5D8oC", "0123456789abcdef", *cipher);
    EXPECT_TRUE(!wrong || *wrong != *plain);

    // hash = base64(sha256(access_key + drm_type + site_id + user_id + cid + policy + timestamp)).
    const std::string expected_hash = sha256_b64(
        std::string(kAccessKey) + "Widevine" + "TUTO" + "a_1" + "m_1" + str(t, "policy") +
        "2025-11-24T16:00:00Z"
    );
    EXPECT_EQ(str(t, "hash"), expected_hash);
}

TEST(PallyConTokenTest, EachDrmSystemGetsPallyConsDrmType) {
    const PallyConTokenIssuer i = issuer();
    struct Case {
        DrmSystem system;
        const char* api;
        const char* drm_type;
        bool certificate;
    };
    for (const Case c :
         {Case{DrmSystem::kWidevine, "widevine", "Widevine", false},
          Case{DrmSystem::kPlayReady, "playready", "PlayReady", false},
          Case{DrmSystem::kFairPlay, "fairplay", "FairPlay", true}}) {
        const auto grant = i.issue(c.system, "a_1", "m_1", kNowMs);
        ASSERT_TRUE(grant) << c.api;
        EXPECT_EQ(grant->system, c.api);
        EXPECT_EQ(parse_system(c.api), c.system);
        EXPECT_EQ(grant->certificate_url.has_value(), c.certificate) << c.api;
        if (c.certificate) {
            EXPECT_EQ(*grant->certificate_url, kCertUrl);
        }
        const boost::json::object t = decode_token(grant->token);
        EXPECT_EQ(str(t, "drm_type"), c.drm_type);
        // drm_type is part of the hash: recompute with this system's name.
        EXPECT_EQ(
            str(t, "hash"),
            sha256_b64(
                std::string(kAccessKey) + c.drm_type + "TUTO" + "a_1" + "m_1" + str(t, "policy") +
                str(t, "timestamp")
            )
        );
    }
    EXPECT_FALSE(parse_system("none"));
    EXPECT_FALSE(parse_system("Widevine"));
}

TEST(PallyConTokenTest, TimestampIsTheUtcSecond) {
    EXPECT_EQ(utc_timestamp(1'764'000'000'000), "2025-11-24T16:00:00Z");
    EXPECT_EQ(utc_timestamp(1'764'000'000'999), "2025-11-24T16:00:00Z");
    EXPECT_EQ(utc_timestamp(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(utc_timestamp(951'782'400'000), "2000-02-29T00:00:00Z");
    EXPECT_EQ(utc_timestamp(4'102'444'799'000), "2099-12-31T23:59:59Z");
    const PallyConTokenIssuer issuer_of_grant = issuer();  // the grant views its config
    const auto grant = issuer_of_grant.issue(DrmSystem::kPlayReady, "a_1", "m_1", 951'782'400'123);
    ASSERT_TRUE(grant);
    EXPECT_EQ(str(decode_token(grant->token), "timestamp"), "2000-02-29T00:00:00Z");
    EXPECT_EQ(grant->token_expires_at_ms, 951'782'400'000 + 600'000);
}

TEST(PallyConTokenTest, IdsAreJsonEscapedButHashedRaw) {
    const std::string user = "u\"1\\x";
    const PallyConTokenIssuer issuer_of_grant = issuer();  // the grant views its config
    const auto grant = issuer_of_grant.issue(DrmSystem::kWidevine, user, "m/1", kNowMs);
    ASSERT_TRUE(grant);
    const boost::json::object t = decode_token(grant->token);
    EXPECT_EQ(str(t, "user_id"), user);
    EXPECT_EQ(str(t, "cid"), "m/1");
    EXPECT_EQ(
        str(t, "hash"),
        sha256_b64(
            std::string(kAccessKey) + "Widevine" + "TUTO" + user + "m/1" + str(t, "policy") +
            str(t, "timestamp")
        )
    );
}

TEST(PallyConTokenTest, BadConfigurationIsAnError) {
    auto expect_invalid = [](PallyConConfig cfg, const char* what) {
        const auto i = PallyConTokenIssuer::create(std::move(cfg));
        ASSERT_FALSE(i) << what;
        EXPECT_EQ(i.error(), core::make_error(core::Errc::kInvalidArgument)) << what;
    };
    PallyConConfig c = config();
    c.site_id = "TUT";
    expect_invalid(c, "site id of 3");
    c.site_id = "TUTOR";
    expect_invalid(c, "site id of 5");
    c.site_id = "TU-O";
    expect_invalid(c, "site id with punctuation");
    c = config();
    c.site_key.pop_back();
    expect_invalid(c, "site key of 31");
    c.site_key = std::string(kSiteKey) + "x";
    expect_invalid(c, "site key of 33");
    c = config();
    c.access_key.pop_back();
    expect_invalid(c, "access key of 31");
    c.access_key = std::string(kAccessKey) + "x";
    expect_invalid(c, "access key of 33");
    c = config();
    c.license_url = "";
    expect_invalid(c, "no license url");
    c = config();
    c.fairplay_certificate_url = "fps.cer";
    expect_invalid(c, "relative certificate url");
    c = config();
    c.license_duration_s = 0;
    expect_invalid(c, "zero license duration");
    c = config();
    c.token_ttl_s = 0;
    expect_invalid(c, "zero token ttl");
}

TEST(PallyConTokenTest, BadRequestsAreErrors) {
    const PallyConTokenIssuer i = issuer();
    EXPECT_FALSE(i.issue(DrmSystem::kWidevine, "", "m_1", kNowMs));
    EXPECT_FALSE(i.issue(DrmSystem::kWidevine, "a_1", "", kNowMs));
    EXPECT_FALSE(i.issue(DrmSystem::kWidevine, "a_1", "m_1", -1));
    PallyConConfig no_fps = config();
    no_fps.fairplay_certificate_url.clear();
    const PallyConTokenIssuer widevine_only = issuer(no_fps);
    EXPECT_FALSE(widevine_only.issue(DrmSystem::kFairPlay, "a_1", "m_1", kNowMs));
    EXPECT_TRUE(widevine_only.issue(DrmSystem::kWidevine, "a_1", "m_1", kNowMs));
}

}  // namespace
}  // namespace moneta::drm
