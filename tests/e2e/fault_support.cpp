#include "fault_support.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "moneta/testing/support.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::size_t kSamplesPerConn = 1;
constexpr std::size_t kHistory = 6;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

std::string two_digits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

/// Shortest text that parses back to the same double (what a player's JSON encoder sends).
std::string seconds_text(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

testing::HttpHeaders auth(const std::string& token) {
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
}

void merge(WarmCounts& into, const WarmCounts& from) {
    into.heartbeats += from.heartbeats;
    into.heartbeats_ok += from.heartbeats_ok;
    into.starts += from.starts;
    into.starts_ok += from.starts_ok;
    for (const auto& [what, n] : from.failures) {
        into.failures[what] += n;
    }
    into.samples.insert(into.samples.end(), from.samples.begin(), from.samples.end());
}

std::string answer_of(const testing::HttpReply& r) {
    if (!r.ok()) {
        return "0 transport";
    }
    const std::string code = error_code(r.body);
    return std::to_string(r.status) + (code.empty() ? "" : " " + code);
}

}  // namespace

std::string WarmCounts::summary() const {
    std::ostringstream out;
    out << "heartbeats " << heartbeats_ok << "/" << heartbeats << " ok, starts " << starts_ok << "/"
        << starts << " ok";
    for (const auto& [what, n] : failures) {
        out << "; " << what << " ×" << n;
    }
    return out.str();
}

WarmWorkload::WarmWorkload(std::vector<Viewer>& viewers, std::size_t connections)
    : viewers_(viewers),
      needs_start_(viewers.size(), 0),
      history_(viewers.size()),
      sessions_(viewers.size()),
      conns_(connections) {
    for (std::size_t i = 0; i < viewers.size(); ++i) {
        conns_[i % connections].viewers.push_back(i);
    }
}

testing::LoadSpec WarmWorkload::spec(std::uint16_t port, std::chrono::milliseconds duration) {
    testing::LoadSpec s;
    s.port = port;
    s.connections = conns_.size();
    s.duration = duration;
    s.request = [this](std::size_t conn, std::uint64_t) { return request(conn); };
    s.on_response = [this](std::size_t conn, std::uint64_t, const testing::HttpReply& r) {
        on_response(conn, r);
    };
    return s;
}

testing::LoadRequest WarmWorkload::request(std::size_t conn_index) {
    Conn& c = conns_[conn_index];
    const std::size_t vi = c.viewers[c.next++ % c.viewers.size()];
    // One start per four heartbeats, spread over the viewers of this connection.
    const bool start_now = needs_start_[vi] != 0 || c.sent_count++ % 5 == 4;
    return start_now ? start(c, vi) : heartbeat(c, vi);
}

testing::LoadRequest WarmWorkload::start(Conn& c, std::size_t vi) {
    const Viewer& v = viewers_[vi];
    c.last = Sent{vi, true, 0, 0};
    return {"POST", "/v1/playback/sessions", start_body(v), auth(v.token)};
}

testing::LoadRequest WarmWorkload::heartbeat(Conn& c, std::size_t vi) {
    Viewer& v = viewers_[vi];
    c.last = Sent{vi, false, 0, 0};
    // 0.1 s per heartbeat keeps every position far below the credits (no "completed" flip).
    ++v.tenths;
    ++v.seq;
    c.last.seq = v.seq;
    c.last.tenths = v.tenths;
    const std::string body = R"({"position_sec":)" +
                             seconds_text(static_cast<double>(v.tenths) / 10.0) +
                             R"(,"state":"playing","seq":)" + std::to_string(v.seq) + "}";
    return {"POST", "/v1/playback/sessions/" + v.session_id + "/heartbeat", body, auth(v.token)};
}

