// Who is calling (services/sshca/src/identity.hpp): bearer parsing, the JWT checks, the groups
// claim, and the per-address failure limiter, all on a FakeClock.
#include "identity.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/jwt/verifier.hpp"

namespace moneta::sshca {
namespace {

constexpr std::string_view kSecret = "identity-test-secret-0123456789abcdef";
constexpr std::string_view kHostToken = "host-token-0123456789";

std::string sign(std::string_view payload, std::string_view secret = kSecret) {
    auto s = jwt::Signer::hs256("", std::string(secret));
    EXPECT_TRUE(s);
    return s ? s->sign(payload) : "";
}

class IdentityTest : public ::testing::Test {
protected:
    IdentityTest() : auth_(make_verifier(), std::string(kHostToken), limit(), clock_) {}

    static FailureLimit limit() {
        FailureLimit l;
        l.max_failures = 3;
        l.window = std::chrono::seconds(60);
        l.max_addresses = 100;
        return l;
    }
    static jwt::Verifier make_verifier() {
        jwt::VerifierConfig vc;
        vc.allowed_algs = {"HS256"};
        vc.hmac_keys = {jwt::HmacKey{"", std::string(kSecret)}};
        vc.audience = "sshca";
        auto v = jwt::Verifier::create(vc);
        EXPECT_TRUE(v) << (v ? "" : v.error());
        return std::move(*v);
    }
    std::int64_t now_s() const { return clock_.wall_ms() / 1000; }
    std::string token(std::string_view sub, std::int64_t ttl_s = 600, std::string_view aud = "sshca",
                      std::string_view secret = kSecret) const {
        return sign(boost::json::serialize(boost::json::object{{"sub", sub},
                                                               {"groups", boost::json::array{"video-eng", "oncall"}},
                                                               {"aud", aud},
                                                               {"exp", now_s() + ttl_s}}),
                    secret);
    }
    static std::string bearer(const std::string& t) { return "Bearer " + t; }

