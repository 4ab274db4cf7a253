/// @file tests/services/moneta/settings_fixture.hpp
/// @brief Loads the shipped moneta.json with edits applied (load_settings on a temp copy), the
/// required secrets in the environment and the variables the tests set cleared.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "settings.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {

namespace bj = boost::json;

/// Cleared before and after each test: the secrets it sets and the variables tests set.
constexpr const char* kVars[] = {"INTERNAL_API_TOKEN",     "MONETA_JWT_SECRET",    "MONETA_DRM_SITE_KEY",
                                 "MONETA_DRM_ACCESS_KEY",  "MONETA_EDGE_TOKEN",    "MONETA_ADMIN_TOKEN",
                                 "CONSUL_HTTP_ADDR",       "CONSUL_HTTP_TOKEN",    "CONSUL_HTTP_TOKEN_FILE",
                                 "MONETA_CONSUL_TTL_MS",   "MONETA_CONSUL_BACKOFF_MAX_MS", "MONETA_REDIS_MODE",
                                 "MONETA_REDIS_NODES"};

class SettingsFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* v : kVars) {
            ::unsetenv(v);
        }
        ::setenv("INTERNAL_API_TOKEN", "it-token", 1);
        ::setenv("MONETA_JWT_SECRET", std::string(40, 'j').c_str(), 1);
        ::setenv("MONETA_DRM_SITE_KEY", std::string(32, 's').c_str(), 1);
        ::setenv("MONETA_DRM_ACCESS_KEY", std::string(32, 'a').c_str(), 1);
    }
    void TearDown() override {
        for (const char* v : kVars) {
            ::unsetenv(v);
        }
    }

    boost::system::result<Settings, std::string> load(const std::function<void(bj::object&)>& edit = {}) {
        std::ifstream in(source_dir() / "services/moneta/config/moneta.json");
        std::stringstream ss;
        ss << in.rdbuf();
        bj::value doc = bj::parse(ss.str());
        if (edit) {
            edit(doc.as_object());
        }
        const auto path = dir_.file("moneta.json");
        std::ofstream(path) << bj::serialize(doc);
        return load_settings(path);
    }

    TempDir dir_;
};

}  // namespace moneta::testing
