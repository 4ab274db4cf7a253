#include "dashboard_support.hpp"

#include <boost/json/parse.hpp>

#include <regex>

#include "moneta/testing/paths.hpp"

namespace moneta::grafana_test {

namespace bj = boost::json;

bj::value load_dashboard() {
    const std::string text = testing::read_file(testing::source_dir() / "deploy/grafana/moneta.json");
    boost::system::error_code ec;
    bj::value v = bj::parse(text, ec);
    return ec ? bj::value(nullptr) : v;
}

namespace {

std::string string_field(const bj::object& o, std::string_view key) {
    const bj::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::vector<DashboardQuery> dashboard_queries(const bj::value& dashboard) {
    std::vector<DashboardQuery> out;
    if (!dashboard.is_object()) {
        return out;
    }
    const bj::value* panels = dashboard.as_object().if_contains("panels");
    if (panels == nullptr || !panels->is_array()) {
        return out;
    }
    for (const bj::value& p : panels->as_array()) {
        if (!p.is_object() || string_field(p.as_object(), "type") == "row") {
            continue;
        }
        const bj::value* targets = p.as_object().if_contains("targets");
        if (targets == nullptr || !targets->is_array()) {
            continue;
        }
        for (const bj::value& t : targets->as_array()) {
            if (!t.is_object()) {
                continue;
            }
            out.push_back({string_field(p.as_object(), "title"), string_field(t.as_object(), "refId"),
                           string_field(t.as_object(), "expr"), string_field(t.as_object(), "legendFormat")});
        }
    }
    return out;
}

std::string as_prometheus_query(const std::string& expr) {
    std::string q = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "1m");
    q = std::regex_replace(q, std::regex(R"(\$\{?job\}?)"), "moneta");
    return std::regex_replace(q, std::regex(R"(\$\{?instance\}?)"), ".*");
}

std::set<std::string> variables_in(const std::string& text) {
    static const std::regex kVar(R"(\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?)");
    std::set<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), kVar), end; it != end; ++it) {
        out.insert((*it)[1].str());
    }
    return out;
}

std::set<std::string> recorded_names_in(const std::string& text) {
    static const std::regex kRecorded(R"(([a-z_]+:[a-z0-9_]+:[a-z0-9_]+))");
    std::set<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), kRecorded), end; it != end; ++it) {
        out.insert((*it)[1].str());
    }
    return out;
}

std::set<std::string> grouping_labels_in(const std::string& expr) {
    static const std::regex kBy(R"(\bby \(([^)]*)\))");
    std::set<std::string> out;
    std::smatch m;
    // The first `by` is the outermost aggregation of these expressions (`sum by (...) (...)`,
    // or histogram_quantile over one); a ratio's two sides group alike.
    if (std::regex_search(expr, m, kBy)) {
        static const std::regex kName(R"([A-Za-z_][A-Za-z0-9_]*)");
        const std::string list = m[1].str();
        for (std::sregex_iterator it(list.begin(), list.end(), kName), end; it != end; ++it) {
            out.insert(it->str());
        }
    }
    return out;
}

}  // namespace moneta::grafana_test
