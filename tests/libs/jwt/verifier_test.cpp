#include "moneta/jwt/verifier.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <fstream>
#include <utility>
#include <vector>

#include "moneta/testing/temp_dir.hpp"

namespace moneta::jwt {
namespace {

// RFC 7515 Appendix A.1.
constexpr const char* kRfcKeyB64 =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr const char* kRfcToken =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::int64_t kRfcExpMs = 1300819380LL * 1000;

constexpr std::int64_t kNowMs = 1'764'000'000'000;
const std::string kSecret(40, 's');

Verifier hs_verifier(std::vector<HmacKey> keys, VerifierConfig cfg = {}) {
    cfg.hmac_keys = std::move(keys);
    auto v = Verifier::create(cfg);
    EXPECT_TRUE(v) << v.error();
    return std::move(*v);
}

std::string payload(std::int64_t exp_s, std::string extra = "") {
    return R"({"sub":"a_1","pid":"p_1","exp":)" + std::to_string(exp_s) + extra + "}";
}

Failure failure_of(const std::variant<Claims, Failure>& r) {
    EXPECT_TRUE(std::holds_alternative<Failure>(r));
    return std::holds_alternative<Failure>(r) ? std::get<Failure>(r) : Failure::kMalformed;
}

TEST(JwtVerifierTest, Rfc7515A1VerifiesBeforeExpiryAndExpiresAfter) {
    const auto key = base64url_decode(kRfcKeyB64);
    ASSERT_TRUE(key);
    VerifierConfig cfg;
    cfg.leeway = std::chrono::seconds(0);
    const Verifier v = hs_verifier({{"", *key}}, cfg);
    const auto ok = v.verify(kRfcToken, kRfcExpMs - 1000);
    ASSERT_TRUE(std::holds_alternative<Claims>(ok));
    EXPECT_EQ(std::get<Claims>(ok).iss, "joe");
    EXPECT_EQ(std::get<Claims>(ok).exp_s, 1300819380);
    EXPECT_EQ(failure_of(v.verify(kRfcToken, kNowMs)), Failure::kExpired);
}

TEST(JwtVerifierTest, RoundTripsWithKidRotation) {
    const Verifier v = hs_verifier({{"old", kSecret}, {"new", std::string(40, 'n')}});
    auto old_signer = Signer::hs256("old", kSecret);
    auto new_signer = Signer::hs256("new", std::string(40, 'n'));
    const std::string p = payload(kNowMs / 1000 + 600);
    EXPECT_TRUE(std::holds_alternative<Claims>(v.verify(old_signer->sign(p), kNowMs)));
    const auto claims = v.verify(new_signer->sign(p), kNowMs);
    ASSERT_TRUE(std::holds_alternative<Claims>(claims));
    EXPECT_EQ(std::get<Claims>(claims).sub, "a_1");
    EXPECT_EQ(std::get<Claims>(claims).pid, "p_1");
    EXPECT_EQ(std::get<Claims>(claims).kid, "new");
    // The old key removed: its tokens stop verifying.
    const Verifier rotated = hs_verifier({{"new", std::string(40, 'n')}});
    EXPECT_EQ(failure_of(rotated.verify(old_signer->sign(p), kNowMs)), Failure::kUnknownKey);
    // Two keys and no kid: ambiguous, refused.
    auto no_kid = Signer::hs256("", kSecret);
    EXPECT_EQ(failure_of(v.verify(no_kid->sign(p), kNowMs)), Failure::kUnknownKey);
}

TEST(JwtVerifierTest, AlgNoneAndUnlistedAlgorithmsAreRejected) {
    const Verifier v = hs_verifier({{"k", kSecret}});
    const std::string body = base64url_encode(payload(kNowMs / 1000 + 600));
    for (const char* alg : {"none", "None", "NONE", "nOnE", "HS384", "HS512", "RS256", "PS256", "ES256"}) {
        const std::string header = base64url_encode(std::string(R"({"alg":")") + alg + R"(","kid":"k"})");
        EXPECT_EQ(failure_of(v.verify(header + "." + body + ".", kNowMs)), Failure::kMalformed) << alg;
        EXPECT_EQ(failure_of(v.verify(header + "." + body + ".c2ln", kNowMs)), Failure::kUnsupportedAlg) << alg;
    }
}

TEST(JwtVerifierTest, NegativeMatrix) {
    VerifierConfig cfg;
    cfg.issuer = "moneta-dev";
    cfg.audience = "moneta";
    cfg.max_token_bytes = 1024;
    const Verifier v = hs_verifier({{"k", kSecret}}, cfg);
    auto s = Signer::hs256("k", kSecret);
    const std::int64_t now_s = kNowMs / 1000;
    const std::string good_claims = R"(,"iss":"moneta-dev","aud":["x","moneta"])";
    const std::string good = s->sign(payload(now_s + 600, good_claims));
    ASSERT_TRUE(std::holds_alternative<Claims>(v.verify(good, kNowMs)));

    auto tamper = [&](std::size_t segment) {
        std::string t = good;
        std::size_t pos = 0;
        for (std::size_t i = 0; i < segment; ++i) {
            pos = t.find('.', pos) + 1;
        }
        t[pos + 2] = t[pos + 2] == 'A' ? 'B' : 'A';
        return t;
    };
    const auto tampered_header = v.verify(tamper(0), kNowMs);
    EXPECT_TRUE(std::holds_alternative<Failure>(tampered_header));
    EXPECT_EQ(failure_of(v.verify(tamper(1), kNowMs)), Failure::kBadSignature);
    EXPECT_EQ(failure_of(v.verify(tamper(2), kNowMs)), Failure::kBadSignature);
    EXPECT_EQ(failure_of(v.verify(good + ".x", kNowMs)), Failure::kMalformed);
    EXPECT_EQ(failure_of(v.verify(good.substr(0, good.rfind('.')), kNowMs)), Failure::kMalformed);
    EXPECT_EQ(failure_of(v.verify(good + "=", kNowMs)), Failure::kMalformed);
    EXPECT_EQ(failure_of(v.verify(" " + good, kNowMs)), Failure::kMalformed);
    std::string plus = good;
    plus[plus.size() - 3] = '+';
    EXPECT_EQ(failure_of(v.verify(plus, kNowMs)), Failure::kMalformed);
    EXPECT_EQ(failure_of(v.verify(good + std::string(1024, 'A'), kNowMs)), Failure::kTooLong);
    auto other = Signer::hs256("k", std::string(40, 'x'));
    EXPECT_EQ(failure_of(v.verify(other->sign(payload(now_s + 600, good_claims)), kNowMs)), Failure::kBadSignature);
    EXPECT_EQ(failure_of(v.verify(s->sign(R"({"sub":"a_1"})"), kNowMs)), Failure::kMissingClaim);
    EXPECT_EQ(failure_of(v.verify(s->sign(payload(now_s - 61, good_claims)), kNowMs)), Failure::kExpired);
    EXPECT_TRUE(std::holds_alternative<Claims>(v.verify(s->sign(payload(now_s - 59, good_claims)), kNowMs)));  // leeway
    EXPECT_EQ(failure_of(v.verify(s->sign(payload(now_s + 600, good_claims + R"(,"nbf":)" + std::to_string(now_s + 61))), kNowMs)), Failure::kNotYetValid);
    EXPECT_EQ(failure_of(v.verify(s->sign(payload(now_s + 600, good_claims + R"(,"iat":)" + std::to_string(now_s + 3600))), kNowMs)), Failure::kIssuedInFuture);
    EXPECT_EQ(failure_of(v.verify(s->sign(payload(now_s + 600, R"(,"iss":"evil","aud":"moneta")")), kNowMs)), Failure::kBadIssuer);
    EXPECT_EQ(failure_of(v.verify(s->sign(payload(now_s + 600, R"(,"iss":"moneta-dev","aud":"other")")), kNowMs)), Failure::kBadAudience);
    EXPECT_EQ(failure_of(v.verify(s->sign(R"({"sub":"a_1","exp":"1900000000"})"), kNowMs)), Failure::kMalformed);
    EXPECT_EQ(failure_of(v.verify(s->sign(R"({"sub":"a_1","exp":1900000000.5})"), kNowMs)), Failure::kMalformed);
    EXPECT_EQ(failure_of(v.verify(s->sign("[1,2]"), kNowMs)), Failure::kMalformed);
    EXPECT_EQ(failure_of(v.verify(s->sign(R"({"sub":7,"exp":1900000000})"), kNowMs)), Failure::kMalformed);
}

TEST(JwtVerifierTest, Es256AndRs256FromPemAndNoKeyConfusion) {
    moneta::testing::TempDir dir("jwt-");
    auto write_keypair = [&](const char* type, int bits_or_nid, const std::string& stem) {
        EVP_PKEY* pkey = std::string(type) == "RSA" ? EVP_RSA_gen(static_cast<unsigned>(bits_or_nid))
                                                    : EVP_EC_gen("P-256");
        BIO* pub = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(pub, pkey);
        BIO* priv = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr);
        char* data = nullptr;
        const long n = BIO_get_mem_data(pub, &data);
        std::string pub_pem(data, static_cast<std::size_t>(n));
        const long m = BIO_get_mem_data(priv, &data);
        std::string priv_pem(data, static_cast<std::size_t>(m));
        BIO_free(pub);
        BIO_free(priv);
        EVP_PKEY_free(pkey);
        std::ofstream(dir.path() / (stem + ".pem")) << pub_pem;
        return std::pair{pub_pem, priv_pem};
    };
    const auto [ec_pub, ec_priv] = write_keypair("EC", 0, "ec");
    const auto [rsa_pub, rsa_priv] = write_keypair("RSA", 2048, "rsa");
    VerifierConfig cfg;
    cfg.allowed_algs = {"HS256", "RS256", "ES256"};
    cfg.hmac_keys = {{"hs", kSecret}};
    cfg.public_keys = {{"ec", "ES256", (dir.path() / "ec.pem").string()},
                       {"rsa", "RS256", (dir.path() / "rsa.pem").string()}};
    auto v = Verifier::create(cfg);
    ASSERT_TRUE(v) << v.error();
    const std::string p = payload(kNowMs / 1000 + 600);
    auto es = Signer::from_private_pem("ES256", "ec", ec_priv);
    auto rs = Signer::from_private_pem("RS256", "rsa", rsa_priv);
    ASSERT_TRUE(es && rs);
    EXPECT_TRUE(std::holds_alternative<Claims>(v->verify(es->sign(p), kNowMs)));
    EXPECT_TRUE(std::holds_alternative<Claims>(v->verify(rs->sign(p), kNowMs)));
    // Classic confusion: an HS256 token whose "secret" is the RSA public key text, naming the RSA kid.
    auto confused = Signer::hs256("rsa", rsa_pub);
    EXPECT_EQ(failure_of(v->verify(confused->sign(p), kNowMs)), Failure::kUnknownKey);
    // An ES256 token naming the RSA key.
    auto wrong_kid = Signer::from_private_pem("ES256", "rsa", ec_priv);
    EXPECT_EQ(failure_of(v->verify(wrong_kid->sign(p), kNowMs)), Failure::kUnknownKey);
    // Config errors name the key.
    VerifierConfig bad = cfg;
    bad.public_keys = {{"ec", "RS256", (dir.path() / "ec.pem").string()}};
    auto err = Verifier::create(bad);
    ASSERT_FALSE(err);
    EXPECT_NE(err.error().find("public_keys[ec]"), std::string::npos);
}

namespace {

struct JwkPair {
    std::string jwk;        ///< the public JWK (JSON object text), fields from OpenSSL directly
    std::string priv_pem;   ///< to sign with
};

std::string bn_b64(const BIGNUM* bn) {
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    return base64url_encode(bytes);
}

JwkPair make_jwk(bool rsa, const std::string& kid, const std::string& extra = "") {
    EVP_PKEY* pkey = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    BIO* priv = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long m = BIO_get_mem_data(priv, &data);
    JwkPair out{"", std::string(data, static_cast<std::size_t>(m))};
    BIO_free(priv);
    if (rsa) {
        BIGNUM* n = nullptr;
        BIGNUM* e = nullptr;
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n);
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e);
        out.jwk = R"({"kty":"RSA","kid":")" + kid + R"(","n":")" + bn_b64(n) + R"(","e":")" + bn_b64(e) + "\"" +
                  extra + "}";
        BN_free(n);
        BN_free(e);
    } else {
        unsigned char point[65];
        std::size_t len = 0;
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
        const std::string x(reinterpret_cast<char*>(point) + 1, 32);
        const std::string y(reinterpret_cast<char*>(point) + 33, 32);
        out.jwk = R"({"kty":"EC","crv":"P-256","kid":")" + kid + R"(","x":")" + base64url_encode(x) +
                  R"(","y":")" + base64url_encode(y) + "\"" + extra + "}";
    }
    EVP_PKEY_free(pkey);
    return out;
}

}  // namespace

