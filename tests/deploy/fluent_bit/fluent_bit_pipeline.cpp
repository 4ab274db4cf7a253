#include "fluent_bit_pipeline.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

namespace moneta::testing::flb {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return std::tolower(c);
    });
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("cannot read " + path);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Fluent Bit's classic `${VAR}` expansion; an unset variable becomes "".
std::string expand(
    std::string_view v, const Env& env, std::set<std::string>& referenced, std::string_view where
) {
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
        if (v[i] == '$' && i + 1 < v.size() && v[i + 1] == '{') {
            const auto close = v.find('}', i + 2);
            if (close == std::string_view::npos) {
                throw ConfigError(std::string(where) + ": unterminated ${");
            }
            const std::string name(v.substr(i + 2, close - i - 2));
            if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '_';
                })) {
                throw ConfigError(std::string(where) + ": bad variable name '" + name + "'");
            }
            referenced.insert(name);
            if (auto it = env.find(name); it != env.end()) {
                out += it->second;
            }
            i = close + 1;
        } else {
            out += v[i++];
        }
    }
    return out;
}

/// A section whose entries must all be consumed.
class Taker {
public:
    Taker(
        const Section& s, std::string_view file, const Env& env, std::set<std::string>& referenced
    )
        : s_(s), file_(file), env_(env), referenced_(referenced), used_(s.entries.size(), false) {}

    std::vector<std::string> all(std::string_view key) {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < s_.entries.size(); ++i) {
            if (lower(s_.entries[i].key) == lower(key)) {
                used_[i] = true;
                out.push_back(
                    expand(s_.entries[i].value, env_, referenced_, where(s_.entries[i].line))
                );
            }
        }
        return out;
    }
    /// Exactly one occurrence.
    std::string one(std::string_view key) {
        auto v = all(key);
        if (v.size() != 1) {
            throw ConfigError(
                where(s_.line) + ": [" + s_.name + "] needs exactly one " + std::string(key)
            );
        }
        return v.front();
    }
    /// One occurrence, raw (no expansion): for rewrite_tag rules, whose `$key` is not ${VAR}.
    std::vector<Entry> raw(std::string_view key) {
        std::vector<Entry> out;
        for (std::size_t i = 0; i < s_.entries.size(); ++i) {
            if (lower(s_.entries[i].key) == lower(key)) {
                used_[i] = true;
                out.push_back(s_.entries[i]);
            }
        }
        return out;
    }
    /// A setting the pipeline does not act on but knows: kept (lower-case key) for the test.
    void setting(std::string_view key, std::map<std::string, std::string>& into) {
        into[lower(key)] = one(key);
    }
    void finish() const {
        for (std::size_t i = 0; i < s_.entries.size(); ++i) {
            if (!used_[i]) {
                throw ConfigError(
                    where(s_.entries[i].line) + ": key '" + s_.entries[i].key +
                    "' is not understood by the reimplementation"
                );
            }
        }
    }
    std::string where(int line) const { return std::string(file_) + ":" + std::to_string(line); }

private:
    const Section& s_;
    std::string_view file_;
    const Env& env_;
    std::set<std::string>& referenced_;
    std::vector<bool> used_;
};

bool on_off(const std::string& v, const std::string& where) {
    const auto l = lower(v);
    if (l == "on" || l == "true") {
        return true;
    }
    if (l == "off" || l == "false") {
        return false;
    }
    throw ConfigError(where + ": '" + v + "' is not On/Off");
}

/// Fluent Bit sizes: a number with an optional k/K, m/M, g/G suffix (powers of 1024).
std::size_t size_of(const std::string& v, const std::string& where) {
    std::size_t n = 0;
    std::size_t i = 0;
    for (; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])); ++i) {
        n = n * 10 + static_cast<std::size_t>(v[i] - '0');
    }
    if (i == 0) {
        throw ConfigError(where + ": '" + v + "' is not a size");
    }
    const std::string suffix = lower(v.substr(i));
    if (suffix.empty()) {
        return n;
    }
    if (suffix == "k" || suffix == "kb") {
        return n * 1024;
    }
    if (suffix == "m" || suffix == "mb") {
        return n * 1024 * 1024;
    }
    if (suffix == "g" || suffix == "gb") {
        return n * 1024 * 1024 * 1024;
    }
    throw ConfigError(where + ": '" + v + "' is not a size");
}

