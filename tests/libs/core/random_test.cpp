#include "moneta/core/random.hpp"

#include <gtest/gtest.h>

#include <set>

namespace moneta::core {
namespace {

TEST(RandomTest, RandomIdHasPrefixAndUrlSafeAlphabet) {
    const std::string id = random_id("ps_", 16);
    EXPECT_EQ(id.size(), 3U + 22U);
    EXPECT_EQ(id.substr(0, 3), "ps_");
    for (char c : id.substr(3)) {
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
    }
}

TEST(RandomTest, IdsDoNotRepeatAcrossPoolRefills) {
    std::set<std::string> seen;
    for (int i = 0; i < 5000; ++i) {  // 5000 * 16 bytes crosses many 4 KiB refills
        EXPECT_TRUE(seen.insert(random_id("", 16)).second);
    }
}

}  // namespace
}  // namespace moneta::core
