/// @file tests/services/sshca/sshca_fixture.hpp
/// @brief sshca-server in-process for the integration tests: a temp policy, database and CA key
/// directory (keys generated on first start), port 0, a given clock; HTTP calls through the
/// tests' blocking client and HS256 tokens signed with the server's secret.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "app.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/testing/http.hpp"

namespace moneta::sshca::testing {

inline constexpr std::string_view kJwtSecret = "sshca-test-jwt-secret-0123456789abcdef";
inline constexpr std::string_view kHostToken = "sshca-test-host-token-0123456789";
inline constexpr std::string_view kCaPassphrase = "sshca test passphrase";

/// The demo policy (deploy/sshca/policy.json) plus web-eng, whose principal no test host accepts.
inline constexpr std::string_view kTestPolicy = R"({
  "default_ttl_s": 3600,
  "backdate_s": 60,
  "groups": {
    "video-eng": {"principals": ["zone-video-dev", "zone-video-prod"], "max_ttl_s": 28800,
                  "extensions": ["permit-pty", "permit-port-forwarding"]},
    "oncall": {"principals": ["zone-video-prod", "root-everywhere"], "max_ttl_s": 86400,
               "extensions": ["permit-pty", "permit-agent-forwarding"]},
    "deploy-bot": {"principals": ["deploy"], "max_ttl_s": 3600, "extensions": [],
                   "source_address": "127.0.0.0/8,10.0.0.0/8", "force_command": "/usr/local/bin/deploy"},
    "web-eng": {"principals": ["zone-web-prod"], "max_ttl_s": 7200},
    "sec-admin": {"principals": [], "max_ttl_s": 3600, "admin": true}
  }
})";

struct ServerOptions {
    std::string policy = std::string(kTestPolicy);
    FailureLimit failures;
    std::string db_name = "sshca.db";
    std::optional<AwsSettings> aws;  ///< auth.aws (enabled) when set
};

/// One running sshca-server (App) whose files live in @p dir (the keys in dir/keys, so a second
/// server on the same dir signs with the same CA). Stopped in the destructor.
class CaServer {
public:
    CaServer(const core::Clock& clock, const std::filesystem::path& dir, ServerOptions options = {});
    ~CaServer();
    CaServer(const CaServer&) = delete;
    CaServer& operator=(const CaServer&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    bool started() const noexcept { return port_ != 0; }

    /// A token for @p user in @p groups, expiring @p ttl_s after the clock's now (negative:
    /// already expired), signed with @p secret.
    std::string token(std::string_view user, const std::vector<std::string>& groups, std::int64_t ttl_s = 3600,
                      std::string_view audience = "sshca", std::string_view secret = kJwtSecret) const;

    /// One call; @p bearer empty = no Authorization header.
    moneta::testing::HttpReply call(std::string_view method, std::string_view target, std::string_view bearer = {},
                                    std::string_view body = {}, moneta::testing::HttpHeaders headers = {}) const;

private:
    const core::Clock& clock_;
    std::unique_ptr<App> app_;
    std::uint16_t port_ = 0;
};

/// The body as JSON (null when it is not JSON).
boost::json::value parse_json(std::string_view body);
/// error.code of an error body ("" when absent).
std::string error_code(std::string_view body);
/// A JSON string literal of @p s.
std::string json_string(std::string_view s);

}  // namespace moneta::sshca::testing
