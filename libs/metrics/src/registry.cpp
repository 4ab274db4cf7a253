#include "moneta/metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "moneta/core/assert.hpp"

namespace moneta::metrics {
namespace {

void append_number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
    } else if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
        out.append(buf, r.ptr);
    } else {
        char buf[40];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, r.ptr);
    }
}

void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::string render_labels(const Labels& labels) {
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        MONETA_RELEASE_ASSERT(is_valid_metric_name(labels[i].first) &&
                                  labels[i].first.find(':') == std::string::npos &&
                                  labels[i].first.rfind("__", 0) != 0,
                              "invalid label name");
        if (i > 0) {
            out += ',';
        }
        out += labels[i].first;
        out += "=\"";
        out += escape_label_value(labels[i].second);
        out += '"';
    }
    out += '}';
    return out;
}

/// `{a="b"}` + extra label (for `le`) → `{a="b",le="0.5"}`.
std::string with_label(const std::string& labels, std::string_view extra) {
    if (labels.empty()) {
        return "{" + std::string(extra) + "}";
    }
    return labels.substr(0, labels.size() - 1) + "," + std::string(extra) + "}";
}

std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

/// OpenMetrics HELP: `\\`, `\n` and `"` escaped.
std::string escape_openmetrics_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}

/// ` # {trace_id="<32 hex>"} <value> <timestamp>`: 43 characters of label set, under the
/// 128-character limit of OpenMetrics.
void append_exemplar(std::string& out, const Exemplar& e) {
    out += " # {trace_id=\"";
    out.append(e.trace_id.data(), e.trace_id.size());
    out += "\"} ";
    append_number(out, e.value);
    out += ' ';
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, e.timestamp, std::chars_format::fixed, 3);
    out.append(buf, r.ptr);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
    MONETA_RELEASE_ASSERT(std::is_sorted(bounds_.begin(), bounds_.end()) &&
                              std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end(),
                          "histogram bounds must be strictly ascending");
}

void Histogram::observe(double v) noexcept {
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) {
        ++i;
    }
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<double> latency_buckets() {
    return {kLatencyBounds.begin(), kLatencyBounds.end()};
}

bool is_valid_metric_name(std::string_view name) noexcept {
    if (name.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

Registry::Series& Registry::series_for(std::string_view name, std::string_view help, Type type,
                                       const Labels& labels) {
    MONETA_RELEASE_ASSERT(is_valid_metric_name(name), "invalid metric name");
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{type, std::string(help), {}}).first;
    }
    MONETA_RELEASE_ASSERT(it->second.type == type, "metric re-registered with another type");
    const std::string rendered = render_labels(labels);
    for (Series& s : it->second.series) {
        if (s.labels == rendered) {
            return s;
        }
    }
    it->second.series.push_back(Series{rendered});
    return it->second.series.back();
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
    std::lock_guard lock(mu_);
    Series& s = series_for(name, help, Type::kCounter, labels);
    if (s.counter == nullptr) {
        MONETA_RELEASE_ASSERT(!s.callback, "series already registered as a callback");
        s.counter = &counters_.emplace_back();
    }
    return *s.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
    std::lock_guard lock(mu_);
    Series& s = series_for(name, help, Type::kGauge, labels);
    if (s.gauge == nullptr) {
        MONETA_RELEASE_ASSERT(!s.callback, "series already registered as a callback");
        s.gauge = &gauges_.emplace_back();
    }
    return *s.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<double> bounds, Labels labels) {
    std::lock_guard lock(mu_);
    Series& s = series_for(name, help, Type::kHistogram, labels);
    if (s.histogram == nullptr) {
        s.histogram = histograms_.emplace_back(std::make_unique<Histogram>(std::move(bounds))).get();
    }
    return *s.histogram;
}

void Registry::callback_gauge(std::string_view name, std::string_view help, Labels labels,
                              std::function<double()> fn) {
    std::lock_guard lock(mu_);
    series_for(name, help, Type::kGauge, labels).callback = std::move(fn);
}

void Registry::callback_counter(std::string_view name, std::string_view help, Labels labels,
                                std::function<double()> fn) {
    std::lock_guard lock(mu_);
    series_for(name, help, Type::kCounter, labels).callback = std::move(fn);
}

void Registry::callback_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                                  Labels labels, std::function<void(HistogramSnapshot&)> fn) {
    MONETA_RELEASE_ASSERT(std::is_sorted(bounds.begin(), bounds.end()) &&
                              std::adjacent_find(bounds.begin(), bounds.end()) == bounds.end(),
                          "histogram bounds must be strictly ascending");
    std::lock_guard lock(mu_);
    Series& s = series_for(name, help, Type::kHistogram, labels);
    MONETA_RELEASE_ASSERT(s.histogram == nullptr, "series already registered as a histogram");
    s.bounds = std::move(bounds);
    s.histogram_callback = std::move(fn);
}

std::string Registry::render_text() const {
    return render(false);
}

std::string Registry::render_openmetrics() const {
    return render(true);
}

