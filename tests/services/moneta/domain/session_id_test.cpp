// SessionIdSigner: ids carry a MAC of the account they were minted for (domain/session_id.hpp).
#include "domain/session_id.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "domain/requests.hpp"

namespace moneta::domain {
namespace {

TEST(SessionIdTest, MintedIdsAreValidApiIdsAndUnique) {
    const SessionIdSigner ids("k");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = ids.mint("a_1");
        EXPECT_EQ(id.size(), 27U) << id;  // "ps_" + 24
        EXPECT_EQ(id.substr(0, 3), "ps_");
        EXPECT_TRUE(is_valid_id(id)) << id;
        EXPECT_TRUE(seen.insert(id).second) << "repeated " << id;
    }
}

TEST(SessionIdTest, VerifiesOnlyForItsAccountAndKey) {
    const SessionIdSigner ids("shared-key");
    const std::string id = ids.mint("a_1");
    EXPECT_TRUE(ids.minted_for("a_1", id));
    EXPECT_TRUE(SessionIdSigner("shared-key").minted_for("a_1", id)) << "another instance with the same key";
    EXPECT_FALSE(ids.minted_for("a_2", id));
    EXPECT_FALSE(ids.minted_for("a_", id));
    EXPECT_FALSE(ids.minted_for("a_1x", id));
    EXPECT_FALSE(SessionIdSigner("other-key").minted_for("a_1", id));
    EXPECT_FALSE(SessionIdSigner("").minted_for("a_1", id)) << "a random per-process key";
}

TEST(SessionIdTest, RefusesEveryAlteredOrMalformedId) {
    const SessionIdSigner ids("k");
    const std::string id = ids.mint("a_1");
    for (std::size_t i = 3; i < id.size(); ++i) {
        std::string bad = id;
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        EXPECT_FALSE(ids.minted_for("a_1", bad)) << bad;
    }
    for (const std::string& bad : {std::string(), std::string("ps_"), id.substr(0, id.size() - 1), id + "A",
                                  "xs_" + id.substr(3), std::string("ps_") + std::string(24, '!'),
                                  std::string("ps_0123456789abcdef012345")}) {
        EXPECT_FALSE(ids.minted_for("a_1", bad)) << bad;
    }
    EXPECT_FALSE(ids.minted_for(std::string(65, 'a'), id)) << "over-long account ids are never valid";
}

}  // namespace
}  // namespace moneta::domain
