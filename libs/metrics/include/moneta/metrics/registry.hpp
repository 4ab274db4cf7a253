/// @file moneta/metrics/registry.hpp
/// @brief Prometheus metrics: counters, gauges and histograms with labels fixed at creation,
/// rendered in the text format 0.0.4. Hot paths keep the returned references (no lookups).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

namespace moneta::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

/// Monotonic counter. inc() is one relaxed atomic add: no lock, no allocation.
class Counter {
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (double).
class Gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
    void sub(double v) noexcept { value_.fetch_sub(v, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

/// Fixed buckets (upper bounds, ascending); observe() is a short scan plus two atomic adds.
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v) noexcept;
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    /// Non-cumulative count of bucket i (i == bounds().size() is +Inf).
    std::uint64_t bucket(std::size_t i) const noexcept {
        return counts_[i].load(std::memory_order_relaxed);
    }
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<double> sum_{0};
};

/// Latency buckets in seconds, 100 µs .. 10 s (the same as kLatencyBounds).
std::vector<double> latency_buckets();
inline constexpr std::array<double, 16> kLatencyBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

/// One OpenMetrics exemplar: the trace of a sampled request whose observation fell in a bucket.
struct Exemplar {
    bool present = false;
    std::array<char, 32> trace_id{};  ///< lower-case hex
    double value = 0;                 ///< the observed value
    double timestamp = 0;             ///< wall time of the observation, seconds since the epoch
};

/// A histogram's state as a scrape callback reports it (per-worker histograms summed).
struct HistogramSnapshot {
    std::vector<std::uint64_t> buckets;  ///< non-cumulative, bounds().size() + 1 (last: +Inf)
    double sum = 0;
    /// One per bucket (sized like buckets, all absent before the callback); the callback fills
    /// those it knows. Rendered in OpenMetrics only (the text format 0.0.4 has no exemplars).
    std::vector<Exemplar> exemplars;
};

/// Owns every metric (stable addresses). Registration takes a lock; updates never do.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe.
class Registry {
public:
    /// Same name + labels returns the same object. A name reused with another type, or
    /// invalid metric/label names, abort at startup (MONETA_RELEASE_ASSERT): a programming error.
    Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                         Labels labels = {});
    /// Evaluated at scrape time (e.g. stats atomics owned by another library).
    void callback_gauge(std::string_view name, std::string_view help, Labels labels,
                        std::function<double()> fn);
    void callback_counter(std::string_view name, std::string_view help, Labels labels,
                          std::function<double()> fn);
    /// A histogram whose buckets @p fn fills at scrape time (zeroed, sized bounds + 1): how
    /// per-worker LocalHistograms are merged.
    void callback_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                            Labels labels, std::function<void(HistogramSnapshot&)> fn);

    /// Prometheus text format 0.0.4.
    std::string render_text() const;
    static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
    /// OpenMetrics 1.0.0 (docs/metrics.md "OpenMetrics"): counter families named without
    /// `_total` in the metadata, `# UNIT` for `_seconds`/`_bytes` families, exemplars on
    /// histogram buckets, `# EOF`. The same series (names and labels) as render_text().
    std::string render_openmetrics() const;
    static constexpr std::string_view kOpenMetricsContentType =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

private:
    enum class Type { kCounter, kGauge, kHistogram };
    std::string render(bool openmetrics) const;
    struct Series {
        std::string labels;  // rendered `{a="b",...}` or empty
        Counter* counter = nullptr;
        Gauge* gauge = nullptr;
        Histogram* histogram = nullptr;
        std::function<double()> callback;
        std::vector<double> bounds;  ///< of histogram_callback
        std::function<void(HistogramSnapshot&)> histogram_callback;
    };
    struct Family {
        Type type;
        std::string help;
        std::vector<Series> series;
    };
    Series& series_for(std::string_view name, std::string_view help, Type type, const Labels& labels);

    mutable std::mutex mu_;  // guards families_ and the deques
    std::map<std::string, Family, std::less<>> families_;
    std::deque<Counter> counters_;
    std::deque<Gauge> gauges_;
    std::deque<std::unique_ptr<Histogram>> histograms_;
};

/// True when an `Accept` header value prefers OpenMetrics 1.0.0 (or an unversioned
/// `application/openmetrics-text`) to the text format: its q is > 0 and not below the best q of
/// `text/plain`, `text/*` or `*/*`. Prometheus 2.x scrapers send
/// `application/openmetrics-text;version=1.0.0,...;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`.
bool accepts_openmetrics(std::string_view accept) noexcept;

/// True for [a-zA-Z_:][a-zA-Z0-9_:]*.
bool is_valid_metric_name(std::string_view name) noexcept;
/// `\` → `\\`, `"` → `\"`, newline → `\n`.
std::string escape_label_value(std::string_view v);

/// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
/// process_virtual_memory_max_bytes, process_open_fds, process_max_fds,
/// process_start_time_seconds and process_threads, read from /proc at scrape time.
void register_process_metrics(Registry& registry);

}  // namespace moneta::metrics
