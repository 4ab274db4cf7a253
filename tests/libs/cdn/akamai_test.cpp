#include "moneta/cdn/akamai.hpp"

#include <gtest/gtest.h>

#include "test_keys.hpp"

namespace moneta::cdn {
namespace {

constexpr const char* kKeyHex = "52a152a152a152a152a152a152a152a152a152a152a152a152a152a152a152a1";
constexpr std::int64_t kNow = 1'764'000'000;

AkamaiEdgeAuth make_auth(bool escape_early = false) {
    auto a = AkamaiEdgeAuth::create({kKeyHex, "hdnts", escape_early});
    EXPECT_TRUE(a);
    return *a;
}

/// Splits "<body>~hmac=<hex>" and checks the hex against HMAC-SHA256 recomputed with OpenSSL.
void expect_valid_hmac(const std::string& token, std::string_view key_hex = kKeyHex) {
    const std::size_t at = token.rfind("~hmac=");
    ASSERT_NE(at, std::string::npos) << token;
    const std::string body = token.substr(0, at);
    const std::string mac = token.substr(at + 6);
    EXPECT_EQ(mac.size(), 64U);
    EXPECT_EQ(mac, testing::hmac_sha256_hex(key_hex, body)) << token;
}

TEST(AkamaiEdgeAuthTest, TokenFieldsComeInEdgeAuthOrderWithHmacOverTheRest) {
    const AkamaiEdgeAuth auth = make_auth();
    EXPECT_EQ(auth.token_name(), "hdnts");
    const auto t = auth.token("/vod/m_1/*", kNow - 60, kNow + 900, kNow);
    ASSERT_TRUE(t) << t.error().message();
    const std::string body = "st=1763999940~exp=1764000900~acl=/vod/m_1/*";
    EXPECT_EQ(t->substr(0, body.size() + 6), body + "~hmac=");
    EXPECT_EQ(t->substr(body.size() + 6), testing::hmac_sha256_hex(kKeyHex, body));
    // The same token computed with Python's hmac/hashlib, as EdgeAuth-Token-Python does.
    EXPECT_EQ(
        t->substr(body.size() + 6),
        "3076cea39d4357c713a478578334640f0c69cc1fa063979933bf8ce28c55335f"
    );
}

TEST(AkamaiEdgeAuthTest, WithoutStartTheTokenBeginsWithExp) {
    const auto t = make_auth().token("/vod/m_1/*", std::nullopt, kNow + 900, kNow);
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->starts_with("exp=1764000900~acl=/vod/m_1/*~hmac=")) << *t;
    expect_valid_hmac(*t);
}

TEST(AkamaiEdgeAuthTest, OptionalFieldsAreEscapedEarlyLikeQuotePlusWithLowerCaseHex) {
    // quote_plus("a/b c") = "a%2Fb+c" -> "a%2fb+c"; "x=1&y" -> "x%3D1%26y" -> "x%3d1%26y".
    const AkamaiTokenRequest req{
        .acl = "/vod/m_1/*!/vod/m_1_subs/*",
        .start_s = kNow,
        .expires_s = kNow + 600,
        .ip = "10.0.0.1",
        .session_id = "a/b c",
        .payload = "x=1&y"};
    const auto escaped = make_auth(true).token(req, kNow);
    ASSERT_TRUE(escaped);
    const std::string body =
        "ip=10.0.0.1~st=1764000000~exp=1764000600~acl=/vod/m_1/*!/vod/m_1_subs/*"
        "~id=a%2fb+c~data=x%3d1%26y";
    EXPECT_EQ(*escaped, body + "~hmac=" + testing::hmac_sha256_hex(kKeyHex, body));

    const auto raw = make_auth(false).token(req, kNow);
    ASSERT_TRUE(raw);
    const std::string raw_body =
        "ip=10.0.0.1~st=1764000000~exp=1764000600~acl=/vod/m_1/*!/vod/m_1_subs/*"
        "~id=a/b c~data=x=1&y";
    EXPECT_EQ(*raw, raw_body + "~hmac=" + testing::hmac_sha256_hex(kKeyHex, raw_body));
}

TEST(AkamaiEdgeAuthTest, KeyMustBeEvenLengthHex) {
    for (const char* key : {"", "abc", "zz", "0x12", "12 34", "ab:cd"}) {
        const auto a = AkamaiEdgeAuth::create({key, "hdnts", false});
        ASSERT_FALSE(a) << key;
        EXPECT_EQ(a.error(), core::make_error(core::Errc::kInvalidArgument));
    }
    EXPECT_TRUE(AkamaiEdgeAuth::create({"ABCDEF0123", "hdnts", false}));
    EXPECT_FALSE(AkamaiEdgeAuth::create({kKeyHex, "", false}));
    EXPECT_FALSE(AkamaiEdgeAuth::create({kKeyHex, "hd nts", false}));
    // Upper- and lower-case hex are the same key.
    const auto upper = AkamaiEdgeAuth::create({"52A152A1", "hdnts", false});
    ASSERT_TRUE(upper);
    const auto t = upper->token("/a/*", std::nullopt, kNow + 600, kNow);
    ASSERT_TRUE(t);
    expect_valid_hmac(*t, "52a152a1");
}

TEST(AkamaiEdgeAuthTest, NeverAStartInTheFutureAndNeverAlreadyExpired) {
    const AkamaiEdgeAuth auth = make_auth();
    EXPECT_FALSE(auth.token("/vod/*", kNow + 1, kNow + 900, kNow));  // start after now
    EXPECT_TRUE(auth.token("/vod/*", kNow, kNow + 900, kNow));       // start == now is fine
    EXPECT_FALSE(auth.token("/vod/*", 0, kNow + 900, kNow));
    EXPECT_FALSE(auth.token("/vod/*", std::nullopt, kNow, kNow));   // expires now
    EXPECT_FALSE(auth.token("/vod/*", kNow - 10, kNow - 5, kNow));  // expired
    EXPECT_FALSE(auth.token("", std::nullopt, kNow + 900, kNow));
    EXPECT_FALSE(auth.token("/vod/~x/*", std::nullopt, kNow + 900, kNow));  // field delimiter
    const AkamaiTokenRequest tilde{.acl = "/vod/*", .expires_s = kNow + 900, .payload = "a~b"};
    EXPECT_FALSE(make_auth(true).token(tilde, kNow));  // quote_plus keeps '~': still refused
}

}  // namespace
}  // namespace moneta::cdn
