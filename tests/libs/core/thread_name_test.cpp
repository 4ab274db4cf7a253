#include "moneta/core/thread_name.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <array>
#include <string>
#include <thread>

namespace moneta::core {
namespace {

std::string current_name() {
    std::array<char, 64> buf{};
    EXPECT_EQ(::pthread_getname_np(::pthread_self(), buf.data(), buf.size()), 0);
    return buf.data();
}

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
    const std::string main_name = current_name();
    std::string seen;
    std::thread t([&] {
        set_thread_name("worker-3");
        seen = current_name();
    });
    t.join();
    EXPECT_EQ(seen, "worker-3");
    EXPECT_EQ(current_name(), main_name);
}

TEST(ThreadNameTest, LongNamesAreCutToLinuxsFifteenBytes) {
    std::string seen;
    std::thread t([&] {
        set_thread_name("a-name-much-longer-than-fifteen");
        seen = current_name();
    });
    t.join();
    EXPECT_EQ(seen, "a-name-much-lon");
}

TEST(ThreadNameTest, EmptyNameIsAccepted) {
    std::string seen = "unset";
    std::thread t([&] {
        set_thread_name("");
        seen = current_name();
    });
    t.join();
    EXPECT_EQ(seen, "");
}

}  // namespace
}  // namespace moneta::core
