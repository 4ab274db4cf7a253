// api.md §5.7 and the progress rules of §6 through nginx: reads served from Redis after one
// load from the system of record, (updated_at, seq) ordering, zero never overwriting a real
// position, completion by reason=ended or past max(credits, 95 %), conditional offline PUTs
// and continue-watching ordering.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "contract_support.hpp"

namespace moneta::contract {
namespace {

namespace json = boost::json;

constexpr double kMainDuration = 7012.4;  // c_main in fixtures.json; credits start at 6800

class ProgressContract : public ContractTest {
protected:
    static void SetUpTestSuite() { boot(); }
    static void TearDownTestSuite() { shutdown(); }

    static double position(const std::string& token, std::string_view content_id) {
        const json::object item = progress_item(token, content_id);
        EXPECT_FALSE(item.empty()) << "no progress for " << content_id;
        return item.empty() ? -1 : item.at("position_sec").to_number<double>();
    }
    static std::vector<std::string> continue_ids(
        const std::string& token, std::string_view query = ""
    ) {
        const HttpReply r = continue_watching(token, query);
        EXPECT_TRUE(is_json(r, 200));
        std::vector<std::string> ids;
        const json::object o = parse_object(r);
        for (const json::value& it : o.at("items").as_array()) {
            ids.emplace_back(it.at("content_id").as_string());
        }
        return ids;
    }
};

TEST_F(ProgressContract, StoredProgressComesFromTheSystemOfRecordThenFromRedis) {
    const std::string tok = stack().token("k_fixture_progress", "kp_fixture_progress");
    const double loads0 = stack().internal_api_calls("progress_read");
    const HttpReply r = get_progress(tok, "c_main,c_geo_jp,c_nothing");
    ASSERT_TRUE(is_json(r, 200));
    const json::object o = parse_object(r);
    EXPECT_EQ(o.size(), 2U) << r.body;
    const json::array& items = o.at("items").as_array();
    ASSERT_EQ(items.size(), 2U) << "titles without progress are left out: " << r.body;
    for (const json::value& v : items) {
        const json::object& it = v.as_object();
        EXPECT_EQ(it.size(), 5U) << json::serialize(it);
        EXPECT_DOUBLE_EQ(it.at("duration_sec").to_number<double>(), kMainDuration);
        if (it.at("content_id") == json::value("c_main")) {
            EXPECT_DOUBLE_EQ(it.at("position_sec").to_number<double>(), 1847.0);
            EXPECT_FALSE(it.at("completed").as_bool());
            EXPECT_EQ(it.at("updated_at_ms").as_int64(), 1760000000000);
        } else {
            EXPECT_EQ(it.at("content_id").as_string(), "c_geo_jp");
            EXPECT_TRUE(it.at("completed").as_bool());
            EXPECT_EQ(it.at("updated_at_ms").as_int64(), 1760000001000);
        }
    }
    EXPECT_GE(stack().internal_api_calls("progress_read") - loads0, 1);
    // Now cached, including the known absence of c_nothing: no further internal-API reads.
    const double loads1 = stack().internal_api_calls("progress_read");
    ASSERT_TRUE(is_json(get_progress(tok, "c_nothing,c_main"), 200));
    EXPECT_EQ(stack().internal_api_calls("progress_read") - loads1, 0);
}

TEST_F(ProgressContract, OutOfOrderHeartbeatsNeverRollBack) {
    const std::string tok = stack().token("k_ooo", "kp_ooo");
    const std::string sid = session_id_of(start(tok, {.device = "ooo-tv"}));
    ASSERT_FALSE(sid.empty());
    const double stale0 = stack().metric("moneta_progress_writes_total", "result=\"stale\"");
    ASSERT_TRUE(is_json(heartbeat(tok, sid, 600, 6), 200));
    // seq 5 arrives late (a retry): the lease is still renewed, the position is not rolled back.
    ASSERT_TRUE(is_json(heartbeat(tok, sid, 500, 5), 200));
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 600);
    EXPECT_EQ(stack().metric("moneta_progress_writes_total", "result=\"stale\"") - stale0, 1);
    ASSERT_TRUE(is_json(heartbeat(tok, sid, 700, 7), 200));
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 700);
    // A stop with an old seq does not roll back either.
    ASSERT_EQ(stop(tok, sid, 10, 4).status, 204);
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 700);
}

