// Helpers for the deploy/prometheus tests: the shipped rule files read as text, promtool/amtool
// runs, and stack.sh's renderer driven from a test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace moneta::prometheus_test {

using Env = std::vector<std::pair<std::string, std::string>>;

/// <source>/deploy/prometheus/rules/*.yml, sorted.
std::vector<std::filesystem::path> shipped_rule_files();

/// One `- alert:` block of a rule file, as written (the files follow one layout: promtool has
/// already parsed them; this only checks our conventions).
struct AlertBlock {
    std::string name;
    std::string text;  ///< the block's lines, up to the next rule
};
std::vector<AlertBlock> alert_blocks(const std::string& rule_file_text);

/// For a promtool test file: the alert names with an `exp_alerts: []` case and those with a
/// non-empty one.
struct TestCoverage {
    std::set<std::string> not_firing;
    std::set<std::string> firing;
};
TestCoverage test_coverage(const std::string& test_file_text);

/// Metric names an expression refers to: moneta_*, redis_*, nginx_*, process_* words, not the
/// parts of recording-rule names (`job_route:moneta_http_requests:rate5m`).
std::set<std::string> metric_names_in(const std::string& text);

/// @p text with every `for: <duration>` replaced by `for: <duration>` @p replacement: how the
/// integration test runs the shipped rules without waiting their real durations.
std::string with_for(const std::string& text, const std::string& replacement);

struct RunResult {
    int status = -1;  ///< -1: did not finish in time
    std::string output;
};
/// Runs @p argv with @p env added; stdout+stderr to @p log.
RunResult run(std::vector<std::string> argv, const Env& env, const std::filesystem::path& log,
              std::chrono::seconds timeout = std::chrono::seconds(60));
/// `bash -c "set -euo pipefail; source scripts/lib.sh; source scripts/stack.sh; <script>"`
/// with ROOT = the source tree.
RunResult run_stack_sh(const std::string& script, const Env& env, const std::filesystem::path& log);

}  // namespace moneta::prometheus_test
