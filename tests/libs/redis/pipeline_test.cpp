#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "moneta/redis/pipeline.hpp"

namespace moneta::redis {
namespace {

// hiredis's own encoder is the reference for ours.
std::string hiredis_format(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    char* out = nullptr;
    const int n = redisFormatCommandArgv(&out, static_cast<int>(args.size()), argv.data(), lens.data());
    std::string s(out, static_cast<std::size_t>(n));
    redisFreeCommand(out);
    return s;
}

TEST(PipelineTest, EncodesCommandsExactlyLikeHiredis) {
    const std::vector<std::string_view> set = {"SET", "key", std::string_view("a\r\n\0b", 5)};
    const std::vector<std::string_view> empty_arg = {"HSET", "h", "", "v"};
    const std::string big(100000, 'x');
    const std::vector<std::string_view> large = {"SET", "big", big};
    Pipeline p;
    p.add(set).add(empty_arg).add(large);
    EXPECT_EQ(p.size(), 3U);
    EXPECT_EQ(p.wire(), hiredis_format(set) + hiredis_format(empty_arg) + hiredis_format(large));
}

TEST(PipelineTest, IgnoresEmptyCommandsAndClearsForReuse) {
    Pipeline p;
    p.add(std::span<const std::string_view>{});
    EXPECT_TRUE(p.empty());
    p.add({"PING"});
    EXPECT_EQ(p.wire(), "*1\r\n$4\r\nPING\r\n");
    p.clear();
    EXPECT_TRUE(p.empty());
    EXPECT_EQ(p.wire(), "");
}

}  // namespace
}  // namespace moneta::redis