TEST(JwtVerifierTest, Rs256AndEs256FromAJwksFile) {
    moneta::testing::TempDir dir("jwks-");
    const JwkPair rsa = make_jwk(true, "r1", R"(,"use":"sig","alg":"RS256")");
    const JwkPair ec = make_jwk(false, "e1");
    std::ofstream(dir.path() / "keys.json") << R"({"keys":[)" << rsa.jwk << "," << ec.jwk << "]}";
    VerifierConfig cfg;
    cfg.allowed_algs = {"RS256", "ES256"};
    cfg.jwks_files = {(dir.path() / "keys.json").string()};
    auto v = Verifier::create(cfg);
    ASSERT_TRUE(v) << v.error();
    const std::string p = payload(kNowMs / 1000 + 600);
    auto rs = Signer::from_private_pem("RS256", "r1", rsa.priv_pem);
    auto es = Signer::from_private_pem("ES256", "e1", ec.priv_pem);
    ASSERT_TRUE(rs && es);
    EXPECT_TRUE(std::holds_alternative<Claims>(v->verify(rs->sign(p), kNowMs)));
    EXPECT_TRUE(std::holds_alternative<Claims>(v->verify(es->sign(p), kNowMs)));
    // A token signed by another key under a published kid fails; an unpublished kid is unknown.
    const JwkPair other = make_jwk(true, "r1");
    EXPECT_EQ(failure_of(v->verify(Signer::from_private_pem("RS256", "r1", other.priv_pem)->sign(p), kNowMs)),
              Failure::kBadSignature);
    EXPECT_EQ(failure_of(v->verify(Signer::from_private_pem("RS256", "r2", other.priv_pem)->sign(p), kNowMs)),
              Failure::kUnknownKey);
}

