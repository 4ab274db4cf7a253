#include "moneta/config/config.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "moneta/testing/temp_dir.hpp"

namespace moneta::config {
namespace {

std::string error_of(const std::string& json, void (*fn)(Reader&)) {
    const auto v = boost::json::parse(json);
    try {
        Reader r(v.as_object(), "");
        fn(r);
        r.finish();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(ConfigTest, ReadsTypedValuesWithDefaults) {
    const auto v = boost::json::parse(R"({"server":{"port":8081,"threads":2},"name":"x","on":true,"list":["a","b"]})");
    Reader r(v.as_object(), "");
    Reader server = r.child("server");
    EXPECT_EQ(server.port("port", 1), 8081);
    EXPECT_EQ(server.integer("threads", 0, 0, 64), 2);
    EXPECT_EQ(server.millis("drain_ms", std::chrono::milliseconds(5)), std::chrono::milliseconds(5));
    server.finish();
    EXPECT_EQ(r.string("name", ""), "x");
    EXPECT_TRUE(r.boolean("on", false));
    EXPECT_EQ(r.strings("list", {}), (std::vector<std::string>{"a", "b"}));
    EXPECT_NO_THROW(r.finish());
}

TEST(ConfigTest, ErrorsNameTheFullKeyPath) {
    EXPECT_EQ(error_of(R"({"redis":{"portt":1}})", [](Reader& r) { r.child("redis").port("port", 1); r.child("redis").finish(); }),
              "redis.portt: unknown key");
    EXPECT_EQ(error_of(R"({"redis":{"port":"abc"}})", [](Reader& r) { r.child("redis").port("port", 1); }),
              "redis.port: expected an integer in [0, 65535], got \"abc\"");
    EXPECT_EQ(error_of(R"({"redis":{"port":70000}})", [](Reader& r) { r.child("redis").port("port", 1); }),
              "redis.port: expected an integer in [0, 65535], got 70000");
    EXPECT_EQ(error_of(R"({"extra":1})", [](Reader&) {}), "extra: unknown key");
    EXPECT_EQ(error_of(R"({"keys":[{"kid":1}]})", [](Reader& r) { r.children("keys")[0].string("kid", ""); }),
              "keys[0].kid: expected a string");
}

TEST(ConfigTest, NamedChildrenAreObjectsUnderAnyNameAndStayStrict) {
    const auto v = boost::json::parse(R"({"groups":{"ops":{"admin":true},"video":{}}})");
    Reader r(v.as_object(), "");
    auto groups = r.named_children("groups");
    ASSERT_EQ(groups.size(), 2U);
    EXPECT_EQ(groups[0].first, "ops");
    EXPECT_TRUE(groups[0].second.boolean("admin", false));
    EXPECT_EQ(groups[1].first, "video");
    EXPECT_FALSE(groups[1].second.boolean("admin", false));
    EXPECT_EQ(error_of(R"({"groups":{"ops":{"adm":true}}})",
                       [](Reader& x) { for (auto& [name, g] : x.named_children("groups")) g.finish(); }),
              "groups.ops.adm: unknown key");
    EXPECT_EQ(error_of(R"({"groups":{"o\nps":1}})", [](Reader& x) { x.named_children("groups"); }),
              "groups.o\\x0aps: expected an object");
    EXPECT_EQ(error_of(R"({"groups":[]})", [](Reader& x) { x.named_children("groups"); }),
              "groups: expected an object of objects");
}

TEST(ConfigTest, KeysInErrorsAreEscaped) {
    // Fuzz finding (fuzz/regressions/config): a NUL in an unknown key cut the message short
    // (what() is a C string) and a newline forged a log line.
    EXPECT_EQ(error_of(R"({"th\u0000reads":1})", [](Reader&) {}), "th\\x00reads: unknown key");
    EXPECT_EQ(error_of(R"({"a\nlevel=error b\\c\u007f":1})", [](Reader&) {}),
              "a\\x0alevel=error b\\\\c\\x7f: unknown key");
    EXPECT_EQ(error_of(R"({"s\tx":{"p":1}})", [](Reader& r) { r.child("s\tx").finish(); }),
              "s\\x09x.p: unknown key");
    EXPECT_EQ(error_of(R"({"":1})", [](Reader&) {}), "\"\": unknown key");
    EXPECT_EQ(error_of(R"({"m":{"k\u0001":1.5}})", [](Reader& r) { r.integer_map("m", {}); }),
              "m: expected an object of integers (at \"k\\x01\")");
}

TEST(ConfigTest, NumbersAcceptIntegersAndFractionsWithinRange) {
    const auto v = boost::json::parse(R"({"rate":0.25,"k":2,"big":1e3})");
    Reader r(v.as_object(), "");
    EXPECT_DOUBLE_EQ(r.number("rate", 0.5, 0, 1), 0.25);
    EXPECT_DOUBLE_EQ(r.number("k", 1, 1, 10), 2.0);
    EXPECT_DOUBLE_EQ(r.number("big", 0, 0, 1000), 1000.0);
    EXPECT_DOUBLE_EQ(r.number("absent", 0.5, 0, 1), 0.5);
    EXPECT_NO_THROW(r.finish());
    EXPECT_EQ(error_of(R"({"rate":1.5})", [](Reader& rd) { rd.number("rate", 0, 0, 1); }),
              "rate: expected a number in [0, 1], got 1.5");
    EXPECT_EQ(error_of(R"({"rate":"0.5"})", [](Reader& rd) { rd.number("rate", 0, 0, 1); }),
              "rate: expected a number in [0, 1], got \"0.5\"");
    EXPECT_EQ(error_of(R"({"rate":-0.1})", [](Reader& rd) { rd.number("rate", 0, 0, 1); }),
              "rate: expected a number in [0, 1], got -0.1");
}

TEST(ConfigTest, SecretsComeFromEnvOrFileNeverInline) {
    moneta::testing::TempDir dir("cfg-");
    std::ofstream(dir.file("s")) << "file-secret\n";
    ::setenv("MONETA_TEST_SECRET", "env-secret", 1);
    const auto v = boost::json::parse(std::string(R"({"a":{"env":"MONETA_TEST_SECRET"},"b":{"file":")") +
                                      dir.file("s").string() + R"("},"c":"inline"})");
    Reader r(v.as_object(), "auth");
    EXPECT_EQ(r.secret("a", true).reveal(), "env-secret");
    EXPECT_EQ(r.secret("b", true).reveal(), "file-secret");
    try {
        r.secret("c", true);
        FAIL() << "inline secret accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("auth.c: secrets are never inline"), std::string::npos);
    }
    std::ostringstream os;
    os << r.secret("a", true);
    EXPECT_EQ(os.str(), "[REDACTED]");
    ::unsetenv("MONETA_TEST_SECRET");
    EXPECT_THROW(r.secret("a", true), ConfigError);
}

TEST(ConfigTest, EnvOverridesAreTypeChecked) {
    auto v = boost::json::parse(R"({"server":{"port":1}})");
    const EnvOverride table[] = {{"MONETA_TEST_PORT", "server.port", EnvType::kInteger},
                                 {"MONETA_TEST_LEVEL", "log.level", EnvType::kString}};
    ::setenv("MONETA_TEST_PORT", "9999", 1);
    ::setenv("MONETA_TEST_LEVEL", "warn", 1);
    ASSERT_TRUE(apply_env(v, table));
    EXPECT_EQ(v.at("server").at("port").as_int64(), 9999);
    EXPECT_EQ(v.at("log").at("level").as_string(), "warn");
    ::setenv("MONETA_TEST_PORT", "12x", 1);
    const auto bad = apply_env(v, table);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "MONETA_TEST_PORT: expected an integer, got \"12x\"");
    ::unsetenv("MONETA_TEST_PORT");
    ::unsetenv("MONETA_TEST_LEVEL");
}

TEST(ConfigTest, EnvListsBecomeStringArraysAndRefuseEmptyItems) {
    auto v = boost::json::parse(R"({"redis":{"nodes":["old:1"]}})");
    const EnvOverride table[] = {{"MONETA_TEST_NODES", "redis.nodes", EnvType::kStringList}};
    ::setenv("MONETA_TEST_NODES", "127.0.0.1:7000,127.0.0.1:7001", 1);
    ASSERT_TRUE(apply_env(v, table));
    EXPECT_EQ(boost::json::serialize(v.at("redis").at("nodes")), R"(["127.0.0.1:7000","127.0.0.1:7001"])");
    ::setenv("MONETA_TEST_NODES", "one", 1);
    ASSERT_TRUE(apply_env(v, table));
    EXPECT_EQ(boost::json::serialize(v.at("redis").at("nodes")), R"(["one"])");
    for (const char* bad : {"a,,b", "a,", ",a", ","}) {
        ::setenv("MONETA_TEST_NODES", bad, 1);
        const auto r = apply_env(v, table);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().find("MONETA_TEST_NODES: expected a comma-separated list without empty items"),
                  std::string::npos)
            << r.error();
    }
    ::unsetenv("MONETA_TEST_NODES");
}

