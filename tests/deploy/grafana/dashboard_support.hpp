// The shipped Grafana dashboard (deploy/grafana/moneta.json) read for the tests: its panels'
// queries, and those queries with the dashboard's variables filled in as Grafana would.
#pragma once

#include <boost/json/value.hpp>

#include <set>
#include <string>
#include <vector>

namespace moneta::grafana_test {

struct DashboardQuery {
    std::string panel;   ///< the panel's title
    std::string ref_id;  ///< the target's refId
    std::string expr;    ///< PromQL, variables unexpanded
    std::string legend;  ///< legendFormat
};

/// deploy/grafana/moneta.json parsed; a null value when it is not valid JSON.
boost::json::value load_dashboard();

/// Every target of every non-row panel, in order.
std::vector<DashboardQuery> dashboard_queries(const boost::json::value& dashboard);

/// @p expr with the variables Grafana fills in replaced the way a viewer of the shipped stack
/// would see them: `$job` = moneta, `$instance` = all (`.*`), `$__rate_interval` = 1m.
std::string as_prometheus_query(const std::string& expr);

/// `$name` / `${name}` references in @p text.
std::set<std::string> variables_in(const std::string& text);

/// Recording-rule names (`level:metric:operation`) in @p text.
std::set<std::string> recorded_names_in(const std::string& text);

/// Label names of the outermost `by (...)` clauses in @p expr (empty when it aggregates none).
std::set<std::string> grouping_labels_in(const std::string& expr);

}  // namespace moneta::grafana_test