TEST_F(ProgressContract, ZeroNeverOverwritesARealPosition) {
    const std::string tok = stack().token("k_zero", "kp_zero");
    const std::string sid = session_id_of(start(tok, {.device = "zero-tv"}));
    ASSERT_FALSE(sid.empty());
    const double kept0 = stack().metric("moneta_progress_writes_total", "result=\"zero_kept\"");
    ASSERT_TRUE(is_json(heartbeat(tok, sid, 100, 1), 200));
    // A player that reports 0 while loading must not wipe the resume point.
    ASSERT_TRUE(is_json(heartbeat(tok, sid, 0, 2), 200));
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 100);
    // Not through an offline PUT either, even with a newer timestamp.
    EXPECT_EQ(put_progress(tok, "c_main", 0, kMainDuration, now_ms(), 9).status, 204);
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 100);
    EXPECT_EQ(stack().metric("moneta_progress_writes_total", "result=\"zero_kept\"") - kept0, 2);
    // Nor through a stop.
    ASSERT_EQ(stop(tok, sid, 0, 3).status, 204);
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 100);
}

TEST_F(ProgressContract, StartOverResumesAtZeroAndMayWriteZero) {
    const std::string tok =
        stack().token("k_start_over_zero", "kp_start_over_zero");  // fixture: 1200 s
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 1200.0);             // now in Redis too
    const HttpReply over = start(tok, {.device = "so-tv", .resume = "start_over"});
    ASSERT_TRUE(is_json(over, 201));
    EXPECT_DOUBLE_EQ(parse_object(over).at("resume_position_sec").to_number<double>(), 0.0);
    ASSERT_TRUE(is_json(heartbeat(tok, session_id_of(over), 0, 1), 200));
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 0.0)
        << "start_over is the one case where 0 replaces a position";
}

TEST_F(ProgressContract, OfflinePutIsAppliedOnlyWhenNewer) {
    const std::string tok = stack().token("k_put", "kp_put");
    const std::int64_t t = now_ms() - 60'000;
    const HttpReply first = put_progress(tok, "c_main", 100, kMainDuration, t, 1);
    EXPECT_EQ(first.status, 204);
    EXPECT_TRUE(first.body.empty());
    json::object item = progress_item(tok, "c_main");
    ASSERT_FALSE(item.empty());
    EXPECT_DOUBLE_EQ(item.at("position_sec").to_number<double>(), 100);
    EXPECT_EQ(item.at("updated_at_ms").as_int64(), t);
    EXPECT_FALSE(item.at("completed").as_bool());

    EXPECT_TRUE(
        is_error(put_progress(tok, "c_main", 50, kMainDuration, t - 1000, 5), 409, "STALE_WRITE")
    );
    EXPECT_TRUE(is_error(put_progress(tok, "c_main", 60, kMainDuration, t, 1), 409, "STALE_WRITE"));
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 100);
    EXPECT_EQ(put_progress(tok, "c_main", 120, kMainDuration, t, 2).status, 204)
        << "same time, higher seq wins";
    EXPECT_DOUBLE_EQ(position(tok, "c_main"), 120);
    // Past 95 % of the duration: completed.
    EXPECT_EQ(put_progress(tok, "c_main", 6700, kMainDuration, t + 1000, 1).status, 204);
    EXPECT_TRUE(progress_item(tok, "c_main").at("completed").as_bool());

    EXPECT_TRUE(is_invalid_field(
        put_progress(tok, "c_main", 10, kMainDuration, now_ms() + 2 * 86'400'000, 1),
        "updated_at_ms"
    ));
    EXPECT_TRUE(is_invalid_field(
        put_progress(tok, "c_main", 9000, kMainDuration, t + 2000, 1), "position_sec"
    ));
    EXPECT_TRUE(is_invalid_field(
        put_progress(tok, "c_main", -1, kMainDuration, t + 2000, 1), "position_sec"
    ));
    EXPECT_TRUE(is_invalid_field(
        stack().call(
            "PUT", "/v1/me/progress/c_main", R"({"position_sec":1,"duration_sec":10,"seq":1})", tok
        ),
        "updated_at_ms"
    ));
}