int positive_int(const std::string& v, const std::string& where) {
    if (v.empty() || v.size() > 6 ||
        !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoi(v) <= 0) {
        throw ConfigError(where + ": '" + v + "' is not a positive integer");
    }
    return std::stoi(v);
}

bool is_identifier(std::string_view s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '.';
    });
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::istringstream in{std::string(s)};
    std::string w;
    while (in >> w) {
        out.push_back(w);
    }
    return out;
}

}  // namespace

std::vector<Section> read_classic(std::string_view text, std::string_view file) {
    static const std::set<std::string> kSections{"SERVICE", "INPUT", "FILTER", "OUTPUT", "PARSER"};
    std::vector<Section> out;
    int lineno = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            throw ConfigError(std::string(file) + ": no newline at the end");
        }
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++lineno;
        const std::string where = std::string(file) + ":" + std::to_string(lineno);
        if (line.find('\t') != std::string_view::npos ||
            line.find('\r') != std::string_view::npos) {
            throw ConfigError(where + ": tab or CR");
        }
        const auto first = line.find_first_not_of(' ');
        if (first == std::string_view::npos || line[first] == '#') {
            continue;  // blank or comment line
        }
        if (first == 0) {
            if (line.size() < 3 || line.front() != '[' || line.back() != ']') {
                throw ConfigError(
                    where + ": expected [SECTION] (no @INCLUDE/@SET here): " + std::string(line)
                );
            }
            std::string name(line.substr(1, line.size() - 2));
            if (kSections.count(name) == 0) {
                throw ConfigError(where + ": unknown section [" + name + "]");
            }
            out.push_back(Section{std::move(name), lineno, {}});
            continue;
        }
        if (first != 4) {
            throw ConfigError(where + ": entries are indented by exactly 4 spaces");
        }
        if (out.empty()) {
            throw ConfigError(where + ": entry outside a section");
        }
        const std::string_view body = line.substr(4);
        const auto sp = body.find(' ');
        if (sp == std::string_view::npos) {
            throw ConfigError(where + ": key without a value");
        }
        const auto vstart = body.find_first_not_of(' ', sp);
        auto value = body.substr(vstart);
        while (!value.empty() && value.back() == ' ') {
            value.remove_suffix(1);
        }
        out.back().entries.push_back(Entry{
            std::string(body.substr(0, sp)), std::string(value), lineno});
    }
    return out;
}

bool tag_matches(std::string_view pattern, std::string_view tag) {
    const auto star = pattern.find('*');
    if (star == std::string_view::npos) {
        return pattern == tag;
    }
    if (tag.substr(0, star) != pattern.substr(0, star)) {
        return false;
    }
    const auto rest = pattern.substr(star + 1);
    for (std::size_t i = star; i <= tag.size(); ++i) {
        if (tag_matches(rest, tag.substr(i))) {
            return true;
        }
    }
    return false;
}

std::optional<std::int64_t> parse_time(std::string_view format, std::string_view text) {
    std::tm tm{};
    std::int64_t nanos = 0;
    std::size_t t = 0;
    auto digits = [&](std::size_t n, int& into) {
        if (t + n > text.size()) {
            return false;
        }
        into = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const char c = text[t + k];
            if (c < '0' || c > '9') {
                return false;
            }
            into = into * 10 + (c - '0');
        }
        t += n;
        return true;
    };
    for (std::size_t f = 0; f < format.size(); ++f) {
        if (format[f] != '%') {
            if (t >= text.size() || text[t] != format[f]) {
                return std::nullopt;
            }
            ++t;
            continue;
        }
        if (++f == format.size()) {
            throw ConfigError("Time_Format ends in %");
        }
        int v = 0;
        bool ok = true;
        switch (format[f]) {
            case 'Y':
                ok = digits(4, v);
                tm.tm_year = v - 1900;
                break;
            case 'm':
                ok = digits(2, v) && v >= 1 && v <= 12;
                tm.tm_mon = v - 1;
                break;
            case 'd':
                ok = digits(2, v) && v >= 1 && v <= 31;
                tm.tm_mday = v;
                break;
            case 'H':
                ok = digits(2, v) && v <= 23;
                tm.tm_hour = v;
                break;
            case 'M':
                ok = digits(2, v) && v <= 59;
                tm.tm_min = v;
                break;
            case 'S':
                ok = digits(2, v) && v <= 60;
                tm.tm_sec = v;
                break;
            case 'L': {  // Fluent Bit's fractional seconds: any number of digits
                std::int64_t scale = 100'000'000;
                const std::size_t start = t;
                while (t < text.size() && text[t] >= '0' && text[t] <= '9') {
                    nanos += (text[t] - '0') * scale;
                    scale /= 10;
                    ++t;
                }
                ok = t > start && t - start <= 9;
                break;
            }
            default:
                throw ConfigError(
                    std::string("Time_Format conversion %") + format[f] + " not reimplemented"
                );
        }
        if (!ok) {
            return std::nullopt;
        }
    }
    if (t != text.size()) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000 + nanos;
}

