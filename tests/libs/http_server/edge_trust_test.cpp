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

TEST(EdgeTrustTest, EdgeNameLengthsHoldTheTokenHeaderAndEveryEdgeName) {
    EXPECT_EQ(edge_name_lengths({}), name_length_bit(11));
    EXPECT_EQ(edge_name_lengths(kEdgeOnly),
              name_length_bit(11) | name_length_bit(20) | name_length_bit(16) | name_length_bit(15));
    // Names of 63 bytes or more share one bit.
    EXPECT_EQ(name_length_bit(63), name_length_bit(64));
    EXPECT_EQ(name_length_bit(63), name_length_bit(500));
    EXPECT_NE(name_length_bit(62), name_length_bit(63));
}

// The server skips apply_edge_trust when no field name has the length of an edge name (the mask
// check_head notes): over many header sets, apply_edge_trust must then change nothing and return
// the default verdict, and whenever it did something the masks must share a bit.
TEST(EdgeTrustTest, ARequestWithNoNameOfAnEdgeNameLengthIsLeftAsItIs) {
    const std::string long_name(70, 'y');
    const std::vector<std::string> edge_sets[] = {kEdgeOnly, {}, {"x-a", long_name}};
    const std::vector<std::string> pool{
        "Host", "Authorization", "Content-Type", "Content-Length", "X-Edge-Auth", "x-edge-auth",
        "X-EDGE-AUTH", "X-Edge-Autx", "X-Request-Timeout-Ms", "x-request-timeout-mx", "X-Viewer-Country",
        "X-Forwarded-For", "x-forwarded-fox", "User-Agent", "traceparent", "X-A", "x-a", "X-B",
        std::string(64, 'y'), long_name, std::string(70, 'Y'), std::string(80, 'y')};
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
    const auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    int skipped = 0;
    int scanned = 0;
    for (const auto& edge : edge_sets) {
        const std::uint64_t edge_mask = edge_name_lengths(edge);
        for (int round = 0; round < 4000; ++round) {
            std::vector<Header> hs;
            const std::size_t n = next() % 8;
            for (std::size_t i = 0; i < n; ++i) {
                hs.push_back({pool[next() % pool.size()], (next() % 3 == 0) ? std::string_view(kToken) : "v"});
            }
            std::uint64_t mask = 0;
            for (const Header& h : hs) {
                mask |= name_length_bit(h.name.size());
            }
            const auto before = hs;
            const EdgeVerdict v = apply_edge_trust(hs, kToken, edge);
            const bool changed = hs.size() != before.size() || v.trusted || v.auth_rejected || v.dropped != 0;
            if ((mask & edge_mask) == 0) {
                ++skipped;
                EXPECT_FALSE(changed) << "round " << round;
                EXPECT_EQ(names(hs), names(before));
            } else {
                ++scanned;
            }
        }
    }
    EXPECT_GT(skipped, 1000);  // both sides of the check are exercised
    EXPECT_GT(scanned, 1000);
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
