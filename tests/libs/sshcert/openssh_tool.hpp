/// @file openssh_tool.hpp
/// @brief The tests' bridge to the real OpenSSH: run ssh-keygen in a per-test directory, and
/// hand it our CA keys in a form it reads.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "moneta/sshcert/ca_key.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::sshcert::testing {

/// The passphrase the tests encrypt CA keys with.
inline constexpr std::string_view kTestPassphrase = "correct horse battery staple";

struct RunResult {
    int status = -1;     ///< exit status, 128+signal, or -1 when it could not run
    std::string output;  ///< stdout and stderr
};

/// Owns a temp directory and runs OpenSSH's tools in it.
class OpensshTool {
public:
    OpensshTool();

    /// /usr/bin/ssh-keygen (found on PATH); empty when missing, which the tests report as a
    /// failure: openssh-client is in MONETA_PACKAGES.
    static std::string ssh_keygen();

    const std::filesystem::path& dir() const noexcept { return dir_.path(); }
    std::filesystem::path file(std::string_view name) const { return dir_.file(name); }

    /// Runs ssh-keygen with @p args (and @p env added), output captured.
    RunResult keygen(const std::vector<std::string>& args,
                     const std::vector<std::pair<std::string, std::string>>& env = {});

    /// Writes @p content to @p name in the directory with @p mode; returns the path.
    /// `ssh-keygen -t TYPE [-b BITS] -N '' -C COMMENT -f NAME`: a subject key pair; returns the
    /// content of NAME.pub (one line).
    std::string generate_key(std::string_view name, std::string_view type, int bits, std::string_view comment);

    std::filesystem::path write(std::string_view name, std::string_view content, unsigned mode = 0600) const;
    std::string read(std::string_view name) const;

    /// Writes @p ca's private key where ssh-keygen -s reads it (mode 0600): OpenSSH's own format
    /// for Ed25519 (OpenSSH 9.2 reads no Ed25519 PEM), PKCS#8 PEM for the others. Goes through
    /// the CA's encrypted PEM, the one way the library lets the key out.
    std::filesystem::path write_private_key_for_ssh_keygen(std::string_view name, const CaKey& ca) const;

private:
    moneta::testing::TempDir dir_;
    int runs_ = 0;
};

}  // namespace moneta::sshcert::testing
