// Issue 10's settings: the admin port's own address and token, the edge token and the client
// deadline floor, read from the shipped moneta.json with secrets from the environment.
#include "settings.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>

#include "settings_fixture.hpp"

namespace moneta {
namespace {

namespace bj = boost::json;

class SettingsSecurityTest : public testing::SettingsFileTest {};

TEST_F(SettingsSecurityTest, ShippedDefaultsAreLoopbackAdminNoTrustAndA50MsFloor) {
    const auto s = load();
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->server.admin_address, "127.0.0.1");
    EXPECT_EQ(s->server.min_client_deadline, std::chrono::milliseconds(50));
    EXPECT_TRUE(s->server.edge_token.empty());   // unset variable: nothing is trusted
    EXPECT_TRUE(s->server.admin_token.empty());  // unset variable: admin changes answer 403
    // The code defaults agree with the file.
    const auto bare = load([](bj::object& o) {
        auto& server = o["server"].as_object();
        server.erase("admin_address");
        server.erase("min_client_deadline_ms");
        server.erase("edge_token");
        server.erase("admin_token");
    });
    ASSERT_TRUE(bare) << bare.error();
    EXPECT_EQ(bare->server.admin_address, "127.0.0.1");
    EXPECT_EQ(bare->server.min_client_deadline, std::chrono::milliseconds(50));
}

TEST_F(SettingsSecurityTest, TokensComeFromTheEnvironmentOnly) {
    ::setenv("MONETA_EDGE_TOKEN", "edge-secret-value-0123456789abcdef", 1);
    ::setenv("MONETA_ADMIN_TOKEN", "admin-secret-value-0123456789abcdef", 1);
    const auto s = load();
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->server.edge_token, "edge-secret-value-0123456789abcdef");
    EXPECT_EQ(s->server.admin_token, "admin-secret-value-0123456789abcdef");
    for (const char* key : {"edge_token", "admin_token"}) {
        const auto inline_secret = load([key](bj::object& o) { o["server"].as_object()[key] = "inline-secret-xyz"; });
        ASSERT_FALSE(inline_secret) << key;
        EXPECT_NE(inline_secret.error().find(std::string("server.") + key), std::string::npos) << inline_secret.error();
        EXPECT_NE(inline_secret.error().find("never inline"), std::string::npos) << inline_secret.error();
        EXPECT_EQ(inline_secret.error().find("inline-secret-xyz"), std::string::npos) << "value echoed";
    }
}

TEST_F(SettingsSecurityTest, BadValuesAreRefusedByName) {
    const auto negative = load([](bj::object& o) { o["server"].as_object()["min_client_deadline_ms"] = -1; });
    ASSERT_FALSE(negative);
    EXPECT_NE(negative.error().find("server.min_client_deadline_ms"), std::string::npos) << negative.error();
    const auto typo = load([](bj::object& o) { o["server"].as_object()["admin_adress"] = "0.0.0.0"; });
    ASSERT_FALSE(typo);
    EXPECT_NE(typo.error().find("admin_adress"), std::string::npos) << typo.error();
    for (const char* var : {"MONETA_EDGE_TOKEN", "MONETA_ADMIN_TOKEN"}) {
        ::setenv(var, "short-secret", 1);
        const auto weak = load();
        ::unsetenv(var);
        ASSERT_FALSE(weak) << var;
        EXPECT_NE(weak.error().find("shorter than 16 characters"), std::string::npos) << weak.error();
        EXPECT_EQ(weak.error().find("short-secret"), std::string::npos) << "value echoed";
    }
    const auto wide = load([](bj::object& o) { o["delivery"].as_object()["cdn"].as_object()["scope_segments"] = 1; });
    ASSERT_FALSE(wide);
    EXPECT_NE(wide.error().find("delivery.cdn.scope_segments"), std::string::npos) << wide.error();
}

TEST_F(SettingsSecurityTest, TokenCacheEntriesIsReadAndBounded) {
    // Not a security setting, but the one bound on a per-worker memory use: shipped value, an
    // override, off, and a value past the bound refused by name.
    const auto shipped = load();
    ASSERT_TRUE(shipped) << shipped.error();
    EXPECT_EQ(shipped->token_cache.max_entries, 131072U);
    const auto small = load([](bj::object& o) { o["auth"].as_object()["token_cache_entries"] = 1000; });
    ASSERT_TRUE(small) << small.error();
    EXPECT_EQ(small->token_cache.max_entries, 1000U);
    const auto off = load([](bj::object& o) { o["auth"].as_object()["token_cache_entries"] = 0; });
    ASSERT_TRUE(off) << off.error();
    EXPECT_EQ(off->token_cache.max_entries, 0U);
    const auto huge = load([](bj::object& o) { o["auth"].as_object()["token_cache_entries"] = 1 << 23; });
    ASSERT_FALSE(huge);
    EXPECT_NE(huge.error().find("auth.token_cache_entries"), std::string::npos) << huge.error();
}