TEST(JwtVerifierTest, MalformedJwksFilesAreRefusedWithTheReason) {
    moneta::testing::TempDir dir("jwks-bad-");
    const JwkPair rsa = make_jwk(true, "r1");
    const JwkPair ec = make_jwk(false, "e1");
    auto refused = [&](const std::string& text, const std::string& reason) {
        std::ofstream(dir.path() / "k.json", std::ios::trunc) << text;
        VerifierConfig cfg;
        cfg.allowed_algs = {"RS256", "ES256"};
        cfg.jwks_files = {(dir.path() / "k.json").string()};
        auto v = Verifier::create(cfg);
        if (v) {
            return ::testing::AssertionFailure() << "accepted: " << text;
        }
        if (v.error().find(reason) == std::string::npos) {
            return ::testing::AssertionFailure() << "error \"" << v.error() << "\" lacks \"" << reason << "\"";
        }
        return ::testing::AssertionSuccess();
    };
    EXPECT_TRUE(refused("not json", "not a JWKS"));
    EXPECT_TRUE(refused(R"({"keys":{}})", "not a JWKS"));
    EXPECT_TRUE(refused(R"({"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]})", "private key material"));
    EXPECT_TRUE(refused(R"({"keys":[{"kty":"OKP","kid":"o","crv":"Ed25519","x":"AA"}]})", "kty must be RSA or EC"));
    EXPECT_TRUE(refused(R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})", "kid and kty are required"));
    // The same key declared for encryption, or with a mismatching alg.
    EXPECT_TRUE(refused(R"({"keys":[)" + make_jwk(true, "u", R"(,"use":"enc")").jwk + "]}", "use must be"));
    EXPECT_TRUE(refused(R"({"keys":[)" + make_jwk(false, "a", R"(,"alg":"RS256")").jwk + "]}", "does not match"));
    // A short RSA modulus, an EC point off the curve, a wrong curve, bad base64url.
    EXPECT_TRUE(refused(R"({"keys":[{"kty":"RSA","kid":"s","n":"AQAB","e":"AQAB"}]})", "does not match RS256"));
    std::string off_curve = ec.jwk;
    const auto y = off_curve.find(R"("y":")") + 5;
    off_curve[y] = off_curve[y] == 'A' ? 'B' : 'A';
    EXPECT_TRUE(refused(R"({"keys":[)" + off_curve + "]}", "malformed EC key"));  // off the curve
    std::string p384 = ec.jwk;
    p384.replace(p384.find("P-256"), 5, "P-384");
    EXPECT_TRUE(refused(R"({"keys":[)" + p384 + "]}", "malformed EC key"));
    std::string bad_b64 = rsa.jwk;
    bad_b64.replace(bad_b64.find(R"("e":")") + 5, 4, "AQ==");
    EXPECT_TRUE(refused(R"({"keys":[)" + bad_b64 + "]}", "malformed RSA key"));
    // Private RSA members and duplicate kids.
    std::string with_d = rsa.jwk;
    with_d.insert(with_d.size() - 1, R"(,"d":"AQAB")");
    EXPECT_TRUE(refused(R"({"keys":[)" + with_d + "]}", "private key material"));
    EXPECT_TRUE(refused(R"({"keys":[)" + rsa.jwk + "," + rsa.jwk + "]}", "duplicate kid"));
}

