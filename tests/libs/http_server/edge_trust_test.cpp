// apply_edge_trust: edge-only headers survive only with the edge's token; X-Edge-Auth never
// survives. Pure, no sockets (the server-level tests are in server_test.cpp).
#include "moneta/http/edge_trust.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace moneta::http {
namespace {

const std::string kToken(64, 'e');
const std::vector<std::string> kEdgeOnly{"x-request-timeout-ms", "x-viewer-country", "x-forwarded-for"};

std::vector<std::string> names(const std::vector<Header>& hs) {
    std::vector<std::string> out;
    for (const Header& h : hs) {
        out.emplace_back(h.name);
    }
    return out;
}

std::vector<Header> request(std::string_view auth) {
    std::vector<Header> hs{{"Host", "x"},
                           {"X-Viewer-Country", "KR"},
                           {"Authorization", "Bearer t"},
                           {"x-request-timeout-ms", "150"},
                           {"X-FORWARDED-FOR", "6.6.6.6"},
                           {"Content-Type", "application/json"}};
    if (!auth.empty()) {
        hs.insert(hs.begin() + 2, Header{"X-Edge-Auth", auth});
    }
    return hs;
}

const std::vector<std::string> kOrdinary{"Host", "Authorization", "Content-Type"};

TEST(EdgeTrustTest, TheEdgeTokenKeepsEdgeHeadersAndTheTokenHeaderIsAlwaysRemoved) {
    auto hs = request(kToken);
    const EdgeVerdict v = apply_edge_trust(hs, kToken, kEdgeOnly);
    EXPECT_TRUE(v.trusted);
    EXPECT_FALSE(v.auth_rejected);
    EXPECT_EQ(v.dropped, 0U);
    EXPECT_EQ(names(hs), (std::vector<std::string>{"Host", "X-Viewer-Country", "Authorization",
                                                   "x-request-timeout-ms", "X-FORWARDED-FOR",
                                                   "Content-Type"}));
}

TEST(EdgeTrustTest, WithoutTheTokenEdgeHeadersAreRemovedInAnyCase) {
    auto hs = request("");
    const EdgeVerdict v = apply_edge_trust(hs, kToken, kEdgeOnly);
    EXPECT_FALSE(v.trusted);
    EXPECT_FALSE(v.auth_rejected);  // no X-Edge-Auth at all: a direct call, not an attack
    EXPECT_EQ(v.dropped, 3U);
    EXPECT_EQ(names(hs), kOrdinary);
}

TEST(EdgeTrustTest, AWrongTokenIsRejectedWhateverItsShape) {
    const std::string near = kToken.substr(0, 63) + "f";
    for (const std::string& bad : {near, kToken.substr(0, 63), kToken + "e", std::string("e"),
                                   kToken + " ", std::string(64, 'E')}) {
        auto hs = request(bad);
        const EdgeVerdict v = apply_edge_trust(hs, kToken, kEdgeOnly);
        EXPECT_FALSE(v.trusted) << bad;
        EXPECT_TRUE(v.auth_rejected) << bad;
        EXPECT_EQ(v.dropped, 3U) << bad;
        EXPECT_EQ(names(hs), kOrdinary) << bad;
    }
}

TEST(EdgeTrustTest, TwoEdgeAuthHeadersAreNotTrustedEvenIfOneMatches) {
    auto hs = request(kToken);
    hs.push_back({"x-edge-auth", "client-made"});
    const EdgeVerdict v = apply_edge_trust(hs, kToken, kEdgeOnly);
    EXPECT_FALSE(v.trusted);
    EXPECT_TRUE(v.auth_rejected);
    EXPECT_EQ(names(hs), kOrdinary);
}

TEST(EdgeTrustTest, NoConfiguredTokenTrustsNobodyNotEvenAnEmptyHeader) {
    for (std::string_view sent : {std::string_view(""), std::string_view(kToken)}) {
        auto hs = request(sent);
        hs.push_back({"X-Edge-Auth", ""});
        const EdgeVerdict v = apply_edge_trust(hs, "", kEdgeOnly);
        EXPECT_FALSE(v.trusted);
        EXPECT_EQ(v.dropped, 3U);
        EXPECT_EQ(names(hs), kOrdinary);
    }
}

TEST(EdgeTrustTest, NothingEdgeOnlyKeepsEveryHeaderButTheToken) {
    auto hs = request("whatever");
    const EdgeVerdict v = apply_edge_trust(hs, "", {});
    EXPECT_EQ(v.dropped, 0U);
    EXPECT_EQ(hs.size(), 6U);
    for (const Header& h : hs) {
        EXPECT_NE(h.name, "X-Edge-Auth");
    }
}

TEST(EdgeTrustTest, WorksInPlaceWithoutReallocating) {
    auto hs = request(kToken.substr(1));
    hs.reserve(64);
    const Header* data = hs.data();
    const std::size_t capacity = hs.capacity();
    (void)apply_edge_trust(hs, kToken, kEdgeOnly);
    EXPECT_EQ(hs.data(), data);
    EXPECT_EQ(hs.capacity(), capacity);
}

TEST(EdgeTrustTest, SecretEqualsIsExactAndRefusesEmptySecrets) {
    EXPECT_TRUE(secret_equals(kToken, kToken));
    EXPECT_FALSE(secret_equals("", ""));
    EXPECT_FALSE(secret_equals("abc", ""));
    EXPECT_FALSE(secret_equals("ab", "abc"));
    EXPECT_FALSE(secret_equals("abcd", "abc"));
    EXPECT_FALSE(secret_equals("abd", "abc"));
}

}  // namespace
}  // namespace moneta::http
