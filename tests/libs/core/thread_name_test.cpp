#include "moneta/core/thread_name.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <array>
#include <string>
#include <string_view>
#include <thread>

namespace moneta::core {
namespace {

std::string current_name() {
    std::array<char, 64> buf{};
    EXPECT_EQ(::pthread_getname_np(::pthread_self(), buf.data(), buf.size()), 0);
    return buf.data();
}

/// The name a new thread reads back after set_thread_name(@p name).
std::string name_after_setting(std::string_view name) {
    std::string seen = "unset";
    std::thread t([&] {
        set_thread_name(name);
        seen = current_name();
    });
    t.join();
    return seen;
}

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
    const std::string main_name = current_name();
    EXPECT_EQ(name_after_setting("worker-3"), "worker-3");
    EXPECT_EQ(current_name(), main_name);
}

TEST(ThreadNameTest, LongNamesAreCutToLinuxsFifteenBytes) {
    EXPECT_EQ(name_after_setting("a-name-much-longer-than-fifteen"), "a-name-much-lon");
}

TEST(ThreadNameTest, EmptyNameIsAccepted) { EXPECT_EQ(name_after_setting(""), ""); }

}  // namespace
}  // namespace moneta::core
