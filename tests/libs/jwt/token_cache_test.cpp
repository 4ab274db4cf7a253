// TokenCache: each distinct token verified once per worker; the time rules re-checked on a hit.
#include "moneta/jwt/token_cache.hpp"

#include <gtest/gtest.h>

#include <openssl/hmac.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "moneta/jwt/hmac_sha256.hpp"

namespace moneta::jwt {
namespace {

constexpr std::int64_t kNowMs = 1'764'000'000'000;
constexpr std::int64_t kNowS = kNowMs / 1000;
const std::string kSecret1(40, 'a');
const std::string kSecret2(40, 'b');

Verifier make_verifier(std::vector<HmacKey> keys) {
    VerifierConfig cfg;
    cfg.hmac_keys = std::move(keys);
    cfg.leeway = std::chrono::seconds(60);
    auto v = Verifier::create(cfg);
    EXPECT_TRUE(v) << v.error();
    return std::move(*v);
}

std::string token(const Signer& s, const std::string& sub, std::int64_t exp_s, const std::string& extra = "") {
    return s.sign(R"({"sub":")" + sub + R"(","pid":"p_1","exp":)" + std::to_string(exp_s) + extra + "}");
}

Signer signer(const std::string& kid, const std::string& secret) {
    auto s = Signer::hs256(kid, secret);
    EXPECT_TRUE(s);
    return std::move(*s);
}

const Claims* claims_of(const std::variant<const Claims*, Failure>& r) {
    return std::holds_alternative<const Claims*>(r) ? std::get<const Claims*>(r) : nullptr;
}

Failure failure_of(const std::variant<const Claims*, Failure>& r) {
    EXPECT_TRUE(std::holds_alternative<Failure>(r));
    return std::holds_alternative<Failure>(r) ? std::get<Failure>(r) : Failure::kMalformed;
}

TEST(TokenCacheTest, SecondVerifyOfTheSameTokenIsAHitWithTheSameClaims) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCache cache(v);
    const std::string t = token(signer("k1", kSecret1), "a_1", kNowS + 600);
    const Claims* first = claims_of(cache.verify(t, kNowMs));
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->sub, "a_1");
    EXPECT_EQ(cache.stats().misses, 1U);
    EXPECT_EQ(cache.stats().hits, 0U);
    const Claims* second = claims_of(cache.verify(t, kNowMs + 1000));
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->sub, "a_1");
    EXPECT_EQ(second->pid, "p_1");
    EXPECT_EQ(second->kid, "k1");
    EXPECT_EQ(second->exp_s, kNowS + 600);
    EXPECT_EQ(cache.stats().hits, 1U);
    EXPECT_EQ(cache.entries(), 1U);
}