void WarmWorkload::on_response(std::size_t conn_index, const testing::HttpReply& r) {
    Conn& c = conns_[conn_index];
    Viewer& v = viewers_[c.last.viewer];
    WarmCounts& k = c.counts;
    const std::string old_session = v.session_id;
    bool ok = false;
    if (c.last.start) {
        ++k.starts;
        if (r.status == 201) {
            boost::system::error_code ec;
            const json::value body = json::parse(r.body, ec);
            const json::object* o = ec ? nullptr : body.if_object();
            const json::value* sid = o != nullptr ? o->if_contains("session_id") : nullptr;
            if (sid != nullptr && sid->is_string()) {
                v.session_id = std::string(sid->as_string());
                sessions_[c.last.viewer][v.session_id] = wall_ms();
                needs_start_[c.last.viewer] = 0;
                ++k.starts_ok;
                ok = true;
            }
        } else {
            // A failed (or timed-out) start may have replaced the old session: start again.
            needs_start_[c.last.viewer] = 1;
        }
    } else {
        ++k.heartbeats;
        if (r.status == 200) {
            v.acked_seq = c.last.seq;
            v.acked_position = static_cast<double>(c.last.tenths) / 10.0;
            ++k.heartbeats_ok;
            ok = true;
        } else if (r.status == 404 || r.status == 409) {
            needs_start_[c.last.viewer] = 1;
        }
    }
    std::deque<std::string>& h = history_[c.last.viewer];
    h.push_back(
        std::to_string(wall_ms()) +
        (c.last.start ? " start → " + answer_of(r) + (ok ? " " + v.session_id : "")
                      : " heartbeat " + old_session + " seq " + std::to_string(c.last.seq) + " → " +
                            answer_of(r))
    );
    if (h.size() > kHistory) {
        h.pop_front();
    }
    if (!ok) {
        ++k.failures[std::string(c.last.start ? "start " : "heartbeat ") + answer_of(r)];
        if (k.samples.size() < kSamplesPerConn) {
            std::string recent;
            for (const std::string& e : h) {
                recent += "\n      " + e;
            }
            k.samples.push_back(
                (c.last.start ? "start " : "heartbeat ") + v.profile + ": " +
                (r.ok() ? std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error) +
                "; its last answers:" + recent
            );
        }
    }
}

WarmCounts WarmWorkload::take_counts() {
    WarmCounts out;
    for (Conn& c : conns_) {
        merge(out, c.counts);
        c.counts = WarmCounts{};
    }
    return out;
}

WarmCounts WarmWorkload::heartbeat_each(std::uint16_t port) {
    auto send = [&](std::size_t vi, bool as_start) {
        const std::size_t owner = vi % conns_.size();  // the constructor's split
        Conn& c = conns_[owner];
        const testing::LoadRequest req = as_start ? start(c, vi) : heartbeat(c, vi);
        on_response(
            owner, testing::http_call(port, req.method, req.target, req.body, req.headers, 10s)
        );
    };
    for (std::size_t vi = 0; vi < viewers_.size(); ++vi) {
        if (needs_start_[vi] == 0) {
            send(vi, false);
        }
        if (needs_start_[vi] != 0) {
            send(vi, true);
        }
    }
    return take_counts();
}

std::string WarmWorkload::session_origin(std::size_t viewer, const std::string& session_id) const {
    const auto& mine = sessions_[viewer];
    const auto it = mine.find(session_id);
    return it == mine.end() ? "not a session of this viewer"
                            : "started at " + std::to_string(it->second);
}

std::vector<std::size_t> WarmWorkload::needing_start() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < needs_start_.size(); ++i) {
        if (needs_start_[i] != 0) {
            out.push_back(i);
        }
    }
    return out;
}

std::string error_code(const std::string& body) {
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* e = o != nullptr ? o->if_contains("error") : nullptr;
    const json::value* code =
        e != nullptr && e->is_object() ? e->as_object().if_contains("code") : nullptr;
    return code != nullptr && code->is_string() ? std::string(code->as_string()) : std::string();
}

