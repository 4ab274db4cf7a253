/// @file moneta/testing/paths.hpp
/// @brief Where the tree and the build are, and where installed programs (redis-server, nginx) live.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace moneta::testing {

/// The build tree: env MONETA_BINARY_DIR (set by moneta_test), else the build dir this support
/// library was configured in (so a test binary run by hand still works).
std::filesystem::path binary_dir();

/// The source tree: env MONETA_SOURCE_DIR, else the source dir this library was configured from.
std::filesystem::path source_dir();

/// Absolute path of an executable called @p name, searching $PATH and then /usr/local/sbin,
/// /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin (nginx lives in /usr/sbin, which a normal
/// user's PATH often lacks). A @p name containing '/' is returned as is when executable.
/// @return the path, or an empty string when not found.
std::string find_program(std::string_view name);

/// Whole content of a (log) file; empty when it cannot be read. For failure messages.
std::string read_file(const std::filesystem::path& path);

}  // namespace moneta::testing