TEST_F(SettingsSecurityTest, TracingSectionAndItsEnvironment) {
    // Issue 12: the shipped tracing section, its bounds, unknown keys, and the variables read
    // outside libs/config (the endpoint, the headers, the ratio).
    ::unsetenv("MONETA_OTLP_ENDPOINT");
    ::unsetenv("MONETA_OTLP_HEADERS");
    ::unsetenv("MONETA_TRACE_SAMPLE_RATIO");
    const auto shipped = load();
    ASSERT_TRUE(shipped) << shipped.error();
    EXPECT_DOUBLE_EQ(shipped->tracing.sample_ratio, 0.01);
    EXPECT_EQ(shipped->tracing.slow_threshold, std::chrono::milliseconds(500));
    EXPECT_EQ(shipped->tracing.queue_spans, 4096U);
    EXPECT_EQ(shipped->tracing.batch_spans, 512U);
    EXPECT_EQ(shipped->tracing.service_name, "moneta");
    EXPECT_TRUE(shipped->tracing.endpoint.empty()) << "export off unless MONETA_OTLP_ENDPOINT is set";
    const auto above = load([](bj::object& o) { o["tracing"].as_object()["sample_ratio"] = 1.5; });
    ASSERT_FALSE(above);
    EXPECT_NE(above.error().find("tracing.sample_ratio"), std::string::npos) << above.error();
    const auto typo = load([](bj::object& o) { o["tracing"].as_object()["sample_rate"] = 0.5; });
    ASSERT_FALSE(typo);
    EXPECT_NE(typo.error().find("sample_rate"), std::string::npos) << typo.error();

    ::setenv("MONETA_OTLP_ENDPOINT", "http://127.0.0.1:4318/v1/traces", 1);
    ::setenv("MONETA_OTLP_HEADERS", "Authorization=ApiKey abc", 1);
    ::setenv("MONETA_TRACE_SAMPLE_RATIO", "1", 1);
    const auto on = load();
    ASSERT_TRUE(on) << on.error();
    EXPECT_EQ(on->tracing.endpoint, "http://127.0.0.1:4318/v1/traces");
    EXPECT_EQ(on->tracing.headers, "Authorization=ApiKey abc");
    EXPECT_DOUBLE_EQ(on->tracing.sample_ratio, 1.0);
    for (const char* bad : {"2", "-0.1", "0.5x", "abc"}) {
        ::setenv("MONETA_TRACE_SAMPLE_RATIO", bad, 1);
        const auto r = load();
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_NE(r.error().find("MONETA_TRACE_SAMPLE_RATIO"), std::string::npos) << r.error();
        }
    }
    ::unsetenv("MONETA_OTLP_ENDPOINT");
    ::unsetenv("MONETA_OTLP_HEADERS");
    ::unsetenv("MONETA_TRACE_SAMPLE_RATIO");
}

// Containers (deploy/docker, docs/containers.md): the image binds every interface and finds its
// dependencies by service name, all from the environment, with the shipped file unchanged.
TEST_F(SettingsSecurityTest, AddressesAndDependencyHostsComeFromTheEnvironment) {
    const auto shipped = load();
    ASSERT_TRUE(shipped) << shipped.error();
    EXPECT_EQ(shipped->server.address, "127.0.0.1");
    EXPECT_EQ(shipped->redis.host, "127.0.0.1");
    EXPECT_EQ(shipped->internal_api.host, "127.0.0.1");

    ::setenv("MONETA_ADDRESS", "0.0.0.0", 1);
    ::setenv("MONETA_ADMIN_ADDRESS", "0.0.0.0", 1);
    ::setenv("MONETA_REDIS_HOST", "redis", 1);
    ::setenv("INTERNAL_API_HOST", "internal-api", 1);
    const auto s = load();
    for (const char* v : {"MONETA_ADDRESS", "MONETA_ADMIN_ADDRESS", "MONETA_REDIS_HOST", "INTERNAL_API_HOST"}) {
        ::unsetenv(v);
    }
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->server.address, "0.0.0.0");
    EXPECT_EQ(s->server.admin_address, "0.0.0.0");
    EXPECT_EQ(s->redis.host, "redis");
    EXPECT_EQ(s->internal_api.host, "internal-api");
}

}  // namespace
}  // namespace moneta
