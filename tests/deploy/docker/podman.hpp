/// @file podman.hpp
/// @brief Podman for tests/deploy/docker: a private image store per build tree, the OCI runtime
/// and flags this machine accepts, the Debian base image made locally with debootstrap.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace moneta::docker_test {

/// What a command did: its exit status (0..255, 128+signal, -1 = did not finish in time or could
/// not start) and its stdout+stderr.
struct CommandResult {
    int status = -1;
    std::string output;
    bool ok() const noexcept { return status == 0; }
};

/// Runs @p argv (argv[0] found on PATH or in the sbin directories) and waits at most @p timeout.
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout);

/// The shared libraries @p binary loads (ldd), each mapped to its Debian package (dpkg -S),
/// without the ":amd64" suffix. Empty optional when ldd or dpkg fails; @p error says why.
std::optional<std::vector<std::string>> runtime_packages_of(const std::filesystem::path& binary, std::string& error);

/// The packages of one line "<stage>: ..." of deploy/docker/packages.txt.
std::vector<std::string> listed_packages(const std::string& stage);

/// One podman configuration that works here, found by Podman::open().
/// NOTE: rootful only (the test runs as root, as CI does); no systemd, so healthchecks are run by
/// the test (`podman healthcheck run`), not by timers.
class Podman {
public:
    /// Finds podman, picks a storage root under @p state_dir (kept across runs: images are cached
    /// per build tree) and a short run root under /tmp, then tries OCI runtimes (crun, runc) and
    /// storage drivers (overlay, vfs) until `podman run --rm <base> true` works. Makes the base
    /// image first when it is missing. @return the configuration, or nullopt with @p why saying
    /// exactly what refused (for GTEST_SKIP).
    static std::optional<Podman> open(const std::filesystem::path& state_dir, std::string& why);

    /// podman <global flags> @p args.
    CommandResult operator()(std::vector<std::string> args, std::chrono::seconds timeout) const;

    /// Flags every `podman run` / `podman build` here needs (rlimits this sandbox allows).
    std::vector<std::string> resource_flags() const;

    const std::string& base_image() const noexcept { return base_image_; }
    const std::string& description() const noexcept { return description_; }

private:
    std::vector<std::string> global_;
    std::string base_image_;
    std::string description_;
    unsigned long nofile_ = 1024;
};

}  // namespace moneta::docker_test
