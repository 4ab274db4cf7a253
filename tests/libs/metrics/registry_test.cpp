#include "moneta/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <regex>
#include <thread>

namespace moneta::metrics {
namespace {

double sample(const std::string& text, const std::string& series) {
    const auto pos = text.find("\n" + series + " ");
    if (pos == std::string::npos) {
        return std::nan("");
    }
    const auto start = pos + series.size() + 2;
    return std::stod(text.substr(start, text.find('\n', start) - start));
}

TEST(RegistryTest, RendersTheTextFormatExactly) {
    Registry r;
    r.counter("moneta_x_total", "Things.", {{"route", "start"}}).inc(3);
    r.gauge("moneta_g", "A gauge.").set(1.5);
    auto& h = r.histogram("moneta_h_seconds", "Latency.", {0.1, 1}, {{"route", "a"}});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(7);
    EXPECT_EQ(r.render_text(),
              "# HELP moneta_g A gauge.\n# TYPE moneta_g gauge\nmoneta_g 1.5\n"
              "# HELP moneta_h_seconds Latency.\n# TYPE moneta_h_seconds histogram\n"
              "moneta_h_seconds_bucket{route=\"a\",le=\"0.1\"} 1\n"
              "moneta_h_seconds_bucket{route=\"a\",le=\"1\"} 2\n"
              "moneta_h_seconds_bucket{route=\"a\",le=\"+Inf\"} 3\n"
              "moneta_h_seconds_sum{route=\"a\"} 7.55\n"
              "moneta_h_seconds_count{route=\"a\"} 3\n"
              "# HELP moneta_x_total Things.\n# TYPE moneta_x_total counter\n"
              "moneta_x_total{route=\"start\"} 3\n");
}

TEST(RegistryTest, SameNameAndLabelsIsTheSameObject) {
    Registry r;
    Counter& a = r.counter("c_total", "h", {{"k", "v"}});
    Counter& b = r.counter("c_total", "h", {{"k", "v"}});
    Counter& c = r.counter("c_total", "h", {{"k", "w"}});
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &c);
}

TEST(RegistryTest, EscapesLabelValuesAndValidatesNames) {
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_TRUE(is_valid_metric_name("moneta_http_requests_total"));
    EXPECT_TRUE(is_valid_metric_name("a:b"));
    EXPECT_FALSE(is_valid_metric_name("1abc"));
    EXPECT_FALSE(is_valid_metric_name("a-b"));
    EXPECT_FALSE(is_valid_metric_name(""));
    Registry r;
    r.counter("e_total", "h", {{"v", "x\"y"}}).inc();
    EXPECT_NE(r.render_text().find("e_total{v=\"x\\\"y\"} 1"), std::string::npos);
}

TEST(RegistryTest, CallbacksAreEvaluatedAtScrapeTime) {
    Registry r;
    double v = 1;
    r.callback_gauge("cb", "h", {}, [&v] { return v; });
    EXPECT_EQ(sample(r.render_text(), "cb"), 1);
    v = 42;
    EXPECT_EQ(sample(r.render_text(), "cb"), 42);
}

TEST(RegistryTest, ConcurrentIncrementsAreExact) {
    Registry r;
    Counter& c = r.counter("hot_total", "h");
    Histogram& h = r.histogram("hot_h", "h", {1});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100000; ++i) {
                c.inc();
                h.observe(0.5);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(c.value(), 400000U);
    EXPECT_EQ(h.bucket(0), 400000U);
}

TEST(ProcessMetricsTest, ArePresentAndTrackReality) {
    Registry r;
    register_process_metrics(r);
    const std::string before = r.render_text();
    for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                             "process_virtual_memory_bytes", "process_virtual_memory_max_bytes",
                             "process_open_fds", "process_max_fds", "process_start_time_seconds",
                             "process_threads"}) {
        EXPECT_NE(before.find(std::string("# TYPE ") + name), std::string::npos) << name;
    }
    int fds[10];
    for (int& fd : fds) {
        fd = ::open("/dev/null", O_RDONLY);
    }
    const std::string after = r.render_text();
    EXPECT_GE(sample(after, "process_open_fds") - sample(before, "process_open_fds"), 10);
    for (int fd : fds) {
        ::close(fd);
    }
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_NEAR(sample(after, "process_start_time_seconds"), now, 120);
    EXPECT_GT(sample(after, "process_resident_memory_bytes"), 1e6);
    EXPECT_GE(sample(after, "process_threads"), 1);
    const auto t0 = std::chrono::steady_clock::now();
    volatile double x = 0;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(300)) {
        x = x + 1;
    }
    EXPECT_GT(sample(r.render_text(), "process_cpu_seconds_total"), sample(before, "process_cpu_seconds_total"));
}

}  // namespace
}  // namespace moneta::metrics
