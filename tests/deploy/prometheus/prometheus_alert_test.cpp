// The shipped Prometheus config and rules in a real Prometheus + Alertmanager (Debian's), scraping
// the real stack (moneta, redis-server, internal_api, nginx as moneta::testing::Stack starts them)
// through the stack exporter and its http_sd endpoint. A breaker forced open on moneta's admin port
// must go pending, then firing in Prometheus, arrive at Alertmanager, and resolve when closed.
//
// How the test stays fast without changing the rules: the config and the registrations are
// rendered by stack.sh's own functions (write_registrations, render_prometheus_conf) with 1 s
// scrape, evaluation and SD refresh intervals, and the rule files are the shipped ones with each
// `for: <duration>` rewritten to `for: 3s` (with_for) — nothing else in them is touched.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <optional>

#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/stack.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"
#include "../grafana/dashboard_support.hpp"
#include "prometheus_support.hpp"

namespace moneta::prometheus_test {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kFor = "3s";
constexpr const char* kBreaker = "internal_api.account";

/// GET @p target on 127.0.0.1:@p port as JSON; null on any failure.
bj::value get_json(std::uint16_t port, std::string_view target) {
    const auto reply = testing::http_call(port, "GET", target);
    if (!reply.ok() || reply.status != 200) {
        return nullptr;
    }
    boost::system::error_code ec;
    bj::value v = bj::parse(reply.body, ec);
    return ec ? bj::value(nullptr) : v;
}

std::string label(const bj::object& labels, std::string_view name) {
    const bj::value* v = labels.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

class PrometheusAlertTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        env_ = new Environment();
        if (auto ok = env_->start(); !ok) {
            setup_failure_ = new std::string(ok.message());
        }
    }
    static void TearDownTestSuite() {
        delete env_;
        env_ = nullptr;
        delete setup_failure_;
        setup_failure_ = nullptr;
    }
    void SetUp() override {
        ASSERT_EQ(setup_failure_, nullptr) << *setup_failure_;
    }

    /// moneta registers itself with the exporter's Consul agent endpoints, as in ./dev up
    /// (docs/consul.md); the exporter starts after it, so moneta backs off (capped at 500 ms).
    static testing::StackOptions stack_options(std::uint16_t exporter_port) {
        testing::StackOptions o;
        o.moneta_env = {{"CONSUL_HTTP_ADDR", "127.0.0.1:" + std::to_string(exporter_port)},
                        {"MONETA_CONSUL_BACKOFF_MAX_MS", "500"}};
        return o;
    }

    struct Environment {
        std::uint16_t exporter_port = testing::free_port();
        testing::Stack stack{stack_options(exporter_port)};
        testing::TempDir dev{"prom-alert-"};
        std::uint16_t prometheus_port = testing::free_port();
        std::uint16_t alertmanager_port = testing::free_port();
        std::optional<testing::Process> exporter;
        std::optional<testing::Process> alertmanager;
        std::optional<testing::Process> prometheus;

        ~Environment() {
            // By PID, Prometheus first (as ./dev down), then the rest; the Stack stops itself.
            for (auto* p : {&prometheus, &alertmanager, &exporter}) {
                if (*p) {
                    (*p)->stop(10s);
                }
            }
        }