Pipeline Pipeline::load(const std::string& conf_dir, const Env& env) {
    Pipeline p;
    const std::string conf_file = conf_dir + "/fluent-bit.conf";
    const auto sections = read_classic(slurp(conf_file), conf_file);
    std::string parsers_file;
    std::string parser_name;
    bool have_input = false;
    for (const Section& s : sections) {
        Taker t(s, conf_file, env, p.referenced_);
        const std::string where = t.where(s.line);
        if (s.name == "SERVICE") {
            auto& st = p.settings_["service"];
            for (const char* k : {"Flush", "Grace", "HTTP_Port"}) {
                t.setting(k, st);
                positive_int(st[lower(k)], where);
            }
            for (const char* k : {"Log_Level", "HTTP_Listen", "storage.path", "storage.sync"}) {
                t.setting(k, st);
            }
            t.setting("HTTP_Server", st);
            on_off(st["http_server"], where);
            t.setting("storage.backlog.mem_limit", st);
            size_of(st["storage.backlog.mem_limit"], where);
            parsers_file = t.one("Parsers_File");
        } else if (s.name == "INPUT") {
            if (have_input || lower(t.one("Name")) != "tail") {
                throw ConfigError(where + ": one [INPUT], Name tail, is what is reimplemented");
            }
            have_input = true;
            auto& st = p.settings_["input"];
            p.input_tag_ = t.one("Tag");
            if (p.input_tag_.find('*') != std::string::npos) {
                throw ConfigError(
                    where + ": a tail Tag with * (file-name tags) is not reimplemented"
                );
            }
            p.input_path_ = t.one("Path");
            if (p.input_path_.find_first_of("*?[,") != std::string::npos) {
                throw ConfigError(where + ": Path must name one file");
            }
            parser_name = t.one("Parser");
            if (!on_off(t.one("Read_from_Head"), where)) {
                throw ConfigError(where + ": only Read_from_Head On is reimplemented");
            }
            p.buffer_max_size_ = size_of(t.one("Buffer_Max_Size"), where);
            p.skip_long_lines_ = on_off(t.one("Skip_Long_Lines"), where);
            for (const char* k : {"DB", "storage.type"}) {
                t.setting(k, st);
            }
            for (const char* k : {"Buffer_Chunk_Size", "Mem_Buf_Limit"}) {
                t.setting(k, st);
                size_of(st[lower(k)], where);
            }
        } else if (s.name == "FILTER") {
            const std::string name = lower(t.one("Name"));
            Filter f;
            f.match = t.one("Match");
            if (name == "rewrite_tag") {
                auto& st = p.settings_["rewrite_tag"];
                std::vector<RewriteRule> rules;
                for (const Entry& e : t.raw("Rule")) {
                    const std::string w = t.where(e.line);
                    if (e.value.find("${") != std::string::npos) {
                        throw ConfigError(w + ": ${VAR} in a rule is not reimplemented");
                    }
                    const auto parts = words(e.value);
                    if (parts.size() != 4 || parts[0].size() < 2 || parts[0][0] != '$' ||
                        !is_identifier(std::string_view(parts[0]).substr(1))) {
                        throw ConfigError(
                            w + ": Rule must be '$key REGEX TAG KEEP' with a top-level key"
                        );
                    }
                    if (!std::all_of(parts[1].begin(), parts[1].end(), [](unsigned char c) {
                            return std::isalnum(c) ||
                                   std::string_view("_.\\^$-").find(static_cast<char>(c)) !=
                                       std::string_view::npos;
                        })) {
                        throw ConfigError(
                            w + ": regex '" + parts[1] + "' uses syntax not reimplemented"
                        );
                    }
                    if (!is_identifier(parts[2])) {
                        throw ConfigError(w + ": new tag must be a literal");
                    }
                    const auto keep = lower(parts[3]);
                    if (keep != "true" && keep != "false") {
                        throw ConfigError(w + ": KEEP must be true or false");
                    }
                    rules.push_back(RewriteRule{
                        parts[0].substr(1), parts[1], parts[2], keep == "true"});
                }
                if (rules.empty()) {
                    throw ConfigError(where + ": rewrite_tag without Rule");
                }
                for (const auto& r : rules) {
                    // Fluent Bit warns of a loop when the new tag matches the filter again.
                    if (tag_matches(f.match, r.new_tag)) {
                        throw ConfigError(
                            where + ": new tag " + r.new_tag + " matches the filter's own Match"
                        );
                    }
                }
                f.rewrite = std::move(rules);
                t.setting("Emitter_Name", st);
                t.setting("Emitter_Storage.type", st);
                t.setting("Emitter_Mem_Buf_Limit", st);
                size_of(st["emitter_mem_buf_limit"], where);
            } else if (name == "modify") {
                // In file order, as Fluent Bit applies them.
                for (std::size_t i = 0; i < s.entries.size(); ++i) {
                    const auto k = lower(s.entries[i].key);
                    if (k != "add" && k != "set") {
                        continue;
                    }
                    std::set<std::string> scratch;
                    const auto value =
                        expand(s.entries[i].value, env, scratch, t.where(s.entries[i].line));
                    p.referenced_.insert(scratch.begin(), scratch.end());
                    const auto parts = words(value);
                    if (parts.size() != 2) {
                        throw ConfigError(
                            t.where(s.entries[i].line) + ": modify " + s.entries[i].key +
                            " needs KEY VALUE after expansion, got '" + value + "'"
                        );
                    }
                    f.modify.push_back(ModifyRule{k == "set", parts[0], parts[1]});
                }
                t.raw("Add");
                t.raw("Set");
                if (f.modify.empty()) {
                    throw ConfigError(where + ": modify without Add/Set");
                }
            } else {
                throw ConfigError(where + ": filter " + name + " is not reimplemented");
            }
            p.filters_.push_back(std::move(f));
        } else if (s.name == "OUTPUT") {
            if (lower(t.one("Name")) != "es") {
                throw ConfigError(where + ": only the es output is reimplemented");
            }
            Output o;
            o.match = t.one("Match");
            o.index = t.one("Index");
            o.time_key = t.one("Time_Key");
            o.time_key_format = t.one("Time_Key_Format");
            auto& st = p.settings_["output:" + o.index];
            for (const char* k : {"Host", "HTTP_User", "HTTP_Passwd"}) {
                t.setting(k, st);
            }
            t.setting("Port", st);
            for (const char* k : {"tls", "tls.verify", "Suppress_Type_Name", "Trace_Error"}) {
                t.setting(k, st);
                on_off(st[lower(k)], where);
            }
            t.setting("Retry_Limit", st);
            positive_int(st["retry_limit"], where);
            t.setting("storage.total_limit_size", st);
            size_of(st["storage.total_limit_size"], where);
            p.outputs_.push_back(std::move(o));
        } else {
            throw ConfigError(where + ": [" + s.name + "] does not belong in fluent-bit.conf");
        }
        t.finish();
    }
    if (!have_input || p.outputs_.empty()) {
        throw ConfigError(conf_file + ": needs an [INPUT] and an [OUTPUT]");
    }
    if (parsers_file.find('/') != std::string::npos) {
        throw ConfigError(conf_file + ": Parsers_File must sit next to fluent-bit.conf");
    }
    const std::string pfile = conf_dir + "/" + parsers_file;
    bool found = false;
    for (const Section& s : read_classic(slurp(pfile), pfile)) {
        Taker t(s, pfile, env, p.referenced_);
        if (s.name != "PARSER") {
            throw ConfigError(
                t.where(s.line) + ": only [PARSER] sections belong in " + parsers_file
            );
        }
        if (t.one("Name") != parser_name || found) {
            throw ConfigError(
                t.where(s.line) + ": one parser, the one the input names, is reimplemented"
            );
        }
        found = true;
        if (lower(t.one("Format")) != "json") {
            throw ConfigError(t.where(s.line) + ": only Format json is reimplemented");
        }
        p.time_key_ = t.one("Time_Key");
        p.time_format_ = t.one("Time_Format");
        parse_time(p.time_format_, "");  // refuses conversions not reimplemented
        p.time_keep_ = on_off(t.one("Time_Keep"), t.where(s.line));
        p.settings_["parser"] = {
            {"name", parser_name}, {"time_key", p.time_key_}, {"time_format", p.time_format_}};
        t.finish();
    }
    if (!found) {
        throw ConfigError(pfile + ": parser " + parser_name + " not found");
    }
    return p;
}

