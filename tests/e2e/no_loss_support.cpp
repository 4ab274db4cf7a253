#include "no_loss_support.hpp"
#include "moneta/testing/moneta_keys.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace moneta::e2e {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string two_digits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

/// Shortest text that parses back to @p v (what a JSON encoder of a player would send).
std::string seconds_text(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

testing::HttpHeaders auth_headers(const Viewer& v) {
    return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + v.token}};
}

/// splitmix64: the same steps on every platform and thread.
std::uint64_t next_random(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::string str(const testing::HttpReply& r) {
    return r.ok() ? std::to_string(r.status) + " " + r.body : "transport: " + r.error;
}

std::int64_t to_int(const std::string& s) {
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() ? v : -1;
}

}  // namespace

std::string start_body(const Viewer& v) {
    return R"({"content_id":")" + v.content + R"(","device":{"id":")" + v.device +
           R"(","type":"tv","name":"Test TV"},)"
           R"("capabilities":{"protocols":["dash"],"drm":["widevine"],"video_codecs":["avc"],"max_height":1080},)"
           R"("resume":"auto"})";
}


void write_fixtures(const std::filesystem::path& path) {
    json::array plans{
        json::object{
            {"id", "basic"},
            {"rank", 1},
            {"max_streams", 1},
            {"max_height", 720},
            {"uhd", false},
            {"hdr", false}},
        json::object{
            {"id", "premium"},
            {"rank", 3},
            {"max_streams", 4},
            {"max_height", 2160},
            {"uhd", true},
            {"hdr", true}}};
    json::array accounts;
    for (int i = 1; i <= kFixtureAccounts; ++i) {
        const std::string n = two_digits(i);
        accounts.push_back(json::object{
            {"id", "nl_a" + n},
            {"status", "active"},
            {"plan", "premium"},
            {"paid_until_ms", std::int64_t{4102444800000}},
            {"country", "KR"},
            {"profiles",
             json::array{
                 json::object{{"id", "nl_p" + n + "_1"}, {"name", "One"}, {"max_age_rating", 19}},
                 json::object{{"id", "nl_p" + n + "_2"}, {"name", "Two"}, {"max_age_rating", 19}}}}}
        );
    }
    json::array contents;
    for (int i = 1; i <= kFixtureContents; ++i) {
        const std::string id = "nl_c" + std::to_string(i);
        const std::string base = "/vod/" + id + "/";
        contents.push_back(json::object{
            {"id", id},
            {"kind", "movie"},
            {"title", "No-loss title " + std::to_string(i)},
            {"duration_sec", kContentDurationSec},
            {"credits_start_sec", kContentDurationSec - 200},
            {"window_start_ms", 0},
            {"window_end_ms", nullptr},
            {"geo_allow", nullptr},
            {"min_plan", "basic"},
            {"age_rating", 0},
            {"next_content_id", nullptr},
            {"drm_cid", id},
            {"renditions",
             json::array{json::object{
                 {"protocol", "dash"},
                 {"drm", json::array{"widevine"}},
                 {"video_codec", "avc"},
                 {"max_height", 1080},
                 {"hdr", nullptr},
                 {"path", base + "avc_1080/manifest.mpd"}}}},
            {"audio", json::array{json::object{{"lang", "ko"}, {"codec", "aac"}, {"channels", 2}}}},
            {"subtitles", json::array{}}});
    }
    std::ofstream out(path, std::ios::trunc);
    out << json::serialize(json::object{
        {"plans", std::move(plans)},
        {"accounts", std::move(accounts)},
        {"contents", std::move(contents)},
        {"progress", json::array{}}});
}

