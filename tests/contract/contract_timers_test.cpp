// The time-based rules of api.md §5.2/§6 on stacks with short timers: lease expiry
// (MONETA_LEASE_SEC=5, the config's minimum, and MONETA_HEARTBEAT_SEC=1), progress kept for
// lapsed sessions, the write-behind reaching the internal API (MONETA_PROGRESS_FLUSH_MS=300,
// MONETA_PROGRESS_FLUSH_HOLD_MS=1500), a
// title leaving its window or a subscription lapsing mid-playback, and the per-account start
// rate limit (MONETA_START_RATE_PER_MIN=5). Every wait is bounded polling of the real state.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <tuple>

#include "contract_support.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::contract {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// 5 s, not 3: moneta's config loader rejects playback.lease_sec below 5 (settings.cpp).
constexpr int kLeaseSec = 5;
constexpr std::int64_t kLeaseMs = kLeaseSec * 1000;
// How long after the suite writes its fixtures c_closing leaves its window: long enough for
// the stack to start (seconds under ASan), short enough to wait for.
constexpr std::int64_t kClosingAfterMs = 15'000;

// How long a playing title's heartbeats are held before the write-behind sends them.
constexpr std::int64_t kHoldMs = 1500;

class ShortLeaseContract : public ContractTest {
protected:
    static void SetUpTestSuite() {
        testing::StackOptions o;
        o.moneta_env = {
            {"MONETA_LEASE_SEC", std::to_string(kLeaseSec)},
            {"MONETA_HEARTBEAT_SEC", "1"},
            {"MONETA_PROGRESS_FLUSH_MS", "300"},
            {"MONETA_PROGRESS_FLUSH_HOLD_MS", std::to_string(kHoldMs)}};
        boot(std::move(o));
    }
    static void TearDownTestSuite() { shutdown(); }

    /// Polls the account's session list until it is empty, checking on every answer that a
    /// lease is never gone before @p expires_at_ms nor listed after it.
    static ::testing::AssertionResult wait_until_lapsed(
        const std::string& token, std::int64_t expires_at_ms
    ) {
        std::string violation;
        auto ok = testing::wait_until(
            [&] {
                const HttpReply r = list(token);
                const json::object o = parse_object(r);
                if (r.status != 200 || !o.contains("sessions")) {
                    violation = "list failed: " + r.body;
                    return true;
                }
                const bool empty = o.at("sessions").as_array().empty();
                const std::int64_t t = o.at("server_time_ms").as_int64();
                if (empty && t < expires_at_ms) {
                    violation =
                        "the lease was gone " + std::to_string(expires_at_ms - t) + " ms early";
                }
                return empty;
            },
            std::chrono::milliseconds(kLeaseMs + 10'000),
            "the lease lapsed"
        );
        if (!violation.empty()) {
            return ::testing::AssertionFailure() << violation;
        }
        return ok;
    }
};

/// Its own stack: the deadline below is measured from this suite's start, so it holds in any
/// test order.
class DeadlineContract : public ContractTest {
protected:
    static void SetUpTestSuite() {
        fixtures_dir_.emplace("contract-fixtures-");
        closing_at_ms_ = now_ms() + kClosingAfterMs;
        const std::filesystem::path file = fixtures_dir_->file("fixtures.json");
        if (!write_fixtures(file, closing_at_ms_)) {
            FAIL() << "cannot write " << file;
        }
        testing::StackOptions o;
        o.fixtures = file;
        o.moneta_env = {
            {"MONETA_LEASE_SEC", std::to_string(kLeaseSec)}, {"MONETA_HEARTBEAT_SEC", "1"}};
        boot(std::move(o));
    }
    static void TearDownTestSuite() {
        shutdown();
        fixtures_dir_.reset();
    }

    /// fixtures.json plus c_closing (c_main's twin whose window ends at @p deadline_ms) and
    /// k_lapsing (a premium account paid until @p deadline_ms).
    static bool write_fixtures(const std::filesystem::path& file, std::int64_t deadline_ms) {
        json::object doc = json::parse(testing::read_file(contract_fixtures())).as_object();
        json::array& contents = doc["contents"].as_array();
        json::object closing;
        for (const json::value& c : contents) {
            if (c.at("id") == json::value("c_main")) {
                closing = c.as_object();
            }
        }
        if (closing.empty()) {
            return false;
        }
        closing["id"] = "c_closing";
        closing["drm_cid"] = "c_closing";
        closing["geo_allow"] = nullptr;
        closing["window_end_ms"] = deadline_ms;
        contents.push_back(std::move(closing));
        doc["accounts"].as_array().push_back(json::object{
            {"id", "k_lapsing"},
            {"status", "active"},
            {"plan", "premium"},
            {"paid_until_ms", deadline_ms},
            {"country", "KR"},
            {"profiles",
             json::array{
                 json::object{{"id", "kp_lapsing"}, {"name", "Main"}, {"max_age_rating", 19}}}}});
        std::ofstream out(file);
        out << json::serialize(doc);
        return static_cast<bool>(out);
    }