std::vector<std::string> Pipeline::output_indices() const {
    std::vector<std::string> out;
    for (const auto& o : outputs_) {
        out.push_back(o.index);
    }
    return out;
}

RunResult Pipeline::run() const { return run_content(slurp(input_path_)); }

RunResult Pipeline::run_content(std::string_view content) const {
    RunResult out;
    std::size_t pos = 0;
    while (pos < content.size()) {
        const auto nl = content.find('\n', pos);
        if (nl == std::string_view::npos) {
            out.pending_bytes = content.size() - pos;
            break;
        }
        std::string_view line = content.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            continue;  // tail emits no record for an empty line
        }
        ++out.lines;
        if (line.size() + 1 > buffer_max_size_) {
            if (!skip_long_lines_) {
                out.stopped_on_long_line = true;  // tail stops reading this file
                break;
            }
            ++out.skipped_long;
            continue;
        }
        Delivered proto;
        proto.source_line = std::string(line);
        boost::json::object body;
        // The ingestion time when the line has no usable time, as Fluent Bit does.
        std::int64_t time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()
        )
                                   .count();
        boost::system::error_code ec;
        boost::json::value v = boost::json::parse(line, ec);
        if (!ec && v.is_object()) {
            proto.parsed = true;
            body = std::move(v.as_object());
            if (auto* tv = body.if_contains(time_key_); tv != nullptr && tv->is_string()) {
                if (auto t = parse_time(time_format_, tv->as_string())) {
                    time_ns = *t;
                    proto.time_from_line = true;
                    if (!time_keep_) {
                        body.stable_erase(time_key_);  // the other keys keep their order
                    }
                }
            }
        } else {
            body["log"] = std::string(line);  // tail keeps an unparsed line whole
        }
        route(input_tag_, std::move(body), time_ns, proto, out, 0);
    }
    return out;
}