    core::FakeClock clock_;
    Authenticator auth_;
};

TEST(SshcaBearer, ParsesTheSchemeCaseInsensitively) {
    EXPECT_EQ(bearer_token("Bearer abc"), std::optional<std::string_view>("abc"));
    EXPECT_EQ(bearer_token("bearer abc"), std::optional<std::string_view>("abc"));
    EXPECT_EQ(bearer_token("BEARER abc"), std::optional<std::string_view>("abc"));
    for (const char* bad : {"", "Bearer ", "Bearer", "Basic abc", "Bearer a b", "Bearerabc", "Token abc"}) {
        EXPECT_EQ(bearer_token(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(bearer_token(std::nullopt), std::nullopt);
}

TEST_F(IdentityTest, AValidTokenGivesTheUserAndGroups) {
    const auto r = auth_.user(bearer(token("alice")), "10.0.0.1");
    ASSERT_TRUE(r.identity) << r.reason;
    EXPECT_EQ(r.identity->user, "alice");
    EXPECT_EQ(r.identity->groups, (std::vector<std::string>{"video-eng", "oncall"}));
    EXPECT_EQ(r.identity->method, "jwt");
    const auto no_groups = auth_.user(
        bearer(sign(boost::json::serialize(boost::json::object{{"sub", "bob"}, {"aud", "sshca"}, {"exp", now_s() + 60}}))),
        "10.0.0.1");
    ASSERT_TRUE(no_groups.identity) << no_groups.reason;
    EXPECT_TRUE(no_groups.identity->groups.empty());
}

TEST_F(IdentityTest, RefusesForgedExpiredForeignAndNamelessTokens) {
    struct Case {
        std::string what;
        std::optional<std::string> header;
        AuthFailure failure;
    };
    const std::vector<Case> cases{
        {"missing", std::nullopt, AuthFailure::kMissing},
        {"not bearer", "Basic abc", AuthFailure::kMissing},
        {"forged", bearer(token("alice", 600, "sshca", "another-secret-0123456789abcdef-xyz")), AuthFailure::kInvalid},
        {"expired", bearer(token("alice", -61)), AuthFailure::kInvalid},
        {"wrong audience", bearer(token("alice", 600, "moneta")), AuthFailure::kInvalid},
        {"garbage", bearer("a.b.c"), AuthFailure::kInvalid},
        {"bad subject", bearer(token("alice smith")), AuthFailure::kNoSubject},
    };
    for (const auto& c : cases) {
        // Each from its own address: the limiter stays out of it.
        const auto r = auth_.user(c.header, "10.1.0." + std::to_string(&c - cases.data()));
        EXPECT_FALSE(r.identity) << c.what;
        EXPECT_EQ(r.failure, c.failure) << c.what << ": " << r.reason;
        EXPECT_FALSE(r.reason.empty()) << c.what;
    }
}

TEST_F(IdentityTest, TokensExpireWithTheClock) {
    const std::string t = token("alice", 60);
    EXPECT_TRUE(auth_.user(bearer(t), "10.0.0.1").identity);
    clock_.advance(std::chrono::seconds(60 + 59));  // within the verifier's 60 s leeway past exp
    EXPECT_TRUE(auth_.user(bearer(t), "10.0.0.1").identity);
    clock_.advance(std::chrono::seconds(1));
    EXPECT_FALSE(auth_.user(bearer(t), "10.0.0.1").identity);
}

TEST_F(IdentityTest, TheHostTokenIsComparedExactly) {
    EXPECT_TRUE(auth_.is_host_token("Bearer " + std::string(kHostToken)));
    EXPECT_FALSE(auth_.is_host_token("Bearer " + std::string(kHostToken) + "x"));
    EXPECT_FALSE(auth_.is_host_token("Bearer " + std::string(kHostToken.substr(1))));
    EXPECT_FALSE(auth_.is_host_token(std::string(kHostToken)));
    EXPECT_FALSE(auth_.is_host_token(std::nullopt));
    core::FakeClock clock;
    Authenticator none(make_verifier(), "", limit(), clock);
    EXPECT_FALSE(none.is_host_token("Bearer "));
    EXPECT_FALSE(none.is_host_token("Bearer x"));
}

TEST_F(IdentityTest, FailuresFromOneAddressAreLimitedUntilTheWindowPasses) {
    const std::string valid = bearer(token("alice", 3600));
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(auth_.limited("10.0.0.9")) << i;
        EXPECT_EQ(auth_.user("Bearer forged", "10.0.0.9").failure, AuthFailure::kInvalid) << i;
    }
    EXPECT_TRUE(auth_.limited("10.0.0.9"));
    const auto refused = auth_.user(valid, "10.0.0.9");
    EXPECT_FALSE(refused.identity) << "even a valid token";
    EXPECT_EQ(refused.failure, AuthFailure::kLimited);
    // Other addresses are unaffected.
    EXPECT_TRUE(auth_.user(valid, "10.0.0.10").identity);
    // Not yet: one second before the window ends.
    clock_.advance(std::chrono::seconds(59));
    EXPECT_EQ(auth_.user(valid, "10.0.0.9").failure, AuthFailure::kLimited);
    clock_.advance(std::chrono::seconds(1));
    EXPECT_TRUE(auth_.user(valid, "10.0.0.9").identity);
    EXPECT_FALSE(auth_.limited("10.0.0.9"));
}

TEST(SshcaFailureLimiter, ReportsReachingTheLimitOnceAndCountsMissingTokens) {
    core::FakeClock clock;
    FailureLimiter l(FailureLimit{2, std::chrono::seconds(10), 10}, clock);
    EXPECT_FALSE(l.record_failure("a"));
    EXPECT_TRUE(l.record_failure("a")) << "the failure that reaches the limit";
    EXPECT_FALSE(l.record_failure("a"));
    EXPECT_TRUE(l.limited("a"));
    EXPECT_FALSE(l.limited("b"));
    clock.advance(std::chrono::seconds(10));
    EXPECT_FALSE(l.limited("a"));
    EXPECT_EQ(l.tracked(), 0U) << "an ended window is forgotten when looked at";
}

TEST(SshcaFailureLimiter, TheTableNeverExceedsMaxAddresses) {
    core::FakeClock clock;
    FailureLimiter l(FailureLimit{2, std::chrono::seconds(60), 50}, clock);
    // The first address reaches the limit; then many others fail once each.
    l.record_failure("first");
    l.record_failure("first");
    EXPECT_TRUE(l.limited("first"));
    for (int i = 0; i < 1000; ++i) {
        clock.advance(std::chrono::milliseconds(1));
        l.record_failure("10.2." + std::to_string(i / 256) + "." + std::to_string(i % 256));
        ASSERT_LE(l.tracked(), 50U) << i;
    }
    EXPECT_EQ(l.tracked(), 50U);
    // The oldest windows went first: "first" was forgotten, the newest are still counted.
    EXPECT_FALSE(l.limited("first"));
    l.record_failure("10.2.3.231");
    EXPECT_TRUE(l.limited("10.2.3.231"));
}

}  // namespace
}  // namespace moneta::sshca