// One walk for both formats. They differ only in: the HELP escaping (OpenMetrics also escapes
// `"`), the counter family's name in the metadata (without `_total`), `# UNIT`, exemplars on
// bucket lines and the closing `# EOF`. Sample names, label sets and the `le` spelling are the
// same, so a Prometheus switching formats keeps the same series (Prometheus 2.x does not
// normalise `le="1"` vs `le="1.0"`).
std::string Registry::render(bool openmetrics) const {
    std::lock_guard lock(mu_);
    std::string out;
    out.reserve(8192);
    for (const auto& [name, family] : families_) {
        std::string_view meta_name = name;
        std::string_view type = family.type == Type::kCounter ? "counter"
                                : family.type == Type::kGauge ? "gauge"
                                                              : "histogram";
        if (openmetrics && family.type == Type::kCounter) {
            if (meta_name.ends_with("_total")) {
                meta_name.remove_suffix(6);
            } else {
                type = "unknown";  // an OpenMetrics counter's sample must be <family>_total
            }
        }
        out += "# HELP ";
        out += meta_name;
        out += ' ';
        out += openmetrics ? escape_openmetrics_help(family.help) : escape_help(family.help);
        out += "\n# TYPE ";
        out += meta_name;
        out += ' ';
        out += type;
        out += '\n';
        if (openmetrics) {
            const std::string_view unit = meta_name.ends_with("_seconds") ? "seconds"
                                          : meta_name.ends_with("_bytes") ? "bytes"
                                                                          : "";
            if (!unit.empty()) {
                out += "# UNIT ";
                out += meta_name;
                out += ' ';
                out += unit;
                out += '\n';
            }
        }
        for (const Series& s : family.series) {
            if (s.histogram != nullptr || s.histogram_callback) {
                HistogramSnapshot snap;
                const std::vector<double>& bounds = s.histogram != nullptr ? s.histogram->bounds() : s.bounds;
                snap.buckets.assign(bounds.size() + 1, 0);
                snap.exemplars.assign(bounds.size() + 1, Exemplar{});
                if (s.histogram != nullptr) {
                    for (std::size_t i = 0; i <= bounds.size(); ++i) {
                        snap.buckets[i] = s.histogram->bucket(i);
                    }
                    snap.sum = s.histogram->sum();
                } else {
                    s.histogram_callback(snap);
                }
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i <= bounds.size(); ++i) {
                    cumulative += snap.buckets[i];
                    std::string le = "le=\"";
                    if (i == bounds.size()) {
                        le += "+Inf";
                    } else {
                        append_number(le, bounds[i]);
                    }
                    le += '"';
                    out += name;
                    out += "_bucket";
                    out += with_label(s.labels, le);
                    out += ' ';
                    append_uint(out, cumulative);
                    if (openmetrics && i < snap.exemplars.size() && snap.exemplars[i].present) {
                        append_exemplar(out, snap.exemplars[i]);
                    }
                    out += '\n';
                }
                out += name;
                out += "_sum";
                out += s.labels;
                out += ' ';
                append_number(out, snap.sum);
                out += '\n';
                out += name;
                out += "_count";
                out += s.labels;
                out += ' ';
                append_uint(out, cumulative);
                out += '\n';
                continue;
            }
            out += name;
            out += s.labels;
            out += ' ';
            if (s.callback) {
                append_number(out, s.callback());
            } else if (s.counter != nullptr) {
                append_uint(out, s.counter->value());
            } else if (s.gauge != nullptr) {
                append_number(out, s.gauge->value());
            } else {
                out += '0';
            }
            out += '\n';
        }
    }
    if (openmetrics) {
        out += "# EOF\n";
    }
    return out;
}

namespace {

/// Lower-cased, trimmed media-range parameter value (quotes removed).
std::string_view trim(std::string_view v) noexcept {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
        v.remove_prefix(1);
    }
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
        v.remove_suffix(1);
    }
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
    }
    return v;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

/// q of a media range: 0..1 with up to three decimals (RFC 9110 §12.4.2); malformed → 0.
double parse_q(std::string_view v) noexcept {
    double q = 0;
    if (v.empty() || (v[0] != '0' && v[0] != '1')) {
        return 0;
    }
    q = v[0] == '1' ? 1 : 0;
    if (v.size() > 1) {
        if (v[1] != '.' || v.size() > 5) {
            return 0;
        }
        double scale = 0.1;
        for (std::size_t i = 2; i < v.size(); ++i) {
            if (v[i] < '0' || v[i] > '9') {
                return 0;
            }
            q += (v[i] - '0') * scale;
            scale /= 10;
        }
    }
    return q > 1 ? 1 : q;
}

}  // namespace

bool accepts_openmetrics(std::string_view accept) noexcept {
    double best_openmetrics = 0;
    double best_text = 0;
    while (!accept.empty()) {
        const std::size_t comma = accept.find(',');
        std::string_view range = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
        const std::size_t semi = range.find(';');
        const std::string_view type = trim(range.substr(0, semi));
        double q = 1;
        std::string_view version;
        std::string_view params = semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1);
        while (!params.empty()) {
            const std::size_t next = params.find(';');
            const std::string_view param = params.substr(0, next);
            params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
            const std::size_t eq = param.find('=');
            if (eq == std::string_view::npos) {
                continue;
            }
            const std::string_view key = trim(param.substr(0, eq));
            const std::string_view value = trim(param.substr(eq + 1));
            if (iequals(key, "q")) {
                q = parse_q(value);
            } else if (iequals(key, "version")) {
                version = value;
            }
        }
        if (iequals(type, "application/openmetrics-text")) {
            if (version.empty() || version == "1.0.0") {
                best_openmetrics = std::max(best_openmetrics, q);
            }
        } else if (iequals(type, "text/plain") || iequals(type, "text/*") || iequals(type, "*/*")) {
            best_text = std::max(best_text, q);
        }
    }
    return best_openmetrics > 0 && best_openmetrics >= best_text;
}

}  // namespace moneta::metrics