void Pipeline::route(
    std::string tag,
    boost::json::object body,
    std::int64_t time_ns,
    const Delivered& proto,
    RunResult& out,
    int depth
) const {
    if (depth > 4) {
        throw ConfigError("rewrite_tag loop for tag " + tag);
    }
    for (const Filter& f : filters_) {
        if (!tag_matches(f.match, tag)) {
            continue;
        }
        if (f.rewrite) {
            for (const RewriteRule& r : *f.rewrite) {
                const auto* v = body.if_contains(r.key);
                if (v == nullptr || !v->is_string()) {
                    continue;
                }
                const std::string s(v->as_string());
                if (!std::regex_search(s, std::regex(r.regex))) {
                    continue;
                }
                // Re-emitted under the new tag from the start of the pipeline.
                route(r.new_tag, body, time_ns, proto, out, depth + 1);
                if (!r.keep) {
                    return;
                }
                break;  // the first matching rule wins
            }
        }
        for (const ModifyRule& m : f.modify) {
            if (m.set || !body.contains(m.key)) {
                body[m.key] = m.value;
            }
        }
    }
    bool routed = false;
    for (const Output& o : outputs_) {
        if (!tag_matches(o.match, tag)) {
            continue;
        }
        routed = true;
        Delivered d = proto;
        d.tag = tag;
        d.index = o.index;
        d.doc = body;
        // es: Time_Key from the record's time, Time_Key_Format then ".%03luZ".
        const std::time_t secs = static_cast<std::time_t>(time_ns / 1'000'000'000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char buf[64];
        const std::size_t n = std::strftime(buf, sizeof buf, o.time_key_format.c_str(), &tm);
        char ms[8];
        std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>((time_ns / 1'000'000) % 1000));
        if (d.doc.contains(o.time_key)) {
            throw ConfigError("record already has " + o.time_key + ": es would send it twice");
        }
        d.doc[o.time_key] = std::string(buf, n) + ms;
        out.delivered.push_back(std::move(d));
    }
    if (!routed) {
        ++out.unrouted;
    }
}

}  // namespace moneta::testing::flb