    inline static std::optional<testing::TempDir> fixtures_dir_;
    inline static std::int64_t closing_at_ms_ = 0;
};

TEST_F(DeadlineContract, HeartbeatSaysStopWhenTheTitleLeavesItsWindowOrTheSubscriptionLapses) {
    struct Player {
        std::string token, sid;
        std::int64_t seq = 0;
        json::object last;
        bool stopped = false;
    };
    std::vector<Player> players;
    for (const auto& [sub, pid, content] :
         {std::tuple{"k_withdrawn", "kp_withdrawn", "c_closing"},
          std::tuple{"k_lapsing", "kp_lapsing", "c_main"}}) {
        Player p;
        p.token = stack().token(sub, pid);
        const HttpReply s = start(p.token, {.content = content, .device = "deadline-tv"});
        ASSERT_TRUE(is_json(s, 201))
            << sub << ": the stack took longer than " << kClosingAfterMs << " ms to start";
        p.sid = session_id_of(s);
        players.push_back(std::move(p));
    }
    std::string problem;
    const auto ok = testing::wait_until(
        [&] {
            for (Player& p : players) {
                if (p.stopped) {
                    continue;
                }
                ++p.seq;
                const HttpReply hb = heartbeat(p.token, p.sid, static_cast<double>(p.seq), p.seq);
                p.last = parse_object(hb);
                if (hb.status != 200 || !p.last.contains("action")) {
                    problem = "heartbeat failed: " + hb.body;
                    return true;
                }
                p.stopped = p.last.at("action") == json::value("stop");
                if (p.stopped != (p.last.at("server_time_ms").as_int64() >= closing_at_ms_)) {
                    problem = "action " + json::serialize(p.last) +
                              " on the wrong side of the deadline " +
                              std::to_string(closing_at_ms_);
                }
            }
            return players[0].stopped && players[1].stopped;
        },
        std::chrono::milliseconds(kClosingAfterMs + 15'000),
        "action stop"
    );
    ASSERT_TRUE(ok);
    EXPECT_TRUE(problem.empty()) << problem;
    for (const Player& p : players) {
        ASSERT_TRUE(p.last.at("reason").is_string()) << json::serialize(p.last);
        EXPECT_FALSE(p.last.at("reason").as_string().empty());
    }
    EXPECT_NE(players[0].last.at("reason"), players[1].last.at("reason"))
        << "the reason tells the two apart";
    EXPECT_TRUE(is_error(
        start(players[0].token, {.content = "c_closing", .device = "deadline-tv"}),
        403,
        "NO_LONGER_AVAILABLE"
    ));
    EXPECT_TRUE(
        is_error(start(players[1].token, {.device = "deadline-tv"}), 403, "SUBSCRIPTION_REQUIRED")
    );
}

TEST_F(ShortLeaseContract, LeaseLapsesWithoutHeartbeats) {
    const std::string tok = stack().token("k_expiry", "kp_expiry");  // basic plan: one stream
    const HttpReply first = start(tok, {.device = "expiry-phone", .type = "android"});
    ASSERT_TRUE(is_json(first, 201));
    const json::object o = parse_object(first);
    const std::int64_t expires = o.at("lease").at("expires_at_ms").as_int64();
    EXPECT_EQ(expires - o.at("server_time_ms").as_int64(), kLeaseMs);
    EXPECT_EQ(o.at("lease").at("heartbeat_interval_sec").as_int64(), 1);
    EXPECT_TRUE(is_error(start(tok, {.device = "expiry-tv"}), 403, "STREAM_LIMIT_REACHED"));

    ASSERT_TRUE(wait_until_lapsed(tok, expires));
    EXPECT_TRUE(is_json(start(tok, {.device = "expiry-tv"}), 201))
        << "the lapsed lease is free again";
    // The lapsed session is gone, not evicted.
    EXPECT_TRUE(is_error(heartbeat(tok, session_id_of(first), 5, 1), 404, "SESSION_NOT_FOUND"));
}

TEST_F(ShortLeaseContract, HeartbeatsKeepTheLeasePastItsFirstExpiry) {
    const std::string tok = stack().token("k_keepalive", "kp_keepalive");
    const HttpReply s = start(tok, {.device = "keep-tv"});
    ASSERT_TRUE(is_json(s, 201));
    const std::string sid = session_id_of(s);
    const std::int64_t first_expiry = parse_object(s).at("lease").at("expires_at_ms").as_int64();
    std::int64_t seq = 0;
    std::string problem;
    // A player heartbeating well within the interval, until a second past the first expiry.
    const auto ok = testing::wait_until(
        [&] {
            ++seq;
            const HttpReply hb = heartbeat(tok, sid, static_cast<double>(seq), seq);
            const json::object o = parse_object(hb);
            if (hb.status != 200 || !o.contains("lease_expires_at_ms")) {
                problem = "heartbeat " + std::to_string(seq) + ": " + hb.body;
                return true;
            }
            if (o.at("lease_expires_at_ms").as_int64() - o.at("server_time_ms").as_int64() !=
                kLeaseMs) {
                problem = "lease not extended by MONETA_LEASE_SEC: " + hb.body;
            }
            return o.at("server_time_ms").as_int64() > first_expiry + 1000;
        },
        std::chrono::milliseconds(kLeaseMs + 10'000),
        "heartbeats past the first expiry"
    );
    ASSERT_TRUE(ok);
    EXPECT_TRUE(problem.empty()) << problem;
    const json::array sessions = parse_object(list(tok)).at("sessions").as_array();
    ASSERT_EQ(sessions.size(), 1U);
    EXPECT_EQ(sessions[0].at("session_id").as_string(), sid);
}

TEST_F(ShortLeaseContract, HeartbeatAfterTheLeaseLapsedStillStoresProgress) {
    const std::string tok = stack().token("k_lapsed_hb", "kp_lapsed_hb");
    const HttpReply s = start(tok, {.device = "lapsed-tv"});
    ASSERT_TRUE(is_json(s, 201));
    const std::string sid = session_id_of(s);
    const HttpReply hb = heartbeat(tok, sid, 10, 1);
    ASSERT_TRUE(is_json(hb, 200));
    ASSERT_TRUE(wait_until_lapsed(tok, parse_object(hb).at("lease_expires_at_ms").as_int64()));

    EXPECT_TRUE(is_error(heartbeat(tok, sid, 321.5, 2), 404, "SESSION_NOT_FOUND"));
    const json::object item = progress_item(tok, "c_main");
    ASSERT_FALSE(item.empty());
    EXPECT_DOUBLE_EQ(item.at("position_sec").to_number<double>(), 321.5)
        << "progress is never lost";
    EXPECT_EQ(stop(tok, sid, 400, 3).status, 204);
    EXPECT_DOUBLE_EQ(progress_item(tok, "c_main").at("position_sec").to_number<double>(), 400);
}

// docs/data.md "Write-behind hold": a PUT and a stop reach the system of record at the next
// flush; a playing title's heartbeats are held for MONETA_PROGRESS_FLUSH_HOLD_MS after the title
// became dirty, then the next heartbeat announces it and it goes.
TEST_F(ShortLeaseContract, WriteBehindReachesTheSystemOfRecord) {
    testing::Stack& st = stack();
    const std::string tok = st.token("k_flush", "kp_flush");
    const double sent0 = st.metric("moneta_progress_flushed_items_total");
    const double upserts0 = st.internal_api_calls("batch_upsert");
    const std::string sid = session_id_of(start(tok, {.device = "flush-tv"}));
    ASSERT_FALSE(sid.empty());
    json::object by_id;
    auto read_back = [&] {
        const HttpReply r = st.call_internal("GET", "/internal/v1/profiles/kp_flush/progress?content_ids=c_main,s_1e1");
        const json::object o = parse_object(r);
        by_id.clear();
        if (r.status == 200 && o.contains("items")) {
            for (const json::value& it : o.at("items").as_array()) {
                by_id[it.at("content_id").as_string()] = it;
            }
        }
    };
    auto position_of = [&](std::string_view id) {
        return by_id.contains(id) ? by_id.at(id).at("position_sec").to_number<double>() : -1.0;
    };

    const auto playing_since = std::chrono::steady_clock::now();
    std::int64_t seq = 1;
    double position = 777.5;
    ASSERT_TRUE(is_json(heartbeat(tok, sid, position, seq), 200));
    const std::int64_t offline_at = now_ms() - 1000;
    ASSERT_EQ(put_progress(tok, "s_1e1", 300, 2700, offline_at, 3).status, 204);
    ASSERT_TRUE(testing::wait_until(
        [&] {
            read_back();
            return by_id.contains("s_1e1");
        },
        20s, "the PUT position in the internal API"));
    EXPECT_DOUBLE_EQ(position_of("s_1e1"), 300);
    EXPECT_EQ(by_id.at("s_1e1").at("updated_at_ms").as_int64(), offline_at);
    if (std::chrono::steady_clock::now() - playing_since < std::chrono::milliseconds(kHoldMs)) {
        EXPECT_FALSE(by_id.contains("c_main")) << "a playing title's heartbeat is held";
    }

    // Playing on (a heartbeat every 250 ms): once the hold has passed, the title goes.
    auto last_sent = std::chrono::steady_clock::now();
    ASSERT_TRUE(testing::wait_until(
        [&] {
            if (std::chrono::steady_clock::now() - last_sent >= 250ms) {
                last_sent = std::chrono::steady_clock::now();
                position += 1;
                if (heartbeat(tok, sid, position, ++seq).status != 200) {
                    return false;
                }
            }
            read_back();
            return position_of("c_main") > 777.5;
        },
        20s, "the held heartbeats in the internal API"));
    EXPECT_GE(std::chrono::steady_clock::now() - playing_since, std::chrono::milliseconds(kHoldMs));
    EXPECT_FALSE(by_id.at("c_main").at("completed").as_bool());

    // The stop is the session's last write: not held.
    const auto stopped_at = std::chrono::steady_clock::now();
    ASSERT_EQ(stop(tok, sid, 900, ++seq).status, 204);
    ASSERT_TRUE(testing::wait_until(
        [&] {
            read_back();
            return position_of("c_main") == 900;
        },
        20s, "the stop's position in the internal API"));
    EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 10s);
    EXPECT_GE(st.metric("moneta_progress_flushed_items_total") - sent0, 3);
    EXPECT_GE(st.internal_api_calls("batch_upsert") - upserts0, 3);
}

class RateLimitContract : public ContractTest {
protected:
    static void SetUpTestSuite() {
        testing::StackOptions o;
        o.moneta_env = {{"MONETA_START_RATE_PER_MIN", "5"}};
        boot(std::move(o));
    }
    static void TearDownTestSuite() { shutdown(); }
};

TEST_F(RateLimitContract, SixthStartWithinAMinuteIsRateLimited) {
    // The window is the wall-clock minute: if the six starts straddle a boundary, the count
    // restarts, so that attempt says nothing and the next account tries again.
    for (const char* account : {"rate_a", "rate_b"}) {
        const std::string tok =
            stack().token(std::string("k_") + account, std::string("kp_") + account);
        const double limited0 =
            stack().metric("moneta_playback_starts_total", "result=\"rate_limited\"");
        std::vector<HttpReply> replies;
        std::set<std::int64_t> minutes;
        for (int i = 0; i < 6; ++i) {
            replies.push_back(start(tok, {.device = "rate-tv"}));
            minutes.insert(parse_object(replies.back()).at("server_time_ms").as_int64() / 60'000);
        }
        if (minutes.size() > 1) {
            continue;
        }
        for (int i = 0; i < 5; ++i) {
            EXPECT_TRUE(is_json(replies[static_cast<std::size_t>(i)], 201)) << "start " << i + 1;
        }
        const HttpReply& limited = replies[5];
        ASSERT_TRUE(is_error(limited, 429, "RATE_LIMITED"));
        EXPECT_TRUE(parse_object(limited).at("error").at("retryable").as_bool());
        const std::string retry_after = limited.header("Retry-After").value_or("");
        ASSERT_FALSE(retry_after.empty()) << "429 carries Retry-After";
        const int retry_s = std::stoi(retry_after);
        const std::int64_t t = parse_object(limited).at("server_time_ms").as_int64();
        EXPECT_GE(retry_s, 1);
        EXPECT_LE(retry_s, 60);
        EXPECT_NEAR(retry_s, (60'000 - t % 60'000) / 1000.0, 1.0)
            << "seconds until the window resets";
        EXPECT_EQ(
            stack().metric("moneta_playback_starts_total", "result=\"rate_limited\"") - limited0, 1
        );
        // The refused start changed nothing: the fifth session still plays.
        EXPECT_TRUE(is_json(heartbeat(tok, session_id_of(replies[4]), 1, 1), 200));
        // Per account: another account is not affected.
        EXPECT_TRUE(is_json(
            start(stack().token("k_rate_other", "kp_rate_other"), {.device = "rate-tv"}), 201
        ));
        return;
    }
    FAIL() << "both attempts straddled a minute boundary";
}

}  // namespace
}  // namespace moneta::contract
