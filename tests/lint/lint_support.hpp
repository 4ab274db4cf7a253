// Finding the files the repository lint checks (tests/lint/lint_test.cpp, docs/ci.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace moneta::lint_test {

/// Directories the scan never enters: Git's own, build trees (a top-level build/ and any
/// directory holding a CMakeCache.txt, wherever it was configured), the dev stack's runtime
/// directory .dev/ (rendered configs, logs), tool caches. All generated, none of it source.
bool is_skipped_directory(const std::filesystem::path& dir, const std::filesystem::path& root);

/// A YAML file: *.yml, *.yaml, or one of the dot-files that are YAML (.yamllint, .clang-format,
/// .clang-tidy).
bool is_yaml_file(const std::filesystem::path& file);

/// A shell script: *.sh or *.bash, or a file whose first line is a shebang naming sh, bash, dash
/// or ksh (`#!/bin/sh`, `#!/usr/bin/env bash`, `#!/bin/bash -e`). zsh and fish are not
/// shellcheck's languages and are not matched.
bool is_shell_script(const std::filesystem::path& file);

/// Regular files under @p root (not following symlinked directories, skipping
/// is_skipped_directory) for which @p keep holds, as paths relative to @p root, sorted.
std::vector<std::filesystem::path> scan(const std::filesystem::path& root,
                                        bool (*keep)(const std::filesystem::path&));

struct RunResult {
    int status = -1;  ///< -1: did not start or did not finish in 90 s
    std::string output;
};
/// Runs @p argv in @p cwd; stdout and stderr go to @p log and come back in the result.
RunResult run(std::vector<std::string> argv, const std::filesystem::path& cwd, const std::filesystem::path& log);

/// The paths joined with spaces, for failure messages.
std::string joined(const std::vector<std::filesystem::path>& files);

}  // namespace moneta::lint_test
