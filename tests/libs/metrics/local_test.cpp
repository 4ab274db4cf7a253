#include "moneta/metrics/local.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <string>
#include <thread>
#include <vector>

#include "moneta/metrics/registry.hpp"
#include "moneta/metrics/stats_table.hpp"

namespace moneta::metrics {
namespace {

struct DemoStats {
    LocalCounter hits_total;
    LocalCounter misses_total;
    LocalGauge in_flight;
};

inline constexpr Stat<DemoStats> kDemoStats[] = {
    {StatKind::kCounter, "demo_lookups_total", "Lookups.", {"result", "hit"}, MONETA_STAT(hits_total)},
    {StatKind::kCounter, "demo_lookups_total", "Lookups.", {"result", "miss"}, MONETA_STAT(misses_total)},
    {StatKind::kGauge, "demo_in_flight", "In flight.", {}, MONETA_STAT(in_flight)},
};

/// The value of the series line that starts with @p series (name plus labels), or -1.
double value_of(const std::string& text, std::string_view series) {
    std::size_t pos = 0;
    while ((pos = text.find(series, pos)) != std::string::npos) {
        if ((pos == 0 || text[pos - 1] == '\n') && text[pos + series.size()] == ' ') {
            const char* b = text.data() + pos + series.size() + 1;
            double v = 0;
            std::from_chars(b, text.data() + text.size(), v);
            return v;
        }
        pos += series.size();
    }
    return -1;
}

TEST(LocalMetricsTest, CounterAndGaugeBehaveLikeTheAtomicsTheyReplace) {
    LocalCounter c;
    ++c;
    c++;
    c += 3;
    EXPECT_EQ(c.fetch_add(2), 5U);
    EXPECT_EQ(c.load(), 7U);
    EXPECT_EQ(static_cast<std::uint64_t>(c), 7U);
    LocalGauge g;
    ++g;
    ++g;
    --g;
    g -= 5;
    EXPECT_EQ(g.load(), -4);
}

constexpr std::array<double, 2> kBounds{0.1, 1};

TEST(LocalMetricsTest, HistogramBucketsLikeTheRegistryHistogram) {
    LocalHistogram<kBounds> h;
    h.observe(0.05);
    h.observe(0.1);  // upper bounds are inclusive
    h.observe(0.5);
    h.observe(7);
    EXPECT_EQ(h.bucket(0), 2U);
    EXPECT_EQ(h.bucket(1), 1U);
    EXPECT_EQ(h.bucket(2), 1U);
    EXPECT_DOUBLE_EQ(h.sum(), 7.65);
}

TEST(LocalMetricsTest, TableRowsAreSummedOverEveryInstance) {
    Registry r;
    DemoStats a;
    DemoStats b;
    register_stats<DemoStats>(r, kDemoStats, {&a, &b});
    ++a.hits_total;
    b.hits_total += 4;
    ++b.misses_total;
    ++a.in_flight;
    --b.in_flight;
    --b.in_flight;
    EXPECT_EQ(r.render_text(),
              "# HELP demo_in_flight In flight.\n# TYPE demo_in_flight gauge\ndemo_in_flight -1\n"
              "# HELP demo_lookups_total Lookups.\n# TYPE demo_lookups_total counter\n"
              "demo_lookups_total{result=\"hit\"} 5\n"
              "demo_lookups_total{result=\"miss\"} 1\n");
}

TEST(LocalMetricsTest, CallbackHistogramRendersLikeARegistryHistogram) {
    Registry direct;
    auto& h = direct.histogram("moneta_h_seconds", "Latency.", {0.1, 1}, {{"route", "a"}});
    Registry merged;
    LocalHistogram<kBounds> w1;
    LocalHistogram<kBounds> w2;
    for (double v : {0.05, 0.5}) {
        h.observe(v);
        w1.observe(v);
    }
    h.observe(7);
    w2.observe(7);
    merged.callback_histogram("moneta_h_seconds", "Latency.", {0.1, 1}, {{"route", "a"}}, [&](HistogramSnapshot& s) {
        for (const auto* w : {&w1, &w2}) {
            for (std::size_t i = 0; i < 3; ++i) {
                s.buckets[i] += w->bucket(i);
            }
            s.sum += w->sum();
        }
    });
    EXPECT_EQ(merged.render_text(), direct.render_text());
}

// Two writers, each on its own instance, and a scraper rendering all the while. Every scrape
// must see a total that never goes down and never exceeds what was written; the last one must
// be exact. A lost update or a torn read would show as a wrong or non-monotonic total.
TEST(LocalMetricsTest, ScrapeConcurrentWithIncrementsSeesConsistentTotals) {
    Registry r;
    DemoStats w[2];
    register_stats<DemoStats>(r, kDemoStats, {&w[0], &w[1]});
    constexpr std::uint64_t kPerWorker = 200'000;
    std::atomic<int> running{2};
    std::vector<std::thread> writers;
    for (auto& s : w) {
        writers.emplace_back([&s, &running] {
            for (std::uint64_t i = 0; i < kPerWorker; ++i) {
                ++s.hits_total;
            }
            running.fetch_sub(1);
        });
    }
    double last = 0;
    int scrapes = 0;
    while (running.load() > 0 || scrapes == 0) {
        const double v = value_of(r.render_text(), "demo_lookups_total{result=\"hit\"}");
        ASSERT_GE(v, last);
        ASSERT_LE(v, 2.0 * kPerWorker);
        last = v;
        ++scrapes;
    }
    for (auto& t : writers) {
        t.join();
    }
    EXPECT_EQ(value_of(r.render_text(), "demo_lookups_total{result=\"hit\"}"), 2.0 * kPerWorker);
    EXPECT_GT(scrapes, 0);
}

}  // namespace
}  // namespace moneta::metrics
