/// @file services/sshca/src/settings.hpp
/// @brief sshca-server's one JSON config (services/sshca/config/sshca.json), strict like every
/// config here: unknown keys refused, secrets only from the environment or a file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <boost/system/result.hpp>

#include "authority.hpp"
#include "aws_identity.hpp"
#include "ca_keys.hpp"
#include "identity.hpp"

namespace moneta::sshca {

struct Settings {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8083;
    std::filesystem::path db = "sshca.db";
    std::filesystem::path policy = "deploy/sshca/policy.json";
    CaKeySettings ca;
    HostSettings host;
    std::string jwt_secret;    ///< HS256 secret of the IdP's tokens (dev); never logged
    std::string jwt_issuer;    ///< required `iss` when set
    std::string host_token;    ///< host bootstrap token; empty = only admins sign host keys
    FailureLimit failures;
    AwsSettings aws;           ///< auth.aws: AWS IAM identity (off unless enabled)
};

/// Reads @p file; SSHCA_ADDRESS, SSHCA_PORT, SSHCA_DB, SSHCA_POLICY, SSHCA_CA_DIR override it.
boost::system::result<Settings, std::string> load_settings(const std::filesystem::path& file);

}  // namespace moneta::sshca