std::vector<Viewer> make_viewers(
    const testing::Stack& stack, int first_account, int accounts, std::uint64_t seed
) {
    std::vector<Viewer> out;
    for (int a = first_account + 1; a <= first_account + accounts; ++a) {
        for (int p = 1; p <= 2; ++p) {
            Viewer v;
            v.account = "nl_a" + two_digits(a);
            v.profile = "nl_p" + two_digits(a) + "_" + std::to_string(p);
            v.content = "nl_c" + std::to_string(1 + (2 * a + p) % kFixtureContents);
            v.device = "nl-dev-" + two_digits(a) + "-" + std::to_string(p);
            v.token = stack.token(v.account, v.profile, 3600);
            v.rng = seed * 1000 + static_cast<std::uint64_t>(out.size());
            v.tenths = 10 * static_cast<std::int64_t>(
                                1 + next_random(v.rng) % 60
                            );  // somewhere in the first minute
            out.push_back(std::move(v));
        }
    }
    return out;
}

std::string WriteStats::summary() const {
    return "attempts=" + std::to_string(attempts.load()) + " acks=" + std::to_string(acks.load()) +
           " transport_errors=" + std::to_string(transport_errors.load()) +
           " server_errors=" + std::to_string(server_errors.load());
}

::testing::AssertionResult start_sessions(std::uint16_t port, std::vector<Viewer>& viewers) {
    for (Viewer& v : viewers) {
        testing::HttpReply r;
        for (int attempt = 0; attempt < 20; ++attempt) {
            r = testing::http_call(
                port, "POST", "/v1/playback/sessions", start_body(v), auth_headers(v), 10s
            );
            if (r.status == 201 || (r.ok() && r.status < 500)) {
                break;
            }
        }
        if (r.status != 201) {
            return ::testing::AssertionFailure()
                   << "start " << v.account << "/" << v.profile << ": " << str(r);
        }
        boost::system::error_code ec;
        const json::value body = json::parse(r.body, ec);
        if (ec || !body.is_object() || !body.as_object().contains("session_id")) {
            return ::testing::AssertionFailure() << "start: bad body " << r.body;
        }
        v.session_id = std::string(body.at("session_id").as_string());
    }
    return ::testing::AssertionSuccess();
}

WriterPool::WriterPool(
    std::uint16_t port, std::vector<Viewer>& viewers, WritePlan plan, WriteStats& stats
)
    : port_(port),
      viewers_(viewers),
      plan_(plan),
      stats_(stats),
      planned_(
          viewers.size() * static_cast<std::uint64_t>(
                               plan.last_round - plan.first_round + 1 + (plan.stop_at_end ? 1 : 0)
                           )
      ),
      deadline_(std::chrono::steady_clock::now() + plan.budget) {
    for (int t = 0; t < plan_.threads; ++t) {
        threads_.emplace_back([this, t] { run(static_cast<std::size_t>(t)); });
    }
}