TEST_F(ProgressContract, GetProgressTakesAtMostOneHundredIds) {
    const std::string tok = stack().token("k_getmany", "kp_getmany");
    ASSERT_EQ(put_progress(tok, "x_42", 42, 100, now_ms() - 1000, 1).status, 204);
    std::string ids;
    for (int i = 0; i < 100; ++i) {
        ids += (i == 0 ? "" : ",") + std::string("x_") + std::to_string(i);
    }
    const HttpReply hundred = get_progress(tok, ids);
    ASSERT_TRUE(is_json(hundred, 200));
    const json::array items = parse_object(hundred).at("items").as_array();
    ASSERT_EQ(items.size(), 1U) << hundred.body;
    EXPECT_EQ(items[0].at("content_id").as_string(), "x_42");
    EXPECT_TRUE(is_invalid_field(get_progress(tok, ids + ",x_100"), "content_ids"));
    EXPECT_TRUE(is_invalid_field(get_progress(tok, ""), "content_ids"));
    EXPECT_TRUE(is_invalid_field(get_progress(tok, "x_1,,x_2"), "content_ids"));
    EXPECT_TRUE(is_invalid_field(stack().call("GET", "/v1/me/progress", "", tok), "content_ids"));
    // The profile comes from the token: without pid there is nothing to read.
    EXPECT_TRUE(is_error(get_progress(stack().token("k_getmany", ""), "x_42"), 401, "TOKEN_INVALID")
    );
}

TEST_F(ProgressContract, StopWithReasonEndedMarksTheTitleCompleted) {
    const std::string tok = stack().token("k_ended", "kp_ended");
    const std::string sid = session_id_of(start(tok, {.device = "ended-tv"}));
    ASSERT_FALSE(sid.empty());
    ASSERT_TRUE(is_json(heartbeat(tok, sid, 3000, 1), 200));
    EXPECT_EQ(continue_ids(tok), std::vector<std::string>{"c_main"});
    ASSERT_EQ(stop(tok, sid, 3001, 2, "ended").status, 204);
    const json::object item = progress_item(tok, "c_main");
    ASSERT_FALSE(item.empty());
    EXPECT_TRUE(item.at("completed").as_bool());
    EXPECT_TRUE(continue_ids(tok).empty()) << "completed titles leave continue-watching";
    const HttpReply next = start(tok, {.device = "ended-tv", .resume = "auto"});
    ASSERT_TRUE(is_json(next, 201));
    EXPECT_DOUBLE_EQ(parse_object(next).at("resume_position_sec").to_number<double>(), 0.0);
}

TEST_F(ProgressContract, PositionPastCreditsAndNinetyFivePercentMarksCompleted) {
    const std::string tok = stack().token("k_credits", "kp_credits");
    const std::string sid = session_id_of(start(tok, {.device = "credits-tv"}));
    ASSERT_FALSE(sid.empty());
    // 6700 s is past 95 % (6661.8 s) but before the credits (6800 s): not finished yet.
    ASSERT_TRUE(is_json(heartbeat(tok, sid, 6700, 1), 200));
    EXPECT_FALSE(progress_item(tok, "c_main").at("completed").as_bool());
    ASSERT_EQ(stop(tok, sid, 6850, 2, "user").status, 204);
    EXPECT_TRUE(progress_item(tok, "c_main").at("completed").as_bool());
    const HttpReply next = start(tok, {.device = "credits-tv"});
    ASSERT_TRUE(is_json(next, 201));
    EXPECT_DOUBLE_EQ(parse_object(next).at("resume_position_sec").to_number<double>(), 0.0);
}