TEST(Base64UrlTest, StrictDecoding) {
    EXPECT_EQ(base64url_decode("aGk"), "hi");
    EXPECT_FALSE(base64url_decode("aGk="));
    EXPECT_FALSE(base64url_decode("aG+k"));
    EXPECT_FALSE(base64url_decode("aGl"));  // non-canonical trailing bits
    EXPECT_FALSE(base64url_decode("a"));
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
}

}  // namespace
}  // namespace moneta::jwt

namespace moneta::jwt {
namespace {

/// A correctly signed HS256 token over exactly these header and claims texts.
std::string sign_raw(const std::string& header_json, const std::string& claims_json, const std::string& secret) {
    const std::string input = base64url_encode(header_json) + "." + base64url_encode(claims_json);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return input + "." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

TEST(JwtVerifierTest, DuplicateMemberNamesInTheHeaderOrClaimsAreRefused) {
    const Verifier v = hs_verifier({{"k", kSecret}});
    const std::string exp = std::to_string(kNowMs / 1000 + 600);
    const std::string claims = R"({"sub":"a_1","pid":"p_1","exp":)" + exp + "}";
    const std::string header = R"({"alg":"HS256","typ":"JWT","kid":"k"})";
    // The control: the same texts without duplicates verify.
    ASSERT_TRUE(std::holds_alternative<Claims>(v.verify(sign_raw(header, claims, kSecret), kNowMs)));
    // Each would verify under "last one wins" (RFC 7515 §4 allows it); RFC 8725 §3.11: refuse.
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"alg":"none","alg":"HS256","kid":"k"})", claims},
        {R"({"alg":"HS256","alg":"HS256","kid":"k"})", claims},
        {R"({"alg":"HS256","kid":"other","kid":"k"})", claims},
        {R"({"alg":"HS256","kid":"k","typ":"JWT","typ":"JWT"})", claims},
        {R"({"alg":"HS256","kid":"k","\u0061lg":"HS256"})", claims},  // the same name, escaped
        {header, R"({"sub":"a_2","sub":"a_1","pid":"p_1","exp":)" + exp + "}"},
        {header, R"({"sub":"a_1","pid":"p_1","exp":1,"exp":)" + exp + "}"},
        {header, R"({"sub":"a_1","pid":"p_1","pid":"p_2","exp":)" + exp + "}"},
        {header, R"({"sub":"a_1","pid":"p_1","exp":)" + exp + R"(,"ext":{"x":1,"x":2}})"},  // nested
    };
    for (const auto& [h, c] : cases) {
        EXPECT_EQ(failure_of(v.verify(sign_raw(h, c, kSecret), kNowMs)), Failure::kMalformed) << h << " " << c;
    }
    // Equal names in different objects are not duplicates.
    const std::string nested = R"({"sub":"a_1","pid":"p_1","exp":)" + exp + R"(,"a":{"x":1},"b":[{"x":2},{"x":3}]})";
    EXPECT_TRUE(std::holds_alternative<Claims>(v.verify(sign_raw(header, nested, kSecret), kNowMs)));
}

