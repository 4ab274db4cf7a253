// deploy/grafana/moneta.json checked for what Grafana needs to import it and show every panel:
// the dashboard model's required fields, unique panel ids, a 24-column grid without overlaps,
// every query on the templated Prometheus data source with only defined variables, legends
// naming labels the query keeps, and recording rules that the shipped rule files define.
// That each query runs in a real Prometheus on metrics the stack really exports is
// prometheus_alert_test's EveryDashboardQueryRunsOnScrapedMetrics.
#include <gtest/gtest.h>

#include <boost/json/value.hpp>

#include <regex>

#include "../prometheus/prometheus_support.hpp"
#include "dashboard_support.hpp"
#include "moneta/testing/paths.hpp"

namespace moneta::grafana_test {
namespace {

namespace bj = boost::json;

const bj::object& object_at(const bj::value& v, std::string_view key) {
    static const bj::object kEmpty;
    const bj::value* f = v.is_object() ? v.as_object().if_contains(key) : nullptr;
    return f != nullptr && f->is_object() ? f->as_object() : kEmpty;
}

std::int64_t int_at(const bj::object& o, std::string_view key) {
    const bj::value* f = o.if_contains(key);
    return f != nullptr && f->is_int64() ? f->as_int64() : -1;
}

class GrafanaDashboardTest : public ::testing::Test {
protected:
    void SetUp() override {
        dashboard_ = load_dashboard();
        ASSERT_TRUE(dashboard_.is_object()) << "deploy/grafana/moneta.json is not a JSON object";
        const bj::value* p = dashboard_.as_object().if_contains("panels");
        ASSERT_TRUE(p != nullptr && p->is_array());
        panels_ = &p->as_array();
    }
    bj::value dashboard_;
    const bj::array* panels_ = nullptr;
};

TEST_F(GrafanaDashboardTest, HasTheFieldsGrafanaImportsBy) {
    const bj::object& d = dashboard_.as_object();
    for (const char* key : {"uid", "title"}) {
        ASSERT_TRUE(d.contains(key) && d.at(key).is_string() && !d.at(key).as_string().empty()) << key;
    }
    EXPECT_LE(d.at("uid").as_string().size(), 40U);  // Grafana's uid limit
    ASSERT_TRUE(d.contains("schemaVersion") && d.at("schemaVersion").is_int64());
    EXPECT_GE(d.at("schemaVersion").as_int64(), 36);  // datasource refs as {type, uid}
    EXPECT_GE(panels_->size(), 20U);
}

TEST_F(GrafanaDashboardTest, PanelIdsAreUniqueAndTheGridHasNoOverlap) {
    std::set<std::int64_t> ids;
    struct Box {
        std::int64_t x, y, w, h;
        std::string title;
    };
    std::vector<Box> boxes;
    for (const bj::value& p : *panels_) {
        ASSERT_TRUE(p.is_object());
        const std::int64_t id = int_at(p.as_object(), "id");
        EXPECT_GT(id, 0);
        EXPECT_TRUE(ids.insert(id).second) << "duplicate panel id " << id;
        const bj::object& g = object_at(p, "gridPos");
        const Box b{int_at(g, "x"), int_at(g, "y"), int_at(g, "w"), int_at(g, "h"),
                    std::string(p.at("title").as_string())};
        EXPECT_GE(b.x, 0) << b.title;
        EXPECT_GE(b.y, 0) << b.title;
        EXPECT_GT(b.w, 0) << b.title;
        EXPECT_GT(b.h, 0) << b.title;
        EXPECT_LE(b.x + b.w, 24) << b.title << ": wider than Grafana's 24 columns";
        for (const Box& o : boxes) {
            const bool apart = b.x + b.w <= o.x || o.x + o.w <= b.x || b.y + b.h <= o.y || o.y + o.h <= b.y;
            EXPECT_TRUE(apart) << "'" << b.title << "' overlaps '" << o.title << "'";
        }
        boxes.push_back(b);
    }
}

TEST_F(GrafanaDashboardTest, EveryPanelQueriesTheTemplatedPrometheus) {
    std::set<std::string> defined = {"__rate_interval", "__interval", "__range"};
    const bj::value* list = object_at(dashboard_, "templating").if_contains("list");
    ASSERT_TRUE(list != nullptr && list->is_array());
    for (const bj::value& v : list->as_array()) {
        defined.insert(std::string(v.at("name").as_string()));
    }
    ASSERT_TRUE(defined.contains("datasource"));
    for (const bj::value& p : *panels_) {
        if (p.at("type") == "row") {
            continue;
        }
        const std::string title(p.at("title").as_string());
        const bj::object& ds = object_at(p, "datasource");
        EXPECT_EQ(ds.contains("type") ? ds.at("type") : bj::value(), "prometheus") << title;
        EXPECT_EQ(ds.contains("uid") ? ds.at("uid") : bj::value(), "${datasource}") << title;
        const bj::value* targets = p.as_object().if_contains("targets");
        ASSERT_TRUE(targets != nullptr && targets->is_array() && !targets->as_array().empty()) << title;
        std::set<std::string> ref_ids;
        for (const bj::value& t : targets->as_array()) {
            EXPECT_TRUE(ref_ids.insert(std::string(t.at("refId").as_string())).second) << title << ": refId twice";
        }
    }
    std::size_t n = 0;
    for (const auto& q : dashboard_queries(dashboard_)) {
        ++n;
        EXPECT_FALSE(q.expr.empty()) << q.panel;
        for (const auto& v : variables_in(q.expr)) {
            EXPECT_TRUE(defined.contains(v)) << q.panel << ": $" << v << " is not a dashboard variable";
        }
        // A moneta query without the job/instance selector would mix every moneta instance.
        if (q.expr.find("moneta_") != std::string::npos) {
            EXPECT_NE(q.expr.find("instance=~\"$instance\""), std::string::npos) << q.panel << ": " << q.expr;
        }
    }
    EXPECT_GE(n, 30U);
}

TEST_F(GrafanaDashboardTest, LegendsNameLabelsTheQueryKeeps) {
    static const std::regex kAggregation(R"(\b(sum|max|min|avg|count)\b)");
    static const std::regex kLegendLabel(R"(\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\})");
    for (const auto& q : dashboard_queries(dashboard_)) {
        if (!std::regex_search(q.expr, kAggregation)) {
            continue;  // every label of the series is kept
        }
        const auto kept = grouping_labels_in(q.expr);
        for (std::sregex_iterator it(q.legend.begin(), q.legend.end(), kLegendLabel), end; it != end; ++it) {
            EXPECT_TRUE(kept.contains((*it)[1].str()))
                << q.panel << ": legend {{" << (*it)[1].str() << "}} but the query aggregates it away: " << q.expr;
        }
    }
}

TEST_F(GrafanaDashboardTest, RecordedSeriesAreDefinedByTheShippedRules) {
    std::set<std::string> defined;
    static const std::regex kRecord(R"(- record: (\S+))");
    for (const auto& f : prometheus_test::shipped_rule_files()) {
        const std::string text = testing::read_file(f);
        for (std::sregex_iterator it(text.begin(), text.end(), kRecord), end; it != end; ++it) {
            defined.insert((*it)[1].str());
        }
    }
    ASSERT_FALSE(defined.empty());
    std::size_t used = 0;
    for (const auto& q : dashboard_queries(dashboard_)) {
        for (const auto& name : recorded_names_in(q.expr)) {
            ++used;
            EXPECT_TRUE(defined.contains(name)) << q.panel << ": " << name << " is recorded by no shipped rule";
        }
    }
    EXPECT_GE(used, 2U);
}

}  // namespace
}  // namespace moneta::grafana_test
