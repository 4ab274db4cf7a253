// The internal API's settings from its shipped file and the environment: the container image
// (deploy/docker, docs/containers.md) binds every interface through INTERNAL_API_ADDRESS.
#include <gtest/gtest.h>

#include <cstdlib>

#include "app.hpp"
#include "moneta/testing/paths.hpp"

namespace moneta::internal_api {
namespace {

class InternalApiSettingsTest : public ::testing::Test {
protected:
    void SetUp() override { ::setenv("INTERNAL_API_TOKEN", "settings-test-token-0123456789", 1); }
    void TearDown() override {
        for (const char* v : {"INTERNAL_API_TOKEN", "INTERNAL_API_ADDRESS", "INTERNAL_API_PORT"}) {
            ::unsetenv(v);
        }
    }
    static std::filesystem::path shipped() {
        return testing::source_dir() / "services/internal_api/config/internal_api.json";
    }
};

TEST_F(InternalApiSettingsTest, ShippedFileBindsLoopback) {
    const auto s = load_settings(shipped());
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->address, "127.0.0.1");
    EXPECT_EQ(s->port, 8082);
}

TEST_F(InternalApiSettingsTest, AddressAndPortComeFromTheEnvironment) {
    ::setenv("INTERNAL_API_ADDRESS", "0.0.0.0", 1);
    ::setenv("INTERNAL_API_PORT", "18082", 1);
    const auto s = load_settings(shipped());
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->address, "0.0.0.0");
    EXPECT_EQ(s->port, 18082);
}

}  // namespace
}  // namespace moneta::internal_api