TEST(TokenCacheTest, ExpiryAndNotBeforeAreRecheckedOnEveryHit) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCache cache(v);
    const Signer s = signer("k1", kSecret1);
    const std::string t = token(s, "a_1", kNowS + 10);
    ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    // Still inside exp + leeway (60 s): a hit.
    ASSERT_NE(claims_of(cache.verify(t, kNowMs + 69'000)), nullptr);
    EXPECT_EQ(cache.stats().hits, 1U);
    // Past exp + leeway: the cached entry answers "expired" and is dropped.
    EXPECT_EQ(failure_of(cache.verify(t, kNowMs + 70'000)), Failure::kExpired);
    EXPECT_EQ(cache.stats().hits, 2U);
    EXPECT_EQ(cache.entries(), 0U);
    EXPECT_EQ(failure_of(cache.verify(t, kNowMs + 70'000)), Failure::kExpired);  // a miss now, same answer

    // nbf: verified while valid, then asked at an earlier time (a clock step back): not valid yet.
    const std::string later = token(s, "a_2", kNowS + 600, R"(,"nbf":)" + std::to_string(kNowS));
    ASSERT_NE(claims_of(cache.verify(later, kNowMs)), nullptr);
    EXPECT_EQ(failure_of(cache.verify(later, kNowMs - 61'000)), Failure::kNotYetValid);
    EXPECT_NE(claims_of(cache.verify(later, kNowMs)), nullptr);  // kept: it becomes valid again
}

TEST(TokenCacheTest, ATokenAlteredInOneByteNeverHits) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCache cache(v);
    const std::string t = token(signer("k1", kSecret1), "a_1", kNowS + 600);
    ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    for (std::size_t i = 0; i < t.size(); ++i) {
        std::string altered = t;
        altered[i] = altered[i] == 'A' ? 'B' : 'A';
        const auto r = cache.verify(altered, kNowMs);
        EXPECT_TRUE(std::holds_alternative<Failure>(r)) << "byte " << i;
    }
    EXPECT_EQ(cache.stats().hits, 0U);
    EXPECT_EQ(cache.entries(), 1U);  // failures are not remembered
    ASSERT_NE(claims_of(cache.verify(t + "A", kNowMs)), claims_of(cache.verify(t, kNowMs)));
}

TEST(TokenCacheTest, ManyDistinctValidTokensCannotGrowPastTheBound) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCacheConfig cfg;
    cfg.max_entries = 64;
    cfg.max_bytes = 1 << 20;
    TokenCache cache(v, cfg);
    const Signer s = signer("k1", kSecret1);
    std::size_t peak_bytes = 0;
    for (int i = 0; i < 5000; ++i) {
        const std::string t = token(s, "a_" + std::to_string(i), kNowS + 600);
        const Claims* c = claims_of(cache.verify(t, kNowMs));
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->sub, "a_" + std::to_string(i));  // the pointer is this token's claims
        EXPECT_LE(cache.entries(), 64U);
        peak_bytes = std::max(peak_bytes, cache.bytes());
    }
    EXPECT_EQ(cache.capacity(), 64U);
    EXPECT_LE(peak_bytes, cfg.max_bytes);
    EXPECT_GT(cache.stats().evictions, 0U);

    // A byte budget below one entry: tokens still verify, nothing is remembered.
    TokenCacheConfig tiny;
    tiny.max_bytes = 100;
    TokenCache small(v, tiny);
    const std::string t = token(s, "a_1", kNowS + 600);
    ASSERT_NE(claims_of(small.verify(t, kNowMs)), nullptr);
    ASSERT_NE(claims_of(small.verify(t, kNowMs)), nullptr);
    EXPECT_EQ(small.entries(), 0U);
    EXPECT_EQ(small.bytes(), 0U);
    EXPECT_EQ(small.stats().not_cached, 2U);
    EXPECT_EQ(small.stats().hits, 0U);

    // Too long to remember: verified every time.
    TokenCacheConfig short_tokens;
    short_tokens.max_token_bytes = 16;
    TokenCache no_long(v, short_tokens);
    ASSERT_NE(claims_of(no_long.verify(t, kNowMs)), nullptr);
    ASSERT_NE(claims_of(no_long.verify(t, kNowMs)), nullptr);
    EXPECT_EQ(no_long.stats().misses, 2U);
}

TEST(TokenCacheTest, KidRotationStillWorks) {
    // Old and new key side by side, tokens of both verify and are cached apart.
    const Verifier both = make_verifier({{"old", kSecret1}, {"new", kSecret2}});
    TokenCache cache(both);
    const std::string old_token = token(signer("old", kSecret1), "a_1", kNowS + 600);
    const std::string new_token = token(signer("new", kSecret2), "a_1", kNowS + 600);
    for (int round = 0; round < 2; ++round) {
        const Claims* o = claims_of(cache.verify(old_token, kNowMs));
        ASSERT_NE(o, nullptr);
        EXPECT_EQ(o->kid, "old");
        const Claims* n = claims_of(cache.verify(new_token, kNowMs));
        ASSERT_NE(n, nullptr);
        EXPECT_EQ(n->kid, "new");
    }
    EXPECT_EQ(cache.stats().hits, 2U);
    // The old key removed (a restart builds new verifiers and caches): its tokens fail.
    const Verifier only_new = make_verifier({{"new", kSecret2}});
    TokenCache after(only_new);
    EXPECT_EQ(failure_of(after.verify(old_token, kNowMs)), Failure::kUnknownKey);
    EXPECT_NE(claims_of(after.verify(new_token, kNowMs)), nullptr);
    // A token signed with the old secret but naming the new kid never verifies.
    EXPECT_EQ(failure_of(after.verify(token(signer("new", kSecret1), "a_1", kNowS + 600), kNowMs)),
              Failure::kBadSignature);
}

TEST(TokenCacheTest, OffMeansEveryTokenIsVerified) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCacheConfig off;
    off.max_entries = 0;
    TokenCache cache(v, off);
    const std::string t = token(signer("k1", kSecret1), "a_1", kNowS + 600);
    ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    EXPECT_EQ(cache.stats().misses, 2U);
    EXPECT_EQ(cache.entries(), 0U);
}

TEST(TokenCacheTest, ACacheOfNEntriesNeverHoldsMoreThanNAndEvictsTheRest) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCacheConfig cfg;
    cfg.max_entries = 100;  // rounded up to 128
    TokenCache cache(v, cfg);
    ASSERT_EQ(cache.capacity(), 128U);
    const Signer s = signer("k1", kSecret1);
    std::vector<std::string> tokens;
    for (int i = 0; i < 400; ++i) {
        tokens.push_back(token(s, "a_" + std::to_string(i), kNowS + 600));
        ASSERT_NE(claims_of(cache.verify(tokens.back(), kNowMs)), nullptr);
        ASSERT_LE(cache.entries(), 128U);
    }
    // Full but for sets both of whose choices filled first; every other new token evicted one.
    EXPECT_GT(cache.entries(), 100U);
    EXPECT_EQ(cache.stats().evictions, 400U - cache.entries());
    EXPECT_EQ(cache.bytes(), cache.entries() * (TokenCache::kEntryBytes + 8));
    // Evicted tokens miss (and verify again), remembered ones hit with their own claims.
    std::size_t hits = 0;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto before = cache.stats().hits;
        const Claims* c = claims_of(cache.verify(tokens[i], kNowMs));
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->sub, "a_" + std::to_string(i));
        hits += cache.stats().hits - before;
        ASSERT_LE(cache.entries(), 128U);
    }
    EXPECT_GT(hits, 0U);
    EXPECT_LE(hits, 128U);  // at most what was held
}

TEST(TokenCacheTest, ThreeQuartersFullStillKeepsEveryToken) {
    // Two-choice sets: 768 live tokens in 1,024 entries all stay (a direct-mapped table of the
    // same size would lose about 40 % of them to collisions on every round).
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCacheConfig cfg;
    cfg.max_entries = 1024;
    TokenCache cache(v, cfg);
    const Signer s = signer("k1", kSecret1);
    std::vector<std::string> tokens;
    for (int i = 0; i < 768; ++i) {
        tokens.push_back(token(s, "acct_" + std::to_string(i), kNowS + 600));
    }
    for (const auto& t : tokens) {
        ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    }
    const auto misses = cache.stats().misses;
    for (const auto& t : tokens) {
        ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    }
    EXPECT_EQ(cache.stats().misses, misses);
    EXPECT_EQ(cache.stats().hits, 768U);
}

TEST(TokenCacheTest, EveryOneByteChangeOfACachedTokenMisses) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCache cache(v);
    const std::string t = token(signer("k1", kSecret1), "a_1", kNowS + 600);
    ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    for (std::size_t i = 0; i < t.size(); ++i) {
        std::string altered = t;
        altered[i] = altered[i] == 'A' ? 'B' : 'A';
        const auto hits = cache.stats().hits;
        const auto r = cache.verify(altered, kNowMs);
        EXPECT_EQ(cache.stats().hits, hits) << "byte " << i;
        // The altered token is judged on its own bytes, never by the cached entry.
        if (const Claims* c = claims_of(r)) {
            EXPECT_EQ(c->sub, "a_1") << "byte " << i;  // only an equivalent encoding could verify
        }
    }
    EXPECT_EQ(cache.entries(), 1U);
    ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    EXPECT_EQ(cache.stats().hits, 1U);
}

// The cache places a token by its last 16 bytes (its signature's tail). Tokens made up to share a
// cached token's tail land in its sets: each is judged on its own bytes, none is stored, and the
// cached token and its neighbours stay.
TEST(TokenCacheTest, MadeUpTokensSharingACachedTokensTailDisplaceNothing) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCacheConfig config;
    config.max_entries = 64;
    TokenCache cache(v, config);
    const Signer s = signer("k1", kSecret1);
    std::vector<std::string> cached;
    for (int i = 0; i < 16; ++i) {
        cached.push_back(token(s, "a_" + std::to_string(i), kNowS + 600));
        ASSERT_NE(claims_of(cache.verify(cached.back(), kNowMs)), nullptr);
    }
    const std::string& victim = cached.front();
    const std::string tail = victim.substr(victim.size() - 16);
    for (int i = 0; i < 1000; ++i) {
        const std::string forged = token(s, "x_" + std::to_string(i), kNowS + 600);
        const std::string made_up = forged.substr(0, forged.size() - 16) + tail;
        EXPECT_EQ(failure_of(cache.verify(made_up, kNowMs)), Failure::kBadSignature) << i;
    }
    EXPECT_EQ(cache.entries(), 16U);
    const auto hits = cache.stats().hits;
    for (const std::string& t : cached) {
        ASSERT_NE(claims_of(cache.verify(t, kNowMs)), nullptr);
    }
    EXPECT_EQ(cache.stats().hits, hits + 16);
}

TEST(TokenCacheTest, HitRestoresEveryClaim) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCache cache(v);
    const std::string t =
        token(signer("k1", kSecret1), "a_1", kNowS + 600,
              R"(,"iss":"issuer-x","jti":"j-1","nbf":)" + std::to_string(kNowS - 5) + R"(,"iat":)" +
                  std::to_string(kNowS - 10) + R"(,"aud":["moneta","other"])");
    Claims first;
    {
        const Claims* c = claims_of(cache.verify(t, kNowMs));
        ASSERT_NE(c, nullptr);
        first = *c;
    }
    const Claims* c = claims_of(cache.verify(t, kNowMs));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(cache.stats().hits, 1U);
    EXPECT_EQ(c->sub, first.sub);
    EXPECT_EQ(c->pid, "p_1");
    EXPECT_EQ(c->iss, "issuer-x");
    EXPECT_EQ(c->jti, "j-1");
    EXPECT_EQ(c->kid, "k1");
    EXPECT_EQ(c->exp_s, kNowS + 600);
    EXPECT_EQ(c->nbf_s, std::optional<std::int64_t>(kNowS - 5));
    EXPECT_EQ(c->iat_s, std::optional<std::int64_t>(kNowS - 10));
    ASSERT_EQ(c->aud.size(), 2U);
    EXPECT_EQ(c->aud[0], "moneta");
    EXPECT_EQ(c->aud[1], "other");
}

TEST(HmacSha256KeyTest, MatchesOpenSslHmacForShortAndLongKeys) {
    for (const std::string& secret : {std::string(32, 'k'), std::string(64, 'k'), std::string(65, 'k'),
                                      std::string(200, 'z')}) {
        const HmacSha256Key key(secret);
        for (const std::string& msg : {std::string(), std::string("abc"), std::string(55, 'm'), std::string(64, 'm'),
                                       std::string(1000, 'q')}) {
            unsigned char want[EVP_MAX_MD_SIZE];
            unsigned int len = 0;
            HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), want, &len);
            const auto got = key.mac(msg);
            ASSERT_EQ(len, got.size());
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(want), len),
                      std::string(reinterpret_cast<const char*>(got.data()), got.size()))
                << secret.size() << " " << msg.size();
            const std::string sig(reinterpret_cast<const char*>(want), len);
            EXPECT_TRUE(key.verify(msg, sig));
            std::string bad = sig;
            bad[5] ^= 1;
            EXPECT_FALSE(key.verify(msg, bad));
            EXPECT_FALSE(key.verify(msg, sig.substr(0, 31)));
        }
    }
}

// Tokens with groups are verified every time (an entry has no room for them), and a later hit
// of another token never carries the last one's groups.
TEST(TokenCacheTest, TokensWithGroupsAreNotCachedAndLeaveNoGroupsBehind) {
    const Verifier v = make_verifier({{"k1", kSecret1}});
    TokenCache cache(v);
    const Signer s = signer("k1", kSecret1);
    const std::string plain = token(s, "a_1", kNowS + 600);
    const std::string grouped = token(s, "alice", kNowS + 600, R"(,"groups":["ops"])");
    ASSERT_NE(claims_of(cache.verify(plain, kNowMs)), nullptr);
    for (int i = 0; i < 2; ++i) {
        const Claims* c = claims_of(cache.verify(grouped, kNowMs));
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->groups, std::vector<std::string>{"ops"});
    }
    EXPECT_EQ(cache.stats().not_cached, 2U);
    EXPECT_EQ(cache.entries(), 1U);
    const Claims* hit = claims_of(cache.verify(plain, kNowMs));
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(hit->sub, "a_1");
    EXPECT_TRUE(hit->groups.empty());
    EXPECT_EQ(cache.stats().hits, 1U);
}

}  // namespace
}  // namespace moneta::jwt
