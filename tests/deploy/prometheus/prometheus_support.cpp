#include "prometheus_support.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"

namespace moneta::prometheus_test {

std::vector<std::filesystem::path> shipped_rule_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(testing::source_dir() / "deploy/prometheus/rules")) {
        if (entry.path().extension() == ".yml") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

namespace {

std::string trimmed(const std::string& line) {
    const auto first = line.find_first_not_of(' ');
    return first == std::string::npos ? std::string() : line.substr(first);
}

}  // namespace

std::vector<AlertBlock> alert_blocks(const std::string& text) {
    std::vector<AlertBlock> blocks;
    std::istringstream in(text);
    std::string line;
    bool in_alert = false;
    while (std::getline(in, line)) {
        const std::string t = trimmed(line);
        if (t.rfind("- alert:", 0) == 0) {
            blocks.push_back({trimmed(t.substr(8)), {}});
            in_alert = true;
        } else if (t.rfind("- record:", 0) == 0 || t.rfind("- name:", 0) == 0) {
            in_alert = false;
        }
        if (in_alert) {
            blocks.back().text += line + "\n";
        }
    }
    return blocks;
}

TestCoverage test_coverage(const std::string& text) {
    TestCoverage c;
    std::istringstream in(text);
    std::string line;
    std::string alert;
    bool awaiting_list = false;  // saw "exp_alerts:" with nothing after it
    while (std::getline(in, line)) {
        const std::string t = trimmed(line);
        if (t.rfind("alertname:", 0) == 0) {
            alert = trimmed(t.substr(10));
            awaiting_list = false;
        } else if (t == "exp_alerts: []") {
            c.not_firing.insert(alert);
        } else if (t == "exp_alerts:") {
            awaiting_list = true;
        } else if (awaiting_list && t.rfind("- exp_labels:", 0) == 0) {
            c.firing.insert(alert);
            awaiting_list = false;
        }
    }
    return c;
}

std::set<std::string> metric_names_in(const std::string& text) {
    static const std::regex kName("(^|[^:A-Za-z0-9_])((moneta|redis|nginx|process)_[a-z0-9_]+)(?![:A-Za-z0-9_])");
    std::set<std::string> names;
    for (std::sregex_iterator it(text.begin(), text.end(), kName), end; it != end; ++it) {
        names.insert((*it)[2].str());
    }
    return names;
}

std::string with_for(const std::string& text, const std::string& replacement) {
    static const std::regex kFor("^(\\s+)for: \\S+$", std::regex::multiline);
    return std::regex_replace(text, kFor, "$1for: " + replacement);
}

RunResult run(std::vector<std::string> argv, const Env& env, const std::filesystem::path& log,
              std::chrono::seconds timeout) {
    RunResult result;
    auto proc = testing::Process::spawn(std::move(argv), env, log);
    if (!proc) {
        result.output = "cannot start: " + proc.error().message();
        return result;
    }
    result.status = proc->wait_exit(timeout).value_or(-1);  // the destructor kills a hung one
    result.output = proc->read_log();
    return result;
}

RunResult run_stack_sh(const std::string& script, const Env& env, const std::filesystem::path& log) {
    Env all = env;
    all.emplace_back("ROOT", testing::source_dir().string());
    return run({"bash", "-c",
                "set -euo pipefail; source \"$ROOT/scripts/lib.sh\"; source \"$ROOT/scripts/stack.sh\"; " + script},
               all, log);
}

}  // namespace moneta::prometheus_test
