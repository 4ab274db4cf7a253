#include <gtest/gtest.h>

#include <atomic>

#include "moneta/testing/wait.hpp"

namespace moneta::testing {
namespace {

using namespace std::chrono_literals;

TEST(WaitUntilTest, SucceedsOnceTheConditionHolds) {
    int calls = 0;
    EXPECT_TRUE(wait_until([&] { return ++calls >= 3; }, 5s, "third call"));
    EXPECT_EQ(calls, 3);
}

TEST(WaitUntilTest, FailsWithTheDescriptionAfterTheTimeout) {
    const auto r = wait_until([] { return false; }, 30ms, "the impossible");
    EXPECT_FALSE(r);
    EXPECT_NE(std::string(r.message()).find("the impossible"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace moneta::testing