WriterPool::~WriterPool() {
    abort_.store(true);
    for (std::thread& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
}

::testing::AssertionResult WriterPool::join() {
    for (std::thread& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    std::lock_guard lock(mu_);
    if (!error_.empty()) {
        return ::testing::AssertionFailure() << error_;
    }
    return ::testing::AssertionSuccess();
}

void WriterPool::fail(std::string what) {
    std::lock_guard lock(mu_);
    if (error_.empty()) {
        error_ = std::move(what);
    }
}

bool WriterPool::send(Viewer& v, const std::string& target, const std::string& body, int expected) {
    while (!abort_.load()) {
        if (std::chrono::steady_clock::now() > deadline_) {
            fail("out of time writing " + target + " " + body);
            return false;
        }
        ++stats_.attempts;
        const testing::HttpReply r =
            testing::http_call(port_, "POST", target, body, auth_headers(v), 5s);
        if (r.status == expected) {
            ++stats_.acks;
            return true;
        }
        if (!r.ok()) {
            ++stats_.transport_errors;
        } else if (r.status >= 500) {
            ++stats_.server_errors;
        } else {
            fail(v.account + "/" + v.profile + " " + target + " " + body + " → " + str(r));
            return false;
        }
        // A player's retry delay, not a wait for some state: the retry loop itself is bounded.
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

void WriterPool::run(std::size_t index) {
    std::vector<Viewer*> mine;
    for (std::size_t i = index; i < viewers_.size(); i += static_cast<std::size_t>(plan_.threads)) {
        mine.push_back(&viewers_[i]);
    }
    auto write = [&](Viewer& v, bool stop) {
        v.tenths += static_cast<std::int64_t>(1 + next_random(v.rng) % 100);  // 0.1 … 10 s further
        ++v.seq;
        const double pos = static_cast<double>(v.tenths) / 10.0;
        v.sent[v.seq] = pos;
        const std::string base = "/v1/playback/sessions/" + v.session_id;
        const std::string body =
            R"({"position_sec":)" + seconds_text(pos) +
            (stop ? R"(,"reason":"user","seq":)" : R"(,"state":"playing","seq":)") +
            std::to_string(v.seq) + "}";
        if (!send(v, base + (stop ? "/stop" : "/heartbeat"), body, stop ? 204 : 200)) {
            return false;
        }
        v.acked_seq = v.seq;
        v.acked_position = pos;
        return true;
    };
    for (int round = plan_.first_round; round <= plan_.last_round; ++round) {
        for (Viewer* v : mine) {
            if (!write(*v, false)) {
                return;
            }
        }
    }
    if (plan_.stop_at_end) {
        for (Viewer* v : mine) {
            if (!write(*v, true)) {
                return;
            }
        }
    }
}

boost::system::result<ProgressRows, std::string> read_sqlite_progress(
    const std::filesystem::path& db
) {
    sqlite3* conn = nullptr;
    if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string msg = conn != nullptr ? sqlite3_errmsg(conn) : "out of memory";
        sqlite3_close(conn);
        return {boost::system::in_place_error, msg};
    }
    sqlite3_busy_timeout(conn, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(
            conn,
            "SELECT profile_id, content_id, position_sec, updated_at_ms, seq, completed FROM "
            "progress",
            -1,
            &st,
            nullptr
        ) != SQLITE_OK) {
        std::string msg = sqlite3_errmsg(conn);
        sqlite3_close(conn);
        return {boost::system::in_place_error, msg};
    }
    ProgressRows rows;
    int rc = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auto text = [&](int col) {
            return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, col)));
        };
        rows[{text(0), text(1)}] = StoredProgress{
            sqlite3_column_double(st, 2),
            sqlite3_column_int64(st, 3),
            sqlite3_column_int64(st, 4),
            sqlite3_column_int(st, 5) != 0};
    }
    std::string msg = rc == SQLITE_DONE ? std::string() : sqlite3_errmsg(conn);
    sqlite3_finalize(st);
    sqlite3_close(conn);
    if (!msg.empty()) {
        return {boost::system::in_place_error, msg};
    }
    return rows;
}

std::optional<StoredProgress> read_redis_progress(testing::Stack& stack, const Viewer& v) {
    const std::string raw =
        stack.redis_cmd({"HGET", testing::account_key("prog:", v.account, ":") + v.profile, v.content});
    std::vector<std::string> parts;
    std::stringstream in(raw);
    for (std::string part; std::getline(in, part, '|');) {
        parts.push_back(part);
    }
    if (parts.size() < 5) {
        return std::nullopt;
    }
    StoredProgress p;
    const auto r =
        std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), p.position_sec);
    if (r.ec != std::errc()) {
        return std::nullopt;
    }
    p.updated_at_ms = to_int(parts[2]);
    p.seq = to_int(parts[3]);
    p.completed = parts[4] == "1";
    return p;
}

bool write_behind_ready(testing::Stack& stack) {
    for (int partition = 0; partition < testing::kPartitions; ++partition) {
        const auto groups =
            stack.redis_list({"XINFO", "GROUPS", testing::partition_key("progq:", partition)}
            );
        if (std::find(groups.begin(), groups.end(), "flush") == groups.end()) {
            return false;
        }
    }
    return true;
}