        ::testing::AssertionResult start() {
            if (auto ok = stack.start(); !ok) {
                return ok;
            }
            // The dev layout stack.sh expects: secrets/ (0700) with the internal API's token.
            const fs::path secrets = dev.path() / "secrets";
            fs::create_directories(secrets);
            ::chmod(secrets.c_str(), 0700);
            {
                std::ofstream token(secrets / "internal_api_token");
                token << stack.internal_api_token() << "\n";
            }
            ::chmod((secrets / "internal_api_token").c_str(), 0600);
            // The shipped rules, `for:` shortened.
            const fs::path rules = dev.path() / "rules";
            fs::create_directories(rules);
            for (const auto& f : shipped_rule_files()) {
                std::ofstream out(rules / f.filename());
                out << with_for(testing::read_file(f), kFor);
            }
            const auto rendered = run_stack_sh(
                "mkdir -p \"$RUN_DIR\"; write_registrations; render_prometheus_conf",
                {{"MONETA_DEV_DIR", dev.path().string()},
                 {"MONETA_PORT", std::to_string(stack.moneta_port())},
                 {"MONETA_ADMIN_PORT", std::to_string(stack.admin_port())},
                 {"INTERNAL_API_PORT", std::to_string(stack.internal_api_port())},
                 {"MONETA_REDIS_PORT", std::to_string(stack.redis().port())},
                 {"MONETA_EDGE_PORT", std::to_string(stack.edge_port())},
                 {"MONETA_EXPORTER_PORT", std::to_string(exporter_port)},
                 {"MONETA_PROMETHEUS_PORT", std::to_string(prometheus_port)},
                 {"MONETA_ALERTMANAGER_PORT", std::to_string(alertmanager_port)},
                 {"MONETA_PROMETHEUS_SCRAPE_INTERVAL", "1s"},
                 {"MONETA_PROMETHEUS_EVAL_INTERVAL", "1s"},
                 {"MONETA_PROMETHEUS_SD_REFRESH", "1s"},
                 {"MONETA_PROMETHEUS_RULES_DIR", rules.string()}},
                dev.file("render.log"));
            if (rendered.status != 0) {
                return ::testing::AssertionFailure() << "render: " << rendered.output;
            }
            // The same flags as stack.sh start_exporter.
            auto e = testing::Process::spawn(
                {(testing::binary_dir() / "tools/stack_exporter/stack_exporter").string(), "--port",
                 std::to_string(exporter_port), "--redis-port", std::to_string(stack.redis().port()),
                 "--nginx-status-port", std::to_string(stack.edge_status_port()), "--registrations",
                 (dev.path() / "run/consul_services.json").string(), "--consul-agent"},
                {{"MONETA_REDIS_PASSWORD", stack.redis_password()}}, dev.file("stack_exporter.log"));
            if (!e) {
                return ::testing::AssertionFailure() << "stack_exporter: " << e.error().message();
            }
            exporter.emplace(std::move(*e));
            auto a = testing::Process::spawn(
                {"prometheus-alertmanager",
                 "--config.file=" + (testing::source_dir() / "deploy/prometheus/alertmanager.yml").string(),
                 "--storage.path=" + (dev.path() / "alertmanager").string(), "--cluster.listen-address=",
                 "--web.listen-address=127.0.0.1:" + std::to_string(alertmanager_port)},
                {}, dev.file("alertmanager.log"));
            if (!a) {
                return ::testing::AssertionFailure() << "alertmanager: " << a.error().message();
            }
            alertmanager.emplace(std::move(*a));
            auto p = testing::Process::spawn(
                {"prometheus", "--config.file=" + (dev.path() / "run/prometheus/prometheus.yml").string(),
                 "--storage.tsdb.path=" + (dev.path() / "prometheus").string(),
                 "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port),
                 "--enable-feature=exemplar-storage"},
                {}, dev.file("prometheus.log"));
            if (!p) {
                return ::testing::AssertionFailure() << "prometheus: " << p.error().message();
            }
            prometheus.emplace(std::move(*p));
            for (const auto port : {exporter_port, alertmanager_port, prometheus_port}) {
                const std::string path = port == exporter_port ? "/sd" : "/-/ready";
                auto ready = testing::wait_until(
                    [&] { return testing::http_call(port, "GET", path).status == 200; }, 60s,
                    "127.0.0.1:" + std::to_string(port) + path);
                if (!ready) {
                    return ready << "\n" << logs();
                }
            }
            return ::testing::AssertionSuccess();
        }