TEST_F(ProgressContract, ContinueWatchingIsNewestFirstWithoutCompletedTitles) {
    const std::string tok = stack().token("k_cw", "kp_cw");  // fixture: c_adult at 300 s, 2025
    const std::int64_t t = now_ms();
    ASSERT_EQ(put_progress(tok, "c_main", 100, kMainDuration, t - 3000, 1).status, 204);
    ASSERT_EQ(put_progress(tok, "s_1e1", 200, 2700, t - 1000, 1).status, 204);
    ASSERT_EQ(put_progress(tok, "s_1e2", 300, 2700, t - 2000, 1).status, 204);
    ASSERT_EQ(put_progress(tok, "c_hdr", 6900, kMainDuration, t - 500, 1).status, 204);  // finished
    EXPECT_EQ(continue_ids(tok), (std::vector<std::string>{"s_1e1", "s_1e2", "c_main", "c_adult"}));
    EXPECT_EQ(continue_ids(tok, "limit=2"), (std::vector<std::string>{"s_1e1", "s_1e2"}));
    const HttpReply r = continue_watching(tok, "limit=1");
    ASSERT_TRUE(is_json(r, 200));
    const json::array items = parse_object(r).at("items").as_array();
    ASSERT_EQ(items.size(), 1U);
    EXPECT_EQ(items[0].as_object().size(), 5U);
    EXPECT_DOUBLE_EQ(items[0].at("position_sec").to_number<double>(), 200);
    EXPECT_DOUBLE_EQ(items[0].at("duration_sec").to_number<double>(), 2700);
    EXPECT_FALSE(items[0].at("completed").as_bool());
    EXPECT_EQ(items[0].at("updated_at_ms").as_int64(), t - 1000);
    // A newer write moves a title to the front.
    ASSERT_EQ(put_progress(tok, "c_adult", 400, kMainDuration, t, 2).status, 204);
    EXPECT_EQ(continue_ids(tok, "limit=1"), std::vector<std::string>{"c_adult"});
    for (const char* bad : {"limit=0", "limit=abc", "limit=", "count=3"}) {
        EXPECT_TRUE(is_invalid_field(continue_watching(tok, bad), "limit")) << bad;
    }
    // Default limit 20.
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(
            put_progress(tok, "cw_" + std::to_string(i), 10, 100, t - 10'000 - i, 1).status, 204
        );
    }
    const auto all = continue_ids(tok, "limit=100");
    EXPECT_EQ(all.size(), 24U);
    const auto first_page = continue_ids(tok);
    ASSERT_EQ(first_page.size(), 20U);
    EXPECT_EQ(first_page, std::vector<std::string>(all.begin(), all.begin() + 20));
}

TEST_F(ProgressContract, ProgressBelongsToTheProfileInTheToken) {
    const std::string adult = stack().token("k_profiles", "kp_profiles");
    const std::string kid = stack().token("k_profiles", "kp_profiles_kid");
    ASSERT_EQ(put_progress(adult, "c_main", 500, kMainDuration, now_ms() - 1000, 1).status, 204);
    EXPECT_DOUBLE_EQ(position(adult, "c_main"), 500);
    EXPECT_TRUE(progress_item(kid, "c_main").empty())
        << "another profile of the same account has its own progress";
    EXPECT_TRUE(continue_ids(kid).empty());
    EXPECT_EQ(continue_ids(adult), std::vector<std::string>{"c_main"});
}

TEST_F(ProgressContract, ProgressOfAProfileOutsideTheAccountIsRefused) {
    // kp_isolation_owner belongs to k_isolation_owner, not to k_isolation.
    const std::string tok = stack().token("k_isolation", "kp_isolation_owner");
    EXPECT_TRUE(is_error(get_progress(tok, "c_main"), 403, "PROFILE_NOT_IN_ACCOUNT"));
    EXPECT_TRUE(is_error(continue_watching(tok), 403, "PROFILE_NOT_IN_ACCOUNT"));
    EXPECT_TRUE(is_error(
        put_progress(tok, "c_main", 5, kMainDuration, now_ms(), 7), 403, "PROFILE_NOT_IN_ACCOUNT"
    ));
    EXPECT_DOUBLE_EQ(
        position(stack().token("k_isolation_owner", "kp_isolation_owner"), "c_main"), 1847.0
    );
}

}  // namespace
}  // namespace moneta::contract
