// The repository lint (docs/ci.md "Lint rules"): every YAML file passes `yamllint --strict` with
// the repository's .yamllint, every shell script passes `shellcheck -x` with .shellcheckrc. The
// files are found by scanning the source tree (lint_support.hpp), not listed, so a file someone
// adds later is linted too; the scan itself is checked on a scratch tree, and the configurations
// are checked to still reject what docs/ci.md says they reject.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lint_support.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::lint_test {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

bool contains(const std::vector<fs::path>& files, const fs::path& file) {
    return std::find(files.begin(), files.end(), file) != files.end();
}

std::vector<std::string> with_files(std::vector<std::string> argv, const std::vector<fs::path>& files) {
    for (const auto& f : files) {
        argv.push_back(f.string());
    }
    return argv;
}

TEST(LintScanTest, FindsYamlAndShellFilesByNameAndShebangAndSkipsGeneratedTrees) {
    testing::TempDir tree("lint-scan-");
    const fs::path r = tree.path();
    write(r / "a.yml", "a: 1\n");
    write(r / "deploy/k8s/b.yaml", "b: 1\n");
    write(r / ".yamllint", "extends: default\n");
    write(r / ".clang-format", "BasedOnStyle: Google\n");
    write(r / ".github/workflows/ci.yml", "on: push\n");
    write(r / "notes.txt", "a: 1\n");
    write(r / "tool.sh", "echo no shebang, sourced\n");
    write(r / "dev", "#!/usr/bin/env bash\n");
    write(r / ".ci/run", "#!/bin/sh\n");
    write(r / "bin/opts", "#!/bin/bash -eu\n");
    write(r / "bin/envopts", "#!/usr/bin/env -S bash -e\n");
    write(r / "bin/tool.py", "#!/usr/bin/env python3\n");
    write(r / "bin/zsh-tool", "#!/bin/zsh\n");
    write(r / "bin/bashful", "#!/usr/bin/bashful\n");
    write(r / "bin/data", "not a script\n");
    // Generated trees: never scanned.
    write(r / "build/asan/x.yml", "x: 1\n");
    write(r / "build/run.sh", "#!/bin/sh\n");
    write(r / ".dev/run/prometheus.yml", "x: 1\n");
    write(r / ".git/hooks/pre-commit.sh", "#!/bin/sh\n");
    write(r / "out-of-tree-build/CMakeCache.txt", "");
    write(r / "out-of-tree-build/y.yml", "y: 1\n");
    write(r / "docs/build/kept.yml", "a nested build/ is source: only the top-level one is skipped\n");

    EXPECT_EQ(joined(scan(r, is_yaml_file)),
              ".clang-format .github/workflows/ci.yml .yamllint a.yml deploy/k8s/b.yaml docs/build/kept.yml");
    EXPECT_EQ(joined(scan(r, is_shell_script)), ".ci/run bin/envopts bin/opts dev tool.sh");
}

class RepositoryLintTest : public ::testing::Test {
protected:
    const fs::path root_ = testing::source_dir();
    testing::TempDir scratch_{"lint-"};
};

TEST_F(RepositoryLintTest, EveryYamlFilePassesYamllint) {
    ASSERT_FALSE(testing::find_program("yamllint").empty()) << "install yamllint (MONETA_PACKAGES)";
    const auto files = scan(root_, is_yaml_file);
    // An empty or broken scan must not pass as "nothing to complain about".
    EXPECT_GE(files.size(), 15U) << joined(files);
    for (const char* known : {".yamllint", ".github/workflows/ci.yml", "deploy/prometheus/alertmanager.yml",
                              "tests/deploy/prometheus/rules/latency_test.yml"}) {
        EXPECT_TRUE(contains(files, known)) << known << " not found by the scan: " << joined(files);
    }
    const RunResult r = run(with_files({"yamllint", "--strict", "-f", "parsable", "-c", ".yamllint", "--"}, files),
                            root_, scratch_.file("yamllint.log"));
    EXPECT_EQ(r.status, 0) << "yamllint --strict -c .yamllint (from " << root_.string() << "):\n" << r.output;
}

TEST_F(RepositoryLintTest, EveryShellScriptPassesShellcheck) {
    ASSERT_FALSE(testing::find_program("shellcheck").empty()) << "install shellcheck (MONETA_PACKAGES)";
    const auto files = scan(root_, is_shell_script);
    EXPECT_GE(files.size(), 12U) << joined(files);
    for (const char* known : {"dev", ".ci/run", "scripts/lib.sh", "scripts/stack.sh", "bench/run.sh",
                              "bench/load/http_layer.sh", ".ci/deploy/ecs.sh"}) {
        EXPECT_TRUE(contains(files, known)) << known << " not found by the scan: " << joined(files);
    }
    // From the root: .shellcheckrc is found there, and `source "$ROOT/scripts/lib.sh"` resolves.
    const RunResult r = run(with_files({"shellcheck", "-x", "-f", "gcc", "--"}, files), root_,
                            scratch_.file("shellcheck.log"));
    EXPECT_EQ(r.status, 0) << "shellcheck -x (from " << root_.string() << "):\n" << r.output;
}

