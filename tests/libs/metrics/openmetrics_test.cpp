// OpenMetrics 1.0.0 exposition (Registry::render_openmetrics), Accept negotiation and exemplars
// (ExemplarCell, LocalExemplarHistogram). The output is checked byte for byte on a small
// registry and, on a bigger one, by a strict parser of the OpenMetrics text grammar below.
#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "moneta/metrics/local.hpp"
#include "moneta/metrics/registry.hpp"

namespace moneta::metrics {
namespace {

// --- A strict OpenMetrics 1.0.0 text parser (the subset of the ABNF a metrics endpoint may
// emit: no info/stateset/gaugehistogram types needed, but they are not accepted either). It
// returns an error string, empty when the exposition is valid.

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool parse_name(std::string_view& in, std::string& out) {
    if (in.empty() || !is_name_start(in[0])) {
        return false;
    }
    std::size_t i = 1;
    while (i < in.size() && is_name_char(in[i])) {
        ++i;
    }
    out.assign(in.substr(0, i));
    in.remove_prefix(i);
    return true;
}

/// realnumber / "+Inf" / "-Inf" / "NaN" (OpenMetrics "number").
bool parse_number(std::string_view& in, double& v) {
    std::size_t end = in.find_first_of(" \n");
    const std::string_view tok = in.substr(0, end);
    if (tok == "+Inf" || tok == "-Inf" || tok == "NaN") {
        v = tok == "NaN" ? std::nan("") : (tok[0] == '+' ? INFINITY : -INFINITY);
    } else {
        if (tok.empty()) {
            return false;
        }
        std::string_view digits = tok;
        if (digits[0] == '-' || digits[0] == '+') {
            digits.remove_prefix(1);
        }
        if (digits.empty() || !(std::isdigit(static_cast<unsigned char>(digits[0])) || digits[0] == '.')) {
            return false;  // no "inf", "nan" spellings, no hex
        }
        const auto r = std::from_chars(tok.data() + (tok[0] == '+' ? 1 : 0), tok.data() + tok.size(), v);
        if (r.ec != std::errc() || r.ptr != tok.data() + tok.size()) {
            return false;
        }
    }
    in.remove_prefix(tok.size());
    return true;
}

/// `{name="escaped",...}`; escaped: \\ \" \n only.
bool parse_labels(std::string_view& in, std::vector<std::pair<std::string, std::string>>& out, std::size_t& chars) {
    chars = 0;
    if (in.empty() || in[0] != '{') {
        return false;
    }
    in.remove_prefix(1);
    if (!in.empty() && in[0] == '}') {
        in.remove_prefix(1);
        return true;
    }
    while (true) {
        std::string name;
        if (!parse_name(in, name) || name.find(':') != std::string::npos || in.size() < 2 || in[0] != '=' ||
            in[1] != '"') {
            return false;
        }
        in.remove_prefix(2);
        std::string value;
        while (true) {
            if (in.empty() || in[0] == '\n') {
                return false;
            }
            if (in[0] == '"') {
                in.remove_prefix(1);
                break;
            }
            if (in[0] == '\\') {
                if (in.size() < 2 || (in[1] != '\\' && in[1] != '"' && in[1] != 'n')) {
                    return false;
                }
                value += in[1] == 'n' ? '\n' : in[1];
                in.remove_prefix(2);
                continue;
            }
            value += in[0];
            in.remove_prefix(1);
        }
        chars += name.size() + value.size();
        for (const auto& l : out) {
            if (l.first == name) {
                return false;  // duplicate label
            }
        }
        out.emplace_back(std::move(name), std::move(value));
        if (!in.empty() && in[0] == ',') {
            in.remove_prefix(1);
            continue;
        }
        if (!in.empty() && in[0] == '}') {
            in.remove_prefix(1);
            return true;
        }
        return false;
    }
}

struct ParsedSample {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
    bool has_exemplar = false;
    std::vector<std::pair<std::string, std::string>> exemplar_labels;
    double exemplar_value = 0;
    double exemplar_timestamp = 0;
};

struct ParsedFamily {
    std::string type;
    std::string unit;
    std::string help;
    std::vector<ParsedSample> samples;
};

struct Parsed {
    std::string error;
    std::map<std::string, ParsedFamily> families;
};

std::string label_key(std::vector<std::pair<std::string, std::string>> labels, std::string_view drop) {
    std::string k;
    for (const auto& l : labels) {
        if (l.first != drop) {
            k += l.first + "=" + l.second + ",";
        }
    }
    return k;
}

Parsed parse_openmetrics(std::string_view text) {
    Parsed p;
    const auto fail = [&p](std::string why, std::string_view line) {
        p.error = why + " at: " + std::string(line);
        return p;
    };
    if (!text.ends_with("# EOF\n")) {
        p.error = "does not end with '# EOF\\n'";
        return p;
    }
    std::string current;  // family whose lines we are in
    std::set<std::string> closed;
    bool seen_sample_in_current = false;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        if (nl == std::string_view::npos) {
            return fail("line without newline", text);
        }
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (line == "# EOF") {
            if (!text.empty()) {
                return fail("bytes after # EOF", text);
            }
            break;
        }
        if (line.starts_with("#")) {
            std::string_view rest = line;
            std::string_view kind;
            for (std::string_view k : {"# HELP ", "# TYPE ", "# UNIT "}) {
                if (rest.starts_with(k)) {
                    kind = k;
                }
            }
            if (kind.empty()) {
                return fail("unknown comment (OpenMetrics has none)", line);
            }
            rest.remove_prefix(kind.size());
            std::string name;
            if (!parse_name(rest, name) || rest.empty() || rest[0] != ' ') {
                return fail("bad metadata name", line);
            }
            rest.remove_prefix(1);
            if (name != current) {
                if (closed.count(name) != 0 || p.families.count(name) != 0) {
                    return fail("family not contiguous or metadata repeated", line);
                }
                if (!current.empty()) {
                    closed.insert(current);
                }
                current = name;
                seen_sample_in_current = false;
            }
            if (seen_sample_in_current) {
                return fail("metadata after a sample", line);
            }
            ParsedFamily& f = p.families[name];
            if (kind == "# TYPE ") {
                static const std::set<std::string_view> kTypes{"counter", "gauge", "histogram", "unknown"};
                if (!f.type.empty() || kTypes.count(rest) == 0) {
                    return fail("bad or repeated TYPE", line);
                }
                f.type = rest;
            } else if (kind == "# UNIT ") {
                if (!f.unit.empty() || rest.empty() || !name.ends_with("_" + std::string(rest))) {
                    return fail("UNIT must be a suffix of the family name", line);
                }
                f.unit = rest;
            } else {
                for (std::size_t i = 0; i < rest.size(); ++i) {
                    if (rest[i] == '\\' && (i + 1 == rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n' &&
                                                                     rest[i + 1] != '"'))) {
                        return fail("bad escape in HELP", line);
                    }
                    if (rest[i] == '\\') {
                        ++i;
                    } else if (rest[i] == '"') {
                        return fail("unescaped quote in HELP", line);
                    }
                }
                f.help = rest;
            }
            continue;
        }
        // A sample.
        std::string_view rest = line;
        ParsedSample s;
        if (!parse_name(rest, s.name)) {
            return fail("bad sample name", line);
        }
        std::size_t chars = 0;
        if (!rest.empty() && rest[0] == '{' && !parse_labels(rest, s.labels, chars)) {
            return fail("bad labels", line);
        }
        if (rest.empty() || rest[0] != ' ') {
            return fail("no value", line);
        }
        rest.remove_prefix(1);
        if (!parse_number(rest, s.value)) {
            return fail("bad value", line);
        }
        if (rest.starts_with(" # ")) {
            rest.remove_prefix(3);
            s.has_exemplar = true;
            if (!parse_labels(rest, s.exemplar_labels, chars) || chars > 128) {
                return fail("bad exemplar labels", line);
            }
            if (rest.empty() || rest[0] != ' ') {
                return fail("exemplar without value", line);
            }
            rest.remove_prefix(1);
            if (!parse_number(rest, s.exemplar_value)) {
                return fail("bad exemplar value", line);
            }
            if (!rest.empty()) {
                if (rest[0] != ' ') {
                    return fail("junk after exemplar value", line);
                }
                rest.remove_prefix(1);
                if (!parse_number(rest, s.exemplar_timestamp)) {
                    return fail("bad exemplar timestamp", line);
                }
            }
        } else if (!rest.empty()) {
            return fail("junk after value (no timestamps are emitted)", line);
        }
        if (!rest.empty()) {
            return fail("junk at end of line", line);
        }
        if (current.empty()) {
            return fail("sample before any metadata", line);
        }
        ParsedFamily& f = p.families[current];
        const std::string suffix = s.name.starts_with(current) ? s.name.substr(current.size()) : "?";
        bool ok = false;
        if (f.type == "counter") {
            ok = suffix == "_total" || suffix == "_created";
        } else if (f.type == "histogram") {
            ok = suffix == "_bucket" || suffix == "_sum" || suffix == "_count" || suffix == "_created";
        } else {
            ok = suffix.empty();
        }
        if (!ok) {
            return fail("sample name does not fit its family " + current + " (" + f.type + ")", line);
        }
        if (s.has_exemplar && !(suffix == "_bucket" || suffix == "_total")) {
            return fail("exemplar on a sample that cannot have one", line);
        }
        if (f.type == "counter" && (s.value < 0 || std::isnan(s.value))) {
            return fail("negative counter", line);
        }
        seen_sample_in_current = true;
        f.samples.push_back(std::move(s));
    }
    // Histogram rules: per label set, buckets ascending by le ending with +Inf, cumulative
    // counts non-decreasing, _count equal to the +Inf bucket, exemplars within their bucket.
    for (const auto& [name, f] : p.families) {
        if (f.type.empty()) {
            p.error = "family without TYPE: " + name;
            return p;
        }
        if (f.type != "histogram") {
            continue;
        }
        std::map<std::string, std::vector<const ParsedSample*>> buckets;
        std::map<std::string, double> counts;
        for (const ParsedSample& s : f.samples) {
            if (s.name == name + "_bucket") {
                buckets[label_key(s.labels, "le")].push_back(&s);
            } else if (s.name == name + "_count") {
                counts[label_key(s.labels, "")] = s.value;
            }
        }
        for (const auto& [key, bs] : buckets) {
            double prev_le = -INFINITY;
            double prev_count = 0;
            for (const ParsedSample* b : bs) {
                std::string le;
                for (const auto& l : b->labels) {
                    if (l.first == "le") {
                        le = l.second;
                    }
                }
                std::string_view lv = le;
                double bound = 0;
                if (le.empty() || !parse_number(lv, bound) || !lv.empty() || bound <= prev_le ||
                    b->value < prev_count || b->value != std::floor(b->value)) {
                    p.error = "bad bucket sequence in " + name + " {" + key + "}";
                    return p;
                }
                if (b->has_exemplar && (b->exemplar_value > bound || b->exemplar_value <= prev_le)) {
                    p.error = "exemplar outside its bucket in " + name;
                    return p;
                }
                prev_le = bound;
                prev_count = b->value;
            }
            if (prev_le != INFINITY || counts.count(key) == 0 || counts[key] != prev_count) {
                p.error = "histogram without +Inf or with a wrong _count: " + name + " {" + key + "}";
                return p;
            }
        }
    }
    return p;
}