TEST(ConfigTest, SyntaxErrorsNameFileAndLine) {
    moneta::testing::TempDir dir("cfg-");
    std::ofstream(dir.file("bad.json")) << "{\n  \"a\": 1,\n  \"b\": }\n";
    const auto r = load_file(dir.file("bad.json"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("bad.json:3:"), std::string::npos) << r.error();
    EXPECT_FALSE(load_file(dir.file("missing.json")));
}

// A service's config as it runs: the file, then its environment overrides, either one's error.
TEST(ConfigTest, LoadFileWithOverridesAppliesTheEnvironment) {
    moneta::testing::TempDir dir("cfg-");
    std::ofstream(dir.file("svc.json")) << R"({"server":{"port":1}})";
    const EnvOverride table[] = {{"MONETA_TEST_PORT", "server.port", EnvType::kInteger}};
    ::setenv("MONETA_TEST_PORT", "8443", 1);
    const auto r = load_file(dir.file("svc.json"), table);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->at("server").at("port").as_int64(), 8443);
    ::setenv("MONETA_TEST_PORT", "x", 1);
    const auto bad = load_file(dir.file("svc.json"), table);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "MONETA_TEST_PORT: expected an integer, got \"x\"");
    ::unsetenv("MONETA_TEST_PORT");
    EXPECT_FALSE(load_file(dir.file("missing.json"), table));
}

}  // namespace
}  // namespace moneta::config