std::int64_t pending_markers(testing::Stack& stack) {
    std::int64_t n = 0;
    for (int partition = 0; partition < testing::kPartitions; ++partition) {
        const auto summary = stack.redis_list(
            {"XPENDING", testing::partition_key("progq:", partition), "flush"}
        );
        n += summary.empty() ? 0 : to_int(summary.front());
    }
    return n;
}

std::int64_t queued_markers(testing::Stack& stack) {
    std::int64_t n = 0;
    for (int partition = 0; partition < testing::kPartitions; ++partition) {
        n += to_int(stack.redis_cmd({"XLEN", testing::partition_key("progq:", partition)}));
    }
    return n;
}

std::int64_t dirty_entries(testing::Stack& stack, const std::vector<Viewer>& viewers) {
    std::set<std::string> accounts;
    for (const Viewer& v : viewers) {
        accounts.insert(v.account);
    }
    std::int64_t n = 0;
    for (const std::string& a : accounts) {
        n += to_int(stack.redis_cmd({"HLEN", testing::account_key("dirty:", a)}));
    }
    return n;
}

std::string sqlite_mismatches(const ProgressRows& rows, const std::vector<Viewer>& viewers) {
    std::ostringstream out;
    int shown = 0;
    std::size_t wrong = 0;
    for (const Viewer& v : viewers) {
        const auto it = rows.find({v.profile, v.content});
        std::string diff;
        if (it == rows.end()) {
            diff = "missing";
        } else if (it->second.position_sec != v.acked_position || it->second.seq != v.acked_seq) {
            diff = "has " + seconds_text(it->second.position_sec) + " seq " +
                   std::to_string(it->second.seq);
        }
        if (!diff.empty()) {
            ++wrong;
            if (shown++ < 5) {
                out << v.profile << "/" << v.content << ": want " << seconds_text(v.acked_position)
                    << " seq " << v.acked_seq << ", " << diff << "; ";
            }
        }
    }
    if (rows_of(rows, viewers) != viewers.size()) {
        out << rows_of(rows, viewers) << " rows for " << viewers.size() << " viewers; ";
        ++wrong;
    }
    return wrong == 0 ? std::string() : std::to_string(wrong) + " wrong: " + out.str();
}

std::size_t rows_of(const ProgressRows& rows, const std::vector<Viewer>& viewers) {
    std::set<std::string> profiles;
    for (const Viewer& v : viewers) {
        profiles.insert(v.profile);
    }
    std::size_t n = 0;
    for (const auto& [key, row] : rows) {
        n += profiles.count(key.first);
    }
    return n;
}

std::string internal_api_mismatches(
    const testing::Stack& stack, const std::vector<Viewer>& viewers
) {
    std::ostringstream out;
    for (const Viewer& v : viewers) {
        const testing::HttpReply r = stack.call_internal(
            "GET", "/internal/v1/profiles/" + v.profile + "/progress?content_ids=" + v.content
        );
        boost::system::error_code ec;
        const json::value body = json::parse(r.body, ec);
        const json::array* items = !ec && body.is_object() && body.as_object().contains("items")
                                       ? body.at("items").if_array()
                                       : nullptr;
        if (r.status != 200 || items == nullptr || items->size() != 1) {
            out << v.profile << "/" << v.content << ": " << str(r) << "; ";
            continue;
        }
        const json::object& item = items->front().as_object();
        const double pos = item.at("position_sec").to_number<double>();
        const std::int64_t seq = item.at("seq").to_number<std::int64_t>();
        if (pos != v.acked_position || seq != v.acked_seq) {
            out << v.profile << "/" << v.content << ": want " << seconds_text(v.acked_position)
                << " seq " << v.acked_seq << ", served " << seconds_text(pos) << " seq " << seq
                << "; ";
        }
    }
    return out.str();
}

}  // namespace moneta::e2e