// The configuration still enforces the rules docs/ci.md lists (a config that disabled them would
// let every file above pass).
TEST_F(RepositoryLintTest, YamllintConfigRejectsWhatDocsSayAndAcceptsWhatTheyAllow) {
    const fs::path bad = scratch_.file("bad.yml");
    write(bad,
          "on:\n"                                    // 1: a key `on` is fine (GitHub Actions)
          "  push: {branches: [main]}\n"             // 2
          "enabled: yes\n"                           // 3: truthy
          "jobs:\n"                                  // 4
          "   test: {}\n"                            // 5: indentation (3 spaces)
          "url: https://example.com/" + std::string(130, 'a') + "\n"  // 6: one word: allowed
          "text: " + std::string(60, 'a') + " " + std::string(60, 'b') + "\n"  // 7: line-length
          "jobs: {}\n"                               // 8: key-duplicates
          "trailing: 1 \n");                         // 9: trailing-spaces
    const RunResult r = run({"yamllint", "--strict", "-f", "parsable", "-c", (root_ / ".yamllint").string(), bad.string()},
                            scratch_.path(), scratch_.file("yamllint-bad.log"));
    EXPECT_NE(r.status, 0) << r.output;
    for (const char* want : {":3:10: [error] truthy value should be one of [false, true] (truthy)",
                             ":5:4: [error] wrong indentation: expected 2 but found 3 (indentation)",
                             ":7:121: [error] line too long (127 > 120 characters) (line-length)",
                             ":8:1: [error] duplication of key \"jobs\" in mapping (key-duplicates)",
                             ":9:12: [error] trailing spaces (trailing-spaces)"}) {
        EXPECT_NE(r.output.find(want), std::string::npos) << "want " << want << " in\n" << r.output;
    }
    for (const char* allowed : {":1:", ":2:", ":6:"}) {
        EXPECT_EQ(r.output.find("bad.yml" + std::string(allowed)), std::string::npos) << allowed << "\n" << r.output;
    }
}

TEST_F(RepositoryLintTest, ShellcheckConfigFollowsRootRelativeSourcesAndStillReportsFindings) {
    // A scratch copy of the layout: .shellcheckrc at the top, a script sourcing a library the way
    // ./dev does. The library defines what the script uses; not following it would report SC1091.
    const fs::path top = scratch_.path();
    fs::copy_file(root_ / ".shellcheckrc", top / ".shellcheckrc");
    write(top / "scripts/lib.sh", "# shellcheck shell=bash\ngreet() { echo \"hello $1\"; }\n");
    write(top / "dev",
          "#!/usr/bin/env bash\n"
          "ROOT=\"$(cd \"$(dirname \"${BASH_SOURCE[0]}\")\" && pwd)\"\n"
          "source \"$ROOT/scripts/lib.sh\"\n"
          "greet \"$@\"\n");
    write(top / ".ci/run",
          "#!/usr/bin/env bash\n"
          "ROOT=\"$(cd \"$(dirname \"${BASH_SOURCE[0]}\")/..\" && pwd)\"\n"
          "source \"$ROOT/scripts/lib.sh\"\n"
          "greet ci\n");
    // From another directory: only the rc file's source paths (SCRIPTDIR, SCRIPTDIR/..) can
    // find scripts/lib.sh.
    fs::create_directories(top / "elsewhere");
    const RunResult good = run({"shellcheck", "-x", "-f", "gcc", (top / "dev").string(), (top / ".ci/run").string()},
                               top / "elsewhere", scratch_.file("good.log"));
    EXPECT_EQ(good.status, 0) << good.output;

    write(top / "bad.sh", "#!/bin/sh\nfor f in $(ls *.txt); do echo $f; done\n");
    const RunResult bad = run({"shellcheck", "-x", "-f", "gcc", "bad.sh"}, top, scratch_.file("bad.log"));
    EXPECT_NE(bad.status, 0) << bad.output;
    for (const char* want : {"[SC2045]", "[SC2086]"}) {
        EXPECT_NE(bad.output.find(want), std::string::npos) << want << "\n" << bad.output;
    }
}

}  // namespace
}  // namespace moneta::lint_test