// `groups` (the SSH CA's identity): an array of non-empty strings, bounded in count and length;
// anything else is a malformed token, never a partial list.
TEST(JwtVerifierTest, GroupsAreAnArrayOfBoundedStrings) {
    const Verifier v = hs_verifier({{"k", kSecret}});
    auto s = Signer::hs256("k", kSecret);
    ASSERT_TRUE(s);
    const std::int64_t exp = kNowMs / 1000 + 600;
    const auto ok = v.verify(s->sign(payload(exp, R"(,"groups":["ops","video-oncall"])")), kNowMs);
    ASSERT_TRUE(std::holds_alternative<Claims>(ok));
    EXPECT_EQ(std::get<Claims>(ok).groups, (std::vector<std::string>{"ops", "video-oncall"}));
    const auto none = v.verify(s->sign(payload(exp)), kNowMs);
    ASSERT_TRUE(std::holds_alternative<Claims>(none));
    EXPECT_TRUE(std::get<Claims>(none).groups.empty());

    std::string many = R"(,"groups":[)";
    for (std::size_t i = 0; i <= Claims::kMaxGroups; ++i) {
        many += (i == 0 ? "\"g" : ",\"g") + std::to_string(i) + "\"";
    }
    many += "]";
    for (const std::string& bad : {std::string(R"(,"groups":"ops")"), std::string(R"(,"groups":["ops",1])"),
                                   std::string(R"(,"groups":[""])"), std::string(R"(,"groups":{"a":1})"),
                                   R"(,"groups":[")" + std::string(Claims::kMaxGroupBytes + 1, 'g') + R"("])", many}) {
        EXPECT_EQ(failure_of(v.verify(s->sign(payload(exp, bad)), kNowMs)), Failure::kMalformed) << bad;
    }
}

}  // namespace
}  // namespace moneta::jwt