        std::string logs() const {
            std::string out;
            for (const char* name : {"stack_exporter.log", "alertmanager.log", "prometheus.log"}) {
                out += std::string("--- ") + name + " ---\n" + testing::read_file(dev.file(name)).substr(0, 4000);
            }
            return out;
        }
    };

    static bj::array prometheus_alerts() {
        const bj::value v = get_json(env_->prometheus_port, "/api/v1/alerts");
        if (!v.is_object()) {
            return {};
        }
        const bj::value* data = v.as_object().if_contains("data");
        const bj::value* alerts = data != nullptr && data->is_object() ? data->as_object().if_contains("alerts") : nullptr;
        return alerts != nullptr && alerts->is_array() ? alerts->as_array() : bj::array{};
    }

    /// State ("pending", "firing") of MonetaCircuitBreakerOpen for kBreaker, "" when absent.
    static std::string breaker_alert_state() {
        for (const bj::value& a : prometheus_alerts()) {
            const bj::object& labels = a.at("labels").as_object();
            if (label(labels, "alertname") == "MonetaCircuitBreakerOpen" && label(labels, "breaker") == kBreaker) {
                return std::string(a.at("state").as_string());
            }
        }
        return {};
    }

    static Environment* env_;
    static std::string* setup_failure_;
};

PrometheusAlertTest::Environment* PrometheusAlertTest::env_ = nullptr;
std::string* PrometheusAlertTest::setup_failure_ = nullptr;

TEST_F(PrometheusAlertTest, EveryRegisteredServiceIsDiscoveredAndUp) {
    const std::set<std::string> jobs = {"moneta",         "internal_api", "nginx",       "redis",
                                        "stack_exporter", "prometheus",   "alertmanager"};
    std::string last;
    const auto all_up = testing::wait_until(
        [&] {
            const bj::value v = get_json(env_->prometheus_port, "/api/v1/targets?state=active");
            if (!v.is_object()) {
                return false;
            }
            last = bj::serialize(v);
            std::set<std::string> up;
            for (const bj::value& t : v.at("data").at("activeTargets").as_array()) {
                if (t.at("health") == "up") {
                    up.insert(label(t.at("labels").as_object(), "job"));
                }
            }
            return up == jobs;
        },
        60s, "every job up");
    ASSERT_TRUE(all_up) << last.substr(0, 6000) << "\n" << env_->logs();
    // instance is the service's own address; the metrics come from where Meta says.
    const bj::value v = get_json(env_->prometheus_port, "/api/v1/targets?state=active");
    for (const bj::value& t : v.at("data").at("activeTargets").as_array()) {
        const bj::object& labels = t.at("labels").as_object();
        const std::string url(t.at("scrapeUrl").as_string());
        if (label(labels, "job") == "moneta") {
            EXPECT_EQ(label(labels, "instance"), "127.0.0.1:" + std::to_string(env_->stack.moneta_port()));
            EXPECT_EQ(url, "http://127.0.0.1:" + std::to_string(env_->stack.admin_port()) + "/metrics");
        } else if (label(labels, "job") == "redis") {
            EXPECT_EQ(label(labels, "instance"), "127.0.0.1:" + std::to_string(env_->stack.redis().port()));
            EXPECT_EQ(url, "http://127.0.0.1:" + std::to_string(env_->exporter_port) + "/metrics/redis");
        } else if (label(labels, "job") == "internal_api") {
            EXPECT_EQ(url, "http://127.0.0.1:" + std::to_string(env_->stack.internal_api_port()) + "/internal/metrics");
        }
    }
}