// --- Negotiation.

TEST(OpenMetricsTest, AcceptNegotiation) {
    // Prometheus 2.42's scrape Accept header.
    EXPECT_TRUE(accepts_openmetrics(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    EXPECT_TRUE(accepts_openmetrics("application/openmetrics-text"));
    EXPECT_TRUE(accepts_openmetrics("Application/OpenMetrics-Text; version=\"1.0.0\"; charset=utf-8"));
    EXPECT_FALSE(accepts_openmetrics(""));
    EXPECT_FALSE(accepts_openmetrics("*/*"));
    EXPECT_FALSE(accepts_openmetrics("text/plain;version=0.0.4"));
    EXPECT_FALSE(accepts_openmetrics("application/openmetrics-text;version=0.0.1"));  // we only speak 1.0.0
    EXPECT_FALSE(accepts_openmetrics("application/openmetrics-text;q=0"));
    EXPECT_FALSE(accepts_openmetrics("application/openmetrics-text;q=0.4, text/plain;q=0.5"));
    EXPECT_TRUE(accepts_openmetrics("text/plain;q=0.5, application/openmetrics-text;q=0.5"));  // tie: ours
    EXPECT_FALSE(accepts_openmetrics("application/openmetrics-text;q=abc"));  // malformed q is 0
    EXPECT_FALSE(accepts_openmetrics(",,;;=,"));
}

// The Accept value comes from whoever reaches the admin port: arbitrary bytes must only ever
// give a yes or a no (ASan watches every read).
TEST(OpenMetricsTest, AcceptNegotiationSurvivesArbitraryBytes) {
    constexpr std::string_view kAlphabet = "application/openmetrics-text;version=1.0.0,q=0.5 \"\t*/";
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    int yes = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string accept;
        const std::size_t n = (x >> 7) % 64;
        for (std::size_t k = 0; k < n; ++k) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            accept += (x & 7) == 0 ? static_cast<char>(x >> 8) : kAlphabet[(x >> 8) % kAlphabet.size()];
        }
        yes += accepts_openmetrics(accept) ? 1 : 0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    EXPECT_LT(yes, 20000);
}

// --- Exact output.

TEST(OpenMetricsTest, RendersTheOpenMetricsFormatExactly) {
    Registry r;
    r.counter("moneta_x_total", "Things \"quoted\".", {{"route", "start"}}).inc(3);
    r.callback_counter("odd_counter", "A counter without _total.", {}, [] { return 2.0; });
    r.gauge("moneta_size_bytes", "Bytes.").set(1.5);
    r.callback_histogram("moneta_h_seconds", "Latency.", {0.1, 1}, {{"route", "a"}}, [](HistogramSnapshot& s) {
        s.buckets = {1, 1, 1};
        s.sum = 7.55;
        s.exemplars[1].present = true;
        s.exemplars[1].trace_id = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f',
                                   '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
        s.exemplars[1].value = 0.5;
        s.exemplars[1].timestamp = 1765000000.25;
    });
    const std::string om = r.render_openmetrics();
    EXPECT_EQ(om,
              "# HELP moneta_h_seconds Latency.\n# TYPE moneta_h_seconds histogram\n# UNIT moneta_h_seconds seconds\n"
              "moneta_h_seconds_bucket{route=\"a\",le=\"0.1\"} 1\n"
              "moneta_h_seconds_bucket{route=\"a\",le=\"1\"} 2 # {trace_id=\"0123456789abcdef0123456789abcdef\"} "
              "0.5 1765000000.250\n"
              "moneta_h_seconds_bucket{route=\"a\",le=\"+Inf\"} 3\n"
              "moneta_h_seconds_sum{route=\"a\"} 7.55\n"
              "moneta_h_seconds_count{route=\"a\"} 3\n"
              "# HELP moneta_size_bytes Bytes.\n# TYPE moneta_size_bytes gauge\n# UNIT moneta_size_bytes bytes\n"
              "moneta_size_bytes 1.5\n"
              "# HELP moneta_x Things \\\"quoted\\\".\n# TYPE moneta_x counter\n"
              "moneta_x_total{route=\"start\"} 3\n"
              "# HELP odd_counter A counter without _total.\n# TYPE odd_counter unknown\nodd_counter 2\n"
              "# EOF\n");
    const Parsed p = parse_openmetrics(om);
    EXPECT_EQ(p.error, "");
    // The text format is unchanged: no exemplar, no EOF, no UNIT, `_total` family names.
    const std::string text = r.render_text();
    EXPECT_EQ(text.find('#', text.find("le=\"1\"")), text.find("# HELP moneta_size_bytes"));
    EXPECT_EQ(text.find("# EOF"), std::string::npos);
    EXPECT_EQ(text.find("# UNIT"), std::string::npos);
    EXPECT_NE(text.find("# TYPE moneta_x_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("# HELP moneta_x_total Things \"quoted\".\n"), std::string::npos);
}

TEST(OpenMetricsTest, TheParserRefusesWhatIsNotOpenMetrics) {
    // The parser is the test's yardstick: show it catches each kind of mistake.
    const std::string ok = "# TYPE a counter\na_total 1\n# EOF\n";
    EXPECT_EQ(parse_openmetrics(ok).error, "");
    EXPECT_NE(parse_openmetrics("# TYPE a counter\na_total 1\n").error, "");                 // no EOF
    EXPECT_NE(parse_openmetrics("# TYPE a counter\na 1\n# EOF\n").error, "");                // counter sample name
    EXPECT_NE(parse_openmetrics("# TYPE a_total counter\na_total 1\n# EOF\n").error, "");    // _total in metadata
    EXPECT_NE(parse_openmetrics("# TYPE a gauge\n# UNIT a seconds\na 1\n# EOF\n").error, "");  // unit not suffix
    EXPECT_NE(parse_openmetrics("# TYPE a gauge\na 1 # {t=\"x\"} 1\n# EOF\n").error, "");      // exemplar on gauge
    EXPECT_NE(parse_openmetrics("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"
                                "h_sum 1\n# EOF\n")
                  .error,
              "");  // not cumulative
    EXPECT_NE(parse_openmetrics("# TYPE h histogram\nh_bucket{le=\"1\"} 1 # {t=\"x\"} 5 1\nh_bucket{le=\"+Inf\"} 1\n"
                                "h_count 1\nh_sum 1\n# EOF\n")
                  .error,
              "");  // exemplar outside its bucket
    EXPECT_NE(parse_openmetrics("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n").error, "");
    EXPECT_NE(parse_openmetrics("# TYPE a gauge\na inf\n# EOF\n").error, "");
    const std::string long_exemplar = "# TYPE a counter\na_total 1 # {t=\"" + std::string(128, 'x') + "\"} 1\n# EOF\n";
    EXPECT_NE(parse_openmetrics(long_exemplar).error, "");  // over 128 characters
}

TEST(OpenMetricsTest, AFullRegistryParsesStrictly) {
    Registry r;
    register_process_metrics(r);
    r.counter("moneta_requests_total", "Requests.", {{"route", "start"}, {"code", "200"}}).inc(5);
    r.counter("moneta_requests_total", "Requests.", {{"route", "stop"}, {"code", "500"}}).inc(1);
    r.gauge("moneta_odd", "Line\nbreak and back\\slash.").set(-1);
    auto& h = r.histogram("moneta_plain_seconds", "Direct.", latency_buckets(), {{"route", "x\"y"}});
    h.observe(0.003);
    h.observe(20);
    LocalExemplarHistogram<kLatencyBounds> local;
    const std::array<std::uint8_t, 16> trace{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    local.observe(0.0007, trace, 1765000000.5);
    local.observe(0.2);
    local.observe(30, trace, 1765000001.0);  // the +Inf bucket
    r.callback_histogram("moneta_local_seconds", "Merged.", latency_buckets(), {}, [&local](HistogramSnapshot& s) {
        for (std::size_t i = 0; i < s.buckets.size(); ++i) {
            s.buckets[i] = local.bucket(i);
            merge_exemplar(s.exemplars[i], local.exemplar(i).read());
        }
        s.sum = local.sum();
    });
    const std::string om = r.render_openmetrics();
    const Parsed p = parse_openmetrics(om);
    ASSERT_EQ(p.error, "") << om;
    EXPECT_EQ(p.families.at("process_cpu_seconds").type, "counter");
    EXPECT_EQ(p.families.at("process_cpu_seconds").unit, "seconds");
    EXPECT_EQ(p.families.at("moneta_requests").samples.size(), 2U);
    int exemplars = 0;
    for (const ParsedSample& s : p.families.at("moneta_local_seconds").samples) {
        if (s.has_exemplar) {
            ++exemplars;
            ASSERT_EQ(s.exemplar_labels.size(), 1U);
            EXPECT_EQ(s.exemplar_labels[0].first, "trace_id");
            EXPECT_EQ(s.exemplar_labels[0].second, "deadbeef000102030405060708090a0b");
        }
    }
    EXPECT_EQ(exemplars, 2);
    // Same series in both formats: every sample line of the text format is in the OpenMetrics
    // output minus its exemplar (names, labels and values identical).
    const std::string text = r.render_text();
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.starts_with("#") || line.starts_with("process_")) {
            continue;  // /proc values move between the two renders
        }
        EXPECT_NE(om.find("\n" + line + (line.find("_bucket") != std::string::npos ? "" : "\n")), std::string::npos)
            << line;
    }
}

// --- Exemplar cells.

TEST(ExemplarCellTest, RecordsReadsAndMergesTheNewest) {
    ExemplarCell a;
    EXPECT_FALSE(a.read().present);
    std::array<std::uint8_t, 16> t1{};
    t1[0] = 0xab;
    t1[15] = 0x01;
    a.record(t1, 0.004, 100.0);
    const auto s = a.read();
    ASSERT_TRUE(s.present);
    EXPECT_EQ(s.value, 0.004);
    EXPECT_EQ(s.wall_seconds, 100.0);
    Exemplar e;
    merge_exemplar(e, s);
    EXPECT_EQ(std::string(e.trace_id.data(), 32), "ab000000000000000000000000000001");
    ExemplarCell b;
    std::array<std::uint8_t, 16> t2{};
    t2.fill(0x22);
    b.record(t2, 0.002, 99.0);  // older: does not replace
    merge_exemplar(e, b.read());
    EXPECT_EQ(e.value, 0.004);
    b.record(t2, 0.003, 101.0);  // newer: replaces
    merge_exemplar(e, b.read());
    EXPECT_EQ(e.value, 0.003);
    EXPECT_EQ(std::string(e.trace_id.data(), 32), std::string(32, '2'));
}

TEST(ExemplarCellTest, AConcurrentReaderNeverSeesAMixOfTwoRecords) {
    // The writer records (trace id = i in every byte pair, value = i, time = i) as fast as it
    // can; the reader checks every snapshot it gets is one record, never halves of two.
    ExemplarCell cell;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (std::uint32_t i = 1; i <= 2'000'000; ++i) {
            std::array<std::uint8_t, 16> t{};
            for (std::size_t k = 0; k < 16; k += 4) {
                t[k] = static_cast<std::uint8_t>(i >> 24);
                t[k + 1] = static_cast<std::uint8_t>(i >> 16);
                t[k + 2] = static_cast<std::uint8_t>(i >> 8);
                t[k + 3] = static_cast<std::uint8_t>(i);
            }
            cell.record(t, static_cast<double>(i), static_cast<double>(i));
        }
        done = true;
    });
    std::uint64_t reads = 0;
    std::uint64_t bad = 0;
    double last = 0;
    while (!done.load()) {
        const auto s = cell.read();
        if (!s.present) {
            continue;
        }
        ++reads;
        const auto i = static_cast<std::uint64_t>(s.value);
        const std::uint64_t word = (i << 32) | i;
        if (s.hi != word || s.lo != word || s.wall_seconds != s.value || s.value < last) {
            ++bad;
        }
        last = s.value;
    }
    writer.join();
    EXPECT_EQ(bad, 0U);
    EXPECT_GT(reads, 0U);
    EXPECT_EQ(cell.read().value, 2'000'000.0);
}

}  // namespace
}  // namespace moneta::metrics
