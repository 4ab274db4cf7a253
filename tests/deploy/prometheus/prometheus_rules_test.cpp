// deploy/prometheus under the real Debian tools (promtool, amtool), and the conventions every
// alert follows: summary, description and a runbook section in docs/observability.md; one
// promtool test file per alert group showing each alert firing and not firing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "prometheus_support.hpp"

namespace moneta::prometheus_test {
namespace {

namespace fs = std::filesystem;

fs::path source(const std::string& rel) { return testing::source_dir() / rel; }

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

TEST(PrometheusRulesTest, PromtoolChecksEveryRuleFile) {
    testing::TempDir dir("promtool-rules-");
    std::vector<std::string> argv = {"promtool", "check", "rules"};
    for (const auto& f : shipped_rule_files()) {
        argv.push_back(f.string());
    }
    ASSERT_GT(argv.size(), 4U);
    const auto r = run(argv, {}, dir.file("out.log"));
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("FAILED"), std::string::npos) << r.output;
}

// One promtool test file per alert file (= per group), next to this test.
class PromtoolUnitTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PromtoolUnitTest, AlertGroupBehavesAsItsTestFileSays) {
    testing::TempDir dir("promtool-test-");
    const fs::path file = source("tests/deploy/prometheus/rules/" + GetParam() + "_test.yml");
    ASSERT_TRUE(fs::exists(file)) << file << ": every alert file needs its promtool test file";
    const auto r = run({"promtool", "test", "rules", file.string()}, {}, dir.file("out.log"));
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("SUCCESS"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(AlertGroups, PromtoolUnitTest,
                         ::testing::Values("recording", "availability", "latency", "saturation", "write_behind",
                                           "resources"));

TEST(PrometheusRulesTest, EveryAlertFileHasATestFileInTheListAbove) {
    const std::set<std::string> tested = {"recording", "availability", "latency", "saturation", "write_behind",
                                          "resources"};
    for (const auto& f : shipped_rule_files()) {
        const std::string stem = f.stem().string();
        EXPECT_TRUE(tested.contains(stem)) << f << " has no promtool test in PromtoolUnitTest";
    }
}

TEST(PrometheusRulesTest, EveryAlertIsShownFiringAndNotFiring) {
    std::set<std::string> alerts;
    TestCoverage all;
    for (const auto& f : shipped_rule_files()) {
        for (const auto& block : alert_blocks(testing::read_file(f))) {
            alerts.insert(block.name);
        }
        const fs::path test_file = source("tests/deploy/prometheus/rules/" + f.stem().string() + "_test.yml");
        if (fs::exists(test_file)) {
            const auto c = test_coverage(testing::read_file(test_file));
            all.firing.insert(c.firing.begin(), c.firing.end());
            all.not_firing.insert(c.not_firing.begin(), c.not_firing.end());
        }
    }
    ASSERT_GE(alerts.size(), 15U);
    for (const auto& a : alerts) {
        EXPECT_TRUE(all.firing.contains(a)) << a << ": no test case where it fires";
        EXPECT_TRUE(all.not_firing.contains(a)) << a << ": no test case where it does not fire";
    }
    for (const auto& a : all.firing) {
        EXPECT_TRUE(alerts.contains(a)) << "a test expects " << a << ", which no rule file defines";
    }
}

TEST(PrometheusRulesTest, EveryAlertHasSummaryDescriptionAndARunbookSection) {
    const std::string doc = testing::read_file(source("docs/observability.md"));
    ASSERT_FALSE(doc.empty());
    for (const auto& f : shipped_rule_files()) {
        for (const auto& block : alert_blocks(testing::read_file(f))) {
            SCOPED_TRACE(block.name);
            EXPECT_NE(block.text.find("\n          summary: \""), std::string::npos) << block.text;
            EXPECT_NE(block.text.find("\n          description: \""), std::string::npos) << block.text;
            EXPECT_NE(block.text.find("\n          severity: "), std::string::npos) << block.text;
            const std::string runbook = "runbook: \"docs/observability.md#" + lower(block.name) + "\"";
            EXPECT_NE(block.text.find(runbook), std::string::npos) << "want " << runbook << "\n" << block.text;
            // The anchor GitHub makes of "### <Name>".
            EXPECT_NE(doc.find("\n### " + block.name + "\n"), std::string::npos)
                << "docs/observability.md has no runbook section ### " << block.name;
        }
    }
}

TEST(PrometheusRulesTest, ForRewriteTouchesOnlyForLines) {
    const std::string text = "  - alert: A\n    expr: up == 0\n    for: 1m\n  - alert: B\n    for: 10m\n"
                             "    annotations:\n      description: \"for: 5m is not a key here\"\n";
    EXPECT_EQ(with_for(text, "2s"), "  - alert: A\n    expr: up == 0\n    for: 2s\n  - alert: B\n    for: 2s\n"
                                    "    annotations:\n      description: \"for: 5m is not a key here\"\n");
}

TEST(PrometheusRulesTest, MetricNamesSkipRecordingRuleParts) {
    EXPECT_EQ(metric_names_in("job_route:moneta_http_5xx:ratio_rate5m > 0.05 and moneta_shed_requests_total"),
              (std::set<std::string>{"moneta_shed_requests_total"}));
    EXPECT_EQ(metric_names_in("sum by (le) (rate(moneta_http_request_duration_seconds_bucket[5m]))"),
              (std::set<std::string>{"moneta_http_request_duration_seconds_bucket"}));
}

// The config ./dev up renders (stack.sh render_prometheus_conf, which runs `promtool check
// config` itself and fails ./dev up when it does not pass).
TEST(PrometheusConfigTest, StackShRendersAConfigPromtoolAccepts) {
    testing::TempDir dev("prom-conf-");
    fs::create_directories(dev.path() / "secrets");
    {
        std::ofstream token(dev.file("secrets/internal_api_token"));
        token << "0123456789abcdef0123456789abcdef\n";
    }
    const auto r = run_stack_sh("mkdir -p \"$RUN_DIR\"; render_prometheus_conf",
                                {{"MONETA_DEV_DIR", dev.path().string()},
                                 {"MONETA_EXPORTER_PORT", "41113"},
                                 {"MONETA_ALERTMANAGER_PORT", "41093"},
                                 {"MONETA_PROMETHEUS_SCRAPE_INTERVAL", "1s"},
                                 {"MONETA_PROMETHEUS_EVAL_INTERVAL", "2s"}},
                                dev.file("render.log"));
    ASSERT_EQ(r.status, 0) << r.output;
    const std::string conf = testing::read_file(dev.path() / "run/prometheus/prometheus.yml");
    // No placeholder left outside comments (the header mentions "@VARS@").
    EXPECT_FALSE(std::regex_search(conf, std::regex("^[^#\n]*@[A-Z_]+@", std::regex::multiline))) << conf;
    EXPECT_NE(conf.find("scrape_interval: 1s"), std::string::npos);
    EXPECT_NE(conf.find("evaluation_interval: 2s"), std::string::npos);
    EXPECT_NE(conf.find("url: \"http://127.0.0.1:41113/sd\""), std::string::npos);
    EXPECT_NE(conf.find("targets: [\"127.0.0.1:41093\"]"), std::string::npos);
    EXPECT_NE(conf.find("credentials_file: \"" + dev.file("secrets/internal_api_token").string() + "\""),
              std::string::npos);
    EXPECT_NE(conf.find("\"" + source("deploy/prometheus/rules").string() + "/*.yml\""), std::string::npos);
    // The token is referenced, never copied in.
    EXPECT_EQ(conf.find("0123456789abcdef0123456789abcdef"), std::string::npos);
    const auto again = run({"promtool", "check", "config", dev.file("run/prometheus/prometheus.yml")}, {},
                           dev.file("check.log"));
    EXPECT_EQ(again.status, 0) << again.output;
    EXPECT_NE(again.output.find("SUCCESS: 6 rule files found"), std::string::npos) << again.output;
}

TEST(PrometheusConfigTest, ABrokenTemplateFailsTheRender) {
    testing::TempDir dev("prom-conf-bad-");
    fs::create_directories(dev.path() / "secrets");
    {
        std::ofstream token(dev.file("secrets/internal_api_token"));
        token << "0123456789abcdef0123456789abcdef\n";
    }
    // An interval Prometheus refuses: promtool's verdict stops ./dev up with its message.
    const auto r = run_stack_sh("mkdir -p \"$RUN_DIR\"; render_prometheus_conf",
                                {{"MONETA_DEV_DIR", dev.path().string()},
                                 {"MONETA_PROMETHEUS_SCRAPE_INTERVAL", "soon"}},
                                dev.file("render.log"));
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("promtool check config failed"), std::string::npos) << r.output;
}

TEST(AlertmanagerConfigTest, AmtoolAcceptsTheShippedConfig) {
    testing::TempDir dir("amtool-");
    const auto r = run({"amtool", "check-config", source("deploy/prometheus/alertmanager.yml").string()}, {},
                       dir.file("out.log"));
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("SUCCESS"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace moneta::prometheus_test