// "Use only metric names moneta really exports": every name the rules use is in Prometheus.
TEST_F(PrometheusAlertTest, EveryMetricTheRulesUseIsScraped) {
    std::set<std::string> wanted;
    for (const auto& f : shipped_rule_files()) {
        const auto names = metric_names_in(testing::read_file(f));
        wanted.insert(names.begin(), names.end());
    }
    ASSERT_GE(wanted.size(), 20U);
    std::set<std::string> missing;
    const auto found = testing::wait_until(
        [&] {
            const bj::value v = get_json(env_->prometheus_port, "/api/v1/label/__name__/values");
            if (!v.is_object()) {
                return false;
            }
            std::set<std::string> names;
            for (const bj::value& n : v.at("data").as_array()) {
                names.insert(std::string(n.as_string()));
            }
            missing.clear();
            for (const auto& w : wanted) {
                // A histogram family named in a description is there as its _bucket series.
                if (!names.contains(w) && !names.contains(w + "_bucket")) {
                    missing.insert(w);
                }
            }
            return missing.empty();
        },
        60s, "every rule metric scraped");
    std::string list;
    for (const auto& m : missing) {
        list += m + " ";
    }
    EXPECT_TRUE(found) << "not exported by anything scraped: " << list;
}

TEST_F(PrometheusAlertTest, EveryRuleEvaluatesAndNoAlertFiresOnAHealthyStack) {
    std::string last;
    const auto evaluated = testing::wait_until(
        [&] {
            const bj::value v = get_json(env_->prometheus_port, "/api/v1/rules");
            if (!v.is_object()) {
                return false;
            }
            last = bj::serialize(v);
            std::size_t ok = 0;
            std::size_t total = 0;
            for (const bj::value& g : v.at("data").at("groups").as_array()) {
                for (const bj::value& r : g.at("rules").as_array()) {
                    ++total;
                    ok += r.at("health") == "ok" ? 1 : 0;
                }
            }
            return total >= 25 && ok == total;
        },
        60s, "every rule evaluated with health ok");
    ASSERT_TRUE(evaluated) << last.substr(0, 6000);
    for (const bj::value& a : prometheus_alerts()) {
        EXPECT_NE(a.at("state"), "firing") << bj::serialize(a);
    }
}

TEST_F(PrometheusAlertTest, ForcedOpenBreakerGoesPendingThenFiringReachesAlertmanagerAndResolves) {
    ASSERT_EQ(breaker_alert_state(), "");
    const auto put = env_->stack.call_admin("PUT", std::string("/admin/breakers/") + kBreaker, R"({"mode":"forced_open"})");
    ASSERT_EQ(put.status, 200) << put.body;

    // Pending first (the rule's `for`, 3 s here), then firing.
    ASSERT_TRUE(testing::wait_until([] { return breaker_alert_state() == "pending"; }, 30s, "alert pending"))
        << "state now: " << breaker_alert_state() << "\n" << env_->logs();
    ASSERT_TRUE(testing::wait_until([] { return breaker_alert_state() == "firing"; }, 30s, "alert firing"));
    for (const bj::value& a : prometheus_alerts()) {
        const bj::object& labels = a.at("labels").as_object();
        if (label(labels, "alertname") != "MonetaCircuitBreakerOpen") {
            continue;
        }
        EXPECT_EQ(label(labels, "breaker"), kBreaker);
        EXPECT_EQ(label(labels, "job"), "moneta");
        EXPECT_EQ(label(labels, "severity"), "warning");
        EXPECT_EQ(label(a.at("annotations").as_object(), "runbook"), "docs/observability.md#monetacircuitbreakeropen");
    }

    // Prometheus sends it to Alertmanager, which holds it as active.
    std::string am;
    ASSERT_TRUE(testing::wait_until(
        [&] {
            const bj::value v = get_json(env_->alertmanager_port, "/api/v2/alerts");
            if (!v.is_array()) {
                return false;
            }
            am = bj::serialize(v);
            for (const bj::value& a : v.as_array()) {
                const bj::object& labels = a.at("labels").as_object();
                if (label(labels, "alertname") == "MonetaCircuitBreakerOpen" && label(labels, "breaker") == kBreaker &&
                    a.at("status").at("state") == "active") {
                    return true;
                }
            }
            return false;
        },
        30s, "the alert active in Alertmanager"))
        << am << "\n" << env_->logs();

    // Closed again: the alert leaves Prometheus, and Alertmanager gets it resolved.
    const auto normal = env_->stack.call_admin("PUT", std::string("/admin/breakers/") + kBreaker, R"({"mode":"normal"})");
    ASSERT_EQ(normal.status, 200) << normal.body;
    EXPECT_TRUE(testing::wait_until([] { return breaker_alert_state().empty(); }, 30s, "alert gone from Prometheus"));
    EXPECT_TRUE(testing::wait_until(
        [&] {
            const bj::value v = get_json(env_->alertmanager_port, "/api/v2/alerts");
            if (!v.is_array()) {
                return false;
            }
            am = bj::serialize(v);
            for (const bj::value& a : v.as_array()) {
                if (label(a.at("labels").as_object(), "breaker") == kBreaker) {
                    return false;
                }
            }
            return true;
        },
        30s, "the alert resolved in Alertmanager"))
        << am;
}