std::string upstream_error_problem(const testing::HttpReply& r) {
    if (!r.ok()) {
        return "transport: " + r.error;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(r.body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* e = o != nullptr ? o->if_contains("error") : nullptr;
    const json::object* err = e != nullptr ? e->if_object() : nullptr;
    if (err == nullptr || !o->contains("server_time_ms") || !o->at("server_time_ms").is_int64()) {
        return std::to_string(r.status) + " without the api.md error body: " + r.body;
    }
    const json::value* code = err->if_contains("code");
    const json::value* message = err->if_contains("message");
    const json::value* retryable = err->if_contains("retryable");
    if (code == nullptr || !code->is_string() || message == nullptr || !message->is_string() ||
        retryable == nullptr || !retryable->is_bool() || !err->contains("details")) {
        return "malformed error object: " + r.body;
    }
    const std::string c(code->as_string());
    const bool code_fits =
        (r.status == 502 && c == "UPSTREAM_ERROR") ||
        (r.status == 503 && (c == "UPSTREAM_UNAVAILABLE" || c == "OVERLOADED")) ||
        (r.status == 504 && c == "UPSTREAM_TIMEOUT");
    if (!code_fits) {
        return "unexpected answer " + std::to_string(r.status) + " " + c + ": " + r.body;
    }
    if (!retryable->as_bool()) {
        return c + " not retryable";
    }
    if (r.status == 503) {
        const auto ra = r.header("Retry-After");
        int seconds = 0;
        if (!ra ||
            std::from_chars(ra->data(), ra->data() + ra->size(), seconds).ec != std::errc() ||
            seconds < 1) {
            return "503 " + c + " without a valid Retry-After (" + ra.value_or("absent") + ")";
        }
    }
    return {};
}

void add_cold_content(const std::filesystem::path& fixtures) {
    json::value doc = json::parse(testing::read_file(fixtures));
    json::array& contents = doc.at("contents").as_array();
    json::object cold = contents.front().as_object();  // nl_c1
    const std::string id(kColdContent);
    cold["id"] = id;
    cold["title"] = "Fault-suite cold title";
    cold["drm_cid"] = id;
    cold["renditions"].as_array().front().as_object()["path"] =
        "/vod/" + id + "/avc_1080/manifest.mpd";
    contents.push_back(std::move(cold));
    std::ofstream(fixtures, std::ios::trunc) << json::serialize(doc);
}

ColdResult cold_start(testing::Stack& stack, int n) {
    const int a = kFirstColdAccount + n % kColdAccounts;
    const std::string account = "nl_a" + two_digits(a);
    Viewer v;
    v.account = account;
    v.profile = "nl_p" + two_digits(a) + "_1";
    v.content = std::string(kColdContent);
    v.device = "fi-cold-" + two_digits(a);
    stack.redis_cmd({"DEL", testing::account_key("ent:", account), "content:{c:" + v.content + "}"});
    const auto t0 = std::chrono::steady_clock::now();
    ColdResult out;
    out.reply = testing::http_call(
        stack.moneta_port(),
        "POST",
        "/v1/playback/sessions",
        start_body(v),
        auth(stack.token(v.account, v.profile)),
        10s
    );
    out.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0
    );
    return out;
}

void ColdTally::add(const ColdResult& r) {
    ++total;
    ++by_answer[answer_of(r.reply)];
    if (r.reply.status == 201) {
        ++created;
        return;
    }
    if (std::string p = upstream_error_problem(r.reply); !p.empty()) {
        problems.push_back(std::move(p));
    }
}

std::string ColdTally::summary() const {
    std::ostringstream out;
    out << "cold " << created << "/" << total << " created";
    for (const auto& [what, n] : by_answer) {
        out << "; " << what << " ×" << n;
    }
    return out.str();
}

std::string format_table(const std::vector<PhaseRow>& rows) {
    std::ostringstream out;
    char line[256];
    std::snprintf(
        line,
        sizeof line,
        "%-22s %8s %9s %8s %8s %8s %8s %5s %7s %7s %9s\n",
        "mode",
        "requests",
        "success%",
        "p50 ms",
        "p99 ms",
        "p99/hlt",
        "cpu us/r",
        "fds",
        "RSS MB",
        "cold ok",
        "recover s"
    );
    out << line;
    for (const PhaseRow& r : rows) {
        char recovery[16] = "-";
        if (r.recovery_s >= 0) {
            std::snprintf(recovery, sizeof recovery, "%.1f", r.recovery_s);
        }
        std::snprintf(
            line,
            sizeof line,
            "%-22s %8llu %9.2f %8.1f %8.1f %8.2f %8.0f %5zu %7.0f %7s %9s\n",
            r.mode.c_str(),
            static_cast<unsigned long long>(r.requests),
            r.success_pct,
            r.p50_ms,
            r.p99_ms,
            r.p99_ratio,
            r.cpu_us_per_request,
            r.fds,
            r.rss_mb,
            r.cold.c_str(),
            recovery
        );
        out << line;
    }
    return out.str();
}

}  // namespace moneta::e2e
