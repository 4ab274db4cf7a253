#include <gtest/gtest.h>

#include "moneta/redis/config.hpp"
#include "moneta/redis/script.hpp"

namespace moneta::redis {
namespace {

TEST(ScriptTest, DigestIsLowerCaseHexSha1OfTheSource) {
    EXPECT_EQ(Script("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(Script("abc").sha1(), "a9993e364706816aba3e25717850c26c9cd0d89d");
    const Script s("return 1");
    EXPECT_EQ(s.source(), "return 1");
    EXPECT_EQ(s.sha1().size(), 40U);
}

TEST(ClientConfigTest, ValidatesRanges) {
    EXPECT_TRUE(validate(ClientConfig{}));
    ClientConfig c;
    c.port = 0;
    EXPECT_FALSE(validate(c));
    c = {};
    c.command_timeout = Duration::zero();
    EXPECT_FALSE(validate(c));
    c = {};
    c.reconnect_backoff_min = std::chrono::seconds(5);
    EXPECT_FALSE(validate(c));
    c = {};
    c.max_pending = 0;
    EXPECT_FALSE(validate(c));
    c = {};
    c.username = "user";  // a username without a password is a config mistake
    EXPECT_FALSE(validate(c));
    c.password = "pw";
    EXPECT_TRUE(validate(c));
}

}  // namespace
}  // namespace moneta::redis