// docs/operations.md is the operator's list of every metric: each family a live moneta exposes
// (after a few requests, so nothing is registered lazily out of sight) must be named there.
TEST_F(PrometheusAlertTest, EveryExportedMetricIsInTheOperatorsPage) {
    ASSERT_EQ(testing::http_call(env_->stack.moneta_port(), "GET", "/healthz").status, 200);
    const auto scrape = testing::http_call(env_->stack.admin_port(), "GET", "/metrics");
    ASSERT_EQ(scrape.status, 200);
    const std::string page = testing::read_file(testing::source_dir() / "docs/operations.md");
    std::size_t families = 0;
    std::string missing;
    std::size_t pos = 0;
    while ((pos = scrape.body.find("# TYPE ", pos)) != std::string::npos) {
        pos += 7;
        const std::string name = scrape.body.substr(pos, scrape.body.find(' ', pos) - pos);
        ++families;
        if (page.find("`" + name + "`") == std::string::npos) {
            missing += name + " ";
        }
    }
    EXPECT_GE(families, 100U);
    EXPECT_EQ(missing, "") << "exported by moneta but not in docs/operations.md";
}

// OpenMetrics negotiated with the real Prometheus (2.42 asks for it first in its Accept header)
// and exemplars stored (--enable-feature=exemplar-storage, as stack.sh starts it): a sampled
// request's trace id, which moneta logged as the access line's trace.id, comes back from
// /api/v1/query_exemplars on moneta_http_request_duration_seconds.
TEST_F(PrometheusAlertTest, ASampledRequestsTraceIdArrivesAsAnExemplar) {
    // What moneta answers a scraper that asks for OpenMetrics.
    const auto om = testing::http_call(env_->stack.admin_port(), "GET", "/metrics", {},
                                       {{"Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"}});
    ASSERT_EQ(om.status, 200);
    EXPECT_EQ(om.header("Content-Type").value_or(""), "application/openmetrics-text; version=1.0.0; charset=utf-8");
    EXPECT_TRUE(om.body.ends_with("# EOF\n"));
    const auto text = testing::http_call(env_->stack.admin_port(), "GET", "/metrics");
    EXPECT_EQ(text.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(text.body.find("# EOF"), std::string::npos);
    // promtool's linter on the classic output (the histograms, units and names it checks).
    {
        std::ofstream(env_->dev.file("moneta_metrics.txt")) << text.body;
        const auto lint = run({"bash", "-c", "promtool check metrics < \"$0\"", env_->dev.file("moneta_metrics.txt").string()},
                              {}, env_->dev.file("promtool_metrics.log"));
        EXPECT_EQ(lint.status, 0) << lint.output;
    }

    // Sampled requests (flag 01) on the API port, each with its own trace id.
    std::vector<std::string> sent;
    for (int i = 0; i < 20; ++i) {
        char trace[33];
        std::snprintf(trace, sizeof trace, "4bf92f3577b34da6a3ce929d%08x", 0xe0000000U + static_cast<unsigned>(i));
        sent.emplace_back(trace);
        const auto r = testing::http_call(env_->stack.moneta_port(), "GET", "/healthz", {},
                                          {{"traceparent", "00-" + sent.back() + "-00f067aa0ba902b7-01"}});
        ASSERT_EQ(r.status, 200);
    }
    // The exemplar Prometheus stored carries one of them...
    std::string found;
    std::string last;
    const auto arrived = testing::wait_until(
        [&] {
            const bj::value v = get_json(env_->prometheus_port,
                                         "/api/v1/query_exemplars?query=moneta_http_request_duration_seconds_bucket"
                                         "%7Broute%3D%22health%22%7D&start=0&end=99999999999");
            if (!v.is_object()) {
                return false;
            }
            last = bj::serialize(v);
            for (const bj::value& series : v.at("data").as_array()) {
                for (const bj::value& e : series.at("exemplars").as_array()) {
                    const std::string id = label(e.at("labels").as_object(), "trace_id");
                    if (std::find(sent.begin(), sent.end(), id) != sent.end()) {
                        found = id;
                        return true;
                    }
                }
            }
            return false;
        },
        30s, "an exemplar with a sent trace id");
    ASSERT_TRUE(arrived) << last.substr(0, 4000) << "\n" << env_->logs();
    // ...and it is a trace id moneta logged for that request (its access line's trace.id).
    EXPECT_TRUE(testing::wait_until(
        [&] { return env_->stack.moneta_log().find("\"trace.id\":\"" + found + "\"") != std::string::npos; }, 10s,
        "the trace id in moneta's log"));
}

// The shipped Grafana dashboard against this Prometheus: each query, with the variables filled in
// as a viewer of the stack would have them, parses and evaluates, and names only metrics that
// something scraped exports (structure: tests/deploy/grafana).
TEST_F(PrometheusAlertTest, EveryDashboardQueryRunsOnScrapedMetrics) {
    const auto queries = grafana_test::dashboard_queries(grafana_test::load_dashboard());
    ASSERT_GE(queries.size(), 30U);
    std::set<std::string> wanted;
    for (const auto& q : queries) {
        const auto names = metric_names_in(q.expr);
        wanted.insert(names.begin(), names.end());
    }
    std::set<std::string> missing;
    const auto found = testing::wait_until(
        [&] {
            const bj::value v = get_json(env_->prometheus_port, "/api/v1/label/__name__/values");
            if (!v.is_object()) {
                return false;
            }
            std::set<std::string> names;
            for (const bj::value& n : v.at("data").as_array()) {
                names.insert(std::string(n.as_string()));
            }
            missing.clear();
            for (const auto& w : wanted) {
                if (!names.contains(w)) {
                    missing.insert(w);
                }
            }
            return missing.empty();
        },
        60s, "every dashboard metric scraped");
    std::string list;
    for (const auto& m : missing) {
        list += m + " ";
    }
    EXPECT_TRUE(found) << "the dashboard names metrics nothing exports: " << list;
    for (const auto& q : queries) {
        const std::string query = grafana_test::as_prometheus_query(q.expr);
        std::string encoded;
        for (const unsigned char c : query) {
            if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
                encoded += static_cast<char>(c);
            } else {
                static constexpr char kHex[] = "0123456789ABCDEF";
                encoded += '%';
                encoded += kHex[c >> 4];
                encoded += kHex[c & 15];
            }
        }
        const auto reply = testing::http_call(env_->prometheus_port, "GET", "/api/v1/query?query=" + encoded);
        EXPECT_EQ(reply.status, 200) << q.panel << " " << q.ref_id << ": " << query << "\n" << reply.body;
        EXPECT_NE(reply.body.find("\"status\":\"success\""), std::string::npos) << q.panel << ": " << reply.body;
    }
}

}  // namespace
}  // namespace moneta::prometheus_test
