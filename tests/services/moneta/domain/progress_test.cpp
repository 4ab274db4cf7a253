#include "domain/progress.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace moneta::domain {
namespace {

namespace json = boost::json;

constexpr std::int64_t kNow = 1'764'000'000'000;
constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

template <class T>
FieldError error_of(const Parsed<T>& p) {
    EXPECT_TRUE(std::holds_alternative<FieldError>(p));
    return std::holds_alternative<FieldError>(p) ? std::get<FieldError>(p) : FieldError{};
}

template <class T>
T value_of(const Parsed<T>& p) {
    EXPECT_TRUE(std::holds_alternative<T>(p))
        << std::get<FieldError>(p).field << ": " << std::get<FieldError>(p).reason;
    return std::holds_alternative<T>(p) ? std::get<T>(p) : T{};
}

ProgressRecord record(
    std::string id, double pos, double dur, std::int64_t upd, std::int64_t seq, bool done
) {
    ProgressRecord r;
    r.content_id = std::move(id);
    r.position_sec = pos;
    r.duration_sec = dur;
    r.updated_at_ms = upd;
    r.seq = seq;
    r.completed = done;
    return r;
}

// --- completion ----------------------------------------------------------------------------

TEST(ProgressTest, CompletionIsTheLaterOfCreditsAnd95Percent) {
    // m_1: credits at 6800 are after 95 % (6661.78).
    EXPECT_DOUBLE_EQ(completion_threshold_sec(7012.4, 6800.0), 6800.0);
    // Credits early (a long post-credits scene): 95 % is later and wins.
    EXPECT_DOUBLE_EQ(completion_threshold_sec(7012.4, 5000.0), 0.95 * 7012.4);
    EXPECT_DOUBLE_EQ(completion_threshold_sec(1000.0, std::nullopt), 950.0);
}

TEST(ProgressTest, UnknownDurationNeverCompletesByPosition) {
    for (const double d : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
        const double t = completion_threshold_sec(d, 10.0);
        EXPECT_FALSE(7.0 * 24 * 3600 >= t) << d;  // not even a week-long position reaches it
        EXPECT_FALSE(0.0 >= t) << d;
    }
}

// --- stored value --------------------------------------------------------------------------

TEST(ProgressTest, ValueHasTheDocumentedShape) {
    EXPECT_EQ(
        encode_progress_value(record("m_1", 1902.5, 7012.4, 1760000000000, 17, false), "ps_1"),
        "1902.5|7012.4|1760000000000|17|0|ps_1"
    );
    EXPECT_EQ(encode_progress_value(record("m_1", 0, 0, 1, 0, true), ""), "0|0|1|0|1|");
}

TEST(ProgressTest, ValueRoundTrips) {
    for (const ProgressRecord& r :
         {record("m_1", 1902.5, 7012.4, 1760000000000, 17, false),
          record("m_2", 0.1, 2400, 1, (std::int64_t{1} << 53), true),
          record("e_9", 0, 0, 0, 0, false)}) {
        const auto back = decode_progress_value(r.content_id, encode_progress_value(r, "ps_x"));
        ASSERT_TRUE(back.has_value()) << encode_progress_value(r, "ps_x");
        EXPECT_EQ(back->content_id, r.content_id);
        EXPECT_EQ(back->position_sec, r.position_sec);  // shortest text parses back bit-exact
        EXPECT_EQ(back->duration_sec, r.duration_sec);
        EXPECT_EQ(back->updated_at_ms, r.updated_at_ms);
        EXPECT_EQ(back->seq, r.seq);
        EXPECT_EQ(back->completed, r.completed);
    }
}

TEST(ProgressTest, ValueWrittenByTheLuaGuardDecodes) {
    // The guard concatenates the ARGV strings it was given; a value without a session id
    // (written from the system of record) decodes too.
    const auto r = decode_progress_value("m_1", "1847|7012.4|1760000000000|1|0|");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->position_sec, 1847.0);
    EXPECT_EQ(r->seq, 1);
}

TEST(ProgressTest, MalformedValuesAreRejected) {
    for (const char* v : {
             "-",  // kNoProgress: known absent
             "",
             "1902.5|7012.4|1760000000000|17|0",         // 5 fields
             "1902.5|7012.4|1760000000000|17|0|ps_1|x",  // 7 fields
             "abc|7012.4|1760000000000|17|0|ps_1",       // position not a number
             "1902.5||1760000000000|17|0|ps_1",          // empty duration
             "1902.5|7012.4|1760000000000.5|17|0|ps_1",  // fractional updated_at
             "1902.5|7012.4|1760000000000|x|0|ps_1",     // seq not a number
             "1902.5|7012.4|1760000000000|17|2|ps_1",    // completed not 0/1
             "1902.5|7012.4|1760000000000|17|true|ps_1",
             " 1902.5|7012.4|1760000000000|17|0|ps_1",  // stray whitespace
             "1902.5 |7012.4|1760000000000|17|0|ps_1",
             // Fuzz findings: from_chars reads these, no writer produces them.
             "nan|7012.4|1760000000000|17|0|ps_1",
             "1902.5|inf|1760000000000|17|0|ps_1",
             "-1|7012.4|1760000000000|17|0|ps_1",
             "1902.5|-0.5|1760000000000|17|0|ps_1",
             "1902.5|7012.4|-1|17|0|ps_1",
             "1902.5|7012.4|1760000000000|-17|0|ps_1",
         }) {
        EXPECT_EQ(decode_progress_value("m_1", v), std::nullopt) << '"' << v << '"';
    }
    EXPECT_EQ(decode_progress_value("m_1", kNoProgress), std::nullopt);
}

TEST(ProgressTest, FormatSecondsIsShortestAndExact) {
    EXPECT_EQ(format_seconds(1902.5), "1902.5");
    EXPECT_EQ(format_seconds(0), "0");
    EXPECT_EQ(format_seconds(7012.4), "7012.4");
    EXPECT_EQ(format_seconds(0.1), "0.1");
}

// --- resume --------------------------------------------------------------------------------

TEST(ProgressTest, ResumeFollowsTheContract) {
    const std::optional<ProgressRecord> watching = record("m_1", 1847, 7012.4, 1, 1, false);
    const std::optional<ProgressRecord> finished = record("m_1", 6900, 7012.4, 1, 2, true);
    EXPECT_EQ(resume_position(watching, ResumeMode::kAuto), 1847.0);
    EXPECT_EQ(resume_position(finished, ResumeMode::kAuto), 0.0);
    EXPECT_EQ(resume_position(std::nullopt, ResumeMode::kAuto), 0.0);
    EXPECT_EQ(resume_position(watching, ResumeMode::kStartOver), 0.0);
    EXPECT_EQ(resume_position(std::nullopt, ResumeMode::kStartOver), 0.0);
}

// --- query strings -------------------------------------------------------------------------

TEST(ProgressTest, ContentIdsQueryParsesAndDeduplicatesInOrder) {
    EXPECT_EQ(
        value_of(parse_content_ids_query("content_ids=m_1")), std::vector<std::string>{"m_1"}
    );
    EXPECT_EQ(
        value_of(parse_content_ids_query("content_ids=m_2,m_1,m_2,e-3")),
        (std::vector<std::string>{"m_2", "m_1", "e-3"})
    );
}

TEST(ProgressTest, ContentIdsQueryAllowsAtMost100DistinctIds) {
    std::string q = "content_ids=";
    for (int i = 0; i < 100; ++i) {
        q += (i ? "," : "") + std::string("m_") + std::to_string(i);
    }
    EXPECT_EQ(value_of(parse_content_ids_query(q)).size(), 100U);
    // A repeated id does not count twice.
    EXPECT_EQ(value_of(parse_content_ids_query(q + ",m_0")).size(), 100U);
    const FieldError e = error_of(parse_content_ids_query(q + ",m_100"));
    EXPECT_EQ(e.field, "content_ids");
    EXPECT_FALSE(e.reason.empty());
}

TEST(ProgressTest, ContentIdsQueryRejectsBadIdsAndOtherParameters) {
    for (const char* q : {
             "",
             "content_ids=",
             "content_ids=m_1,",
             "content_ids=,m_1",
             "content_ids=m_1,,m_2",
             "content_ids=m.1",
             "content_ids=m_1%20",
             "content_id=m_1",
             "CONTENT_IDS=m_1",
             "content_ids=m_1&limit=3",
             "limit=3&content_ids=m_1",
         }) {
        const FieldError e = error_of(parse_content_ids_query(q));
        EXPECT_EQ(e.field, "content_ids") << q;
    }
    EXPECT_TRUE(std::holds_alternative<FieldError>(
        parse_content_ids_query("content_ids=" + std::string(65, 'x'))
    ));
}

TEST(ProgressTest, ContentIdsQueryAcceptsAPercentEncodedComma) {
    // Browsers' URLSearchParams encode ',' as %2C.
    EXPECT_EQ(
        value_of(parse_content_ids_query("content_ids=m_1%2Cm_2")),
        (std::vector<std::string>{"m_1", "m_2"})
    );
    EXPECT_EQ(
        value_of(parse_content_ids_query("content_ids=m_1%2cm_2")),
        (std::vector<std::string>{"m_1", "m_2"})
    );
}

TEST(ProgressTest, LimitQueryDefaultsTo20AndIsBounded) {
    EXPECT_EQ(value_of(parse_limit_query("")), 20);
    EXPECT_EQ(value_of(parse_limit_query("limit=1")), 1);
    EXPECT_EQ(value_of(parse_limit_query("limit=100")), 100);
    for (const char* q :
         {"limit=0",
          "limit=101",
          "limit=-1",
          "limit=",
          "limit=abc",
          "limit=5.0",
          "limit=5 ",
          "limit=5&x=1",
          "x=1",
          "limit=99999999999999999999"}) {
        EXPECT_EQ(error_of(parse_limit_query(q)).field, "limit") << q;
    }
}

// --- PUT /v1/me/progress/{id} --------------------------------------------------------------

TEST(ProgressTest, ProgressPutParsesAValidBody) {
    const auto p = value_of(parse_progress_put(
        R"({"position_sec":1902.5,"duration_sec":7012.4,"updated_at_ms":1763999999000,"seq":17})",
        kNow
    ));
    EXPECT_DOUBLE_EQ(p.position_sec, 1902.5);
    EXPECT_DOUBLE_EQ(p.duration_sec, 7012.4);
    EXPECT_EQ(p.updated_at_ms, 1763999999000);
    EXPECT_EQ(p.seq, 17);
    // Integers are numbers too; an unknown duration (0) does not bound the position.
    const auto q = value_of(parse_progress_put(
        R"({"position_sec":100,"duration_sec":0,"updated_at_ms":1,"seq":0,"extra":true})", kNow
    ));
    EXPECT_EQ(q.position_sec, 100.0);
    EXPECT_EQ(q.duration_sec, 0.0);
}

TEST(ProgressTest, ProgressPutRejectsWrongTypesAndRanges) {
    struct Case {
        const char* body;
        const char* field;
    };
    const Case cases[] = {
        {"", ""},
        {"[1]", ""},
        {R"({"duration_sec":10,"updated_at_ms":1,"seq":1})", "position_sec"},
        {R"({"position_sec":"1","duration_sec":10,"updated_at_ms":1,"seq":1})", "position_sec"},
        {R"({"position_sec":-0.5,"duration_sec":10,"updated_at_ms":1,"seq":1})", "position_sec"},
        {R"({"position_sec":1,"updated_at_ms":1,"seq":1})", "duration_sec"},
        {R"({"position_sec":1,"duration_sec":-10,"updated_at_ms":1,"seq":1})", "duration_sec"},
        {R"({"position_sec":1,"duration_sec":1e9,"updated_at_ms":1,"seq":1})", "duration_sec"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":1})", "seq"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":1,"seq":-1})", "seq"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":1,"seq":2.5})", "seq"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":1,"seq":"1"})", "seq"},
        {R"({"position_sec":1,"duration_sec":10,"seq":1})", "updated_at_ms"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":0,"seq":1})", "updated_at_ms"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":-5,"seq":1})", "updated_at_ms"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":1.7e12,"seq":1})", "updated_at_ms"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":"1763999999000","seq":1})",
         "updated_at_ms"},
        {R"({"position_sec":1,"duration_sec":10,"updated_at_ms":null,"seq":1})", "updated_at_ms"},
    };
    for (const Case& c : cases) {
        const FieldError e = error_of(parse_progress_put(c.body, kNow));
        EXPECT_EQ(e.field, c.field) << c.body;
        EXPECT_FALSE(e.reason.empty()) << c.body;
    }
}

TEST(ProgressTest, ProgressPutAllowsADayOfClockSkewButNoMore) {
    auto body = [](std::int64_t upd) {
        return R"({"position_sec":1,"duration_sec":10,"seq":1,"updated_at_ms":)" +
               std::to_string(upd) + "}";
    };
    EXPECT_EQ(value_of(parse_progress_put(body(kNow + kDayMs), kNow)).updated_at_ms, kNow + kDayMs);
    EXPECT_EQ(error_of(parse_progress_put(body(kNow + kDayMs + 1), kNow)).field, "updated_at_ms");
}

TEST(ProgressTest, ProgressPutRejectsAPositionBeyondTheDuration) {
    auto body = [](const char* pos) {
        return std::string(R"({"duration_sec":100,"updated_at_ms":1,"seq":1,"position_sec":)") +
               pos + "}";
    };
    EXPECT_EQ(value_of(parse_progress_put(body("101"), kNow)).position_sec, 101.0);  // 1 s of slack
    const FieldError e = error_of(parse_progress_put(body("101.5"), kNow));
    EXPECT_EQ(e.field, "position_sec");
    EXPECT_EQ(e.reason, "beyond duration_sec");
}

// --- internal API bodies -------------------------------------------------------------------

TEST(ProgressTest, UpstreamProgressDecodesTheReferenceServersShape) {
    // As services/internal_api writes it: extra profile_id and server_time_ms are ignored.
    const auto items = decode_upstream_progress(
        R"({"items":[{"profile_id":"p_1","content_id":"m_1","position_sec":1847.0,"duration_sec":7012.4,
                      "completed":false,"updated_at_ms":1760000000000,"seq":1},
                     {"profile_id":"p_1","content_id":"e_2","position_sec":0,"duration_sec":2400,
                      "completed":true,"updated_at_ms":1760000000001}],
            "server_time_ms":1764000000000})"
    );
    ASSERT_TRUE(items.has_value());
    ASSERT_EQ(items->size(), 2U);
    EXPECT_EQ((*items)[0].content_id, "m_1");
    EXPECT_DOUBLE_EQ((*items)[0].position_sec, 1847.0);
    EXPECT_DOUBLE_EQ((*items)[0].duration_sec, 7012.4);
    EXPECT_FALSE((*items)[0].completed);
    EXPECT_EQ((*items)[0].updated_at_ms, 1760000000000);
    EXPECT_EQ((*items)[0].seq, 1);
    EXPECT_EQ((*items)[1].content_id, "e_2");
    EXPECT_TRUE((*items)[1].completed);
    EXPECT_EQ((*items)[1].seq, 0);  // seq is optional
    const auto empty = decode_upstream_progress(R"({"items":[]})");
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->empty());
}

TEST(ProgressTest, UpstreamProgressRejectsAnyOtherShape) {
    const std::string ok_item =
        R"("content_id":"m_1","position_sec":1,"duration_sec":10,"completed":false,"updated_at_ms":5)";
    auto body = [](const std::string& item) { return R"({"items":[{)" + item + "}]}"; };
    ASSERT_TRUE(decode_upstream_progress(body(ok_item)).has_value());
    for (const std::string& b : {
             std::string("not json"),
             std::string("[]"),
             std::string(R"({"item":[]})"),
             std::string(R"({"items":{}})"),
             std::string(R"({"items":[1]})"),
             body(R"("position_sec":1,"duration_sec":10,"completed":false,"updated_at_ms":5)"),
             body(R"("content_id":"m_1","duration_sec":10,"completed":false,"updated_at_ms":5)"),
             body(R"("content_id":"m_1","position_sec":1,"completed":false,"updated_at_ms":5)"),
             body(R"("content_id":"m_1","position_sec":1,"duration_sec":10,"updated_at_ms":5)"),
             body(R"("content_id":"m_1","position_sec":1,"duration_sec":10,"completed":false)"),
             body(
                 R"("content_id":7,"position_sec":1,"duration_sec":10,"completed":false,"updated_at_ms":5)"
             ),
             body(
                 R"("content_id":"m/1","position_sec":1,"duration_sec":10,"completed":false,"updated_at_ms":5)"
             ),
             body(
                 R"("content_id":"m_1","position_sec":"1","duration_sec":10,"completed":false,"updated_at_ms":5)"
             ),
             body(
                 R"("content_id":"m_1","position_sec":-1,"duration_sec":10,"completed":false,"updated_at_ms":5)"
             ),
             body(
                 R"("content_id":"m_1","position_sec":1,"duration_sec":-10,"completed":false,"updated_at_ms":5)"
             ),
             body(
                 R"("content_id":"m_1","position_sec":1,"duration_sec":10,"completed":0,"updated_at_ms":5)"
             ),
             body(
                 R"("content_id":"m_1","position_sec":1,"duration_sec":10,"completed":false,"updated_at_ms":5.5)"
             ),
             body(
                 R"("content_id":"m_1","position_sec":1,"duration_sec":10,"completed":false,"updated_at_ms":"5")"
             ),
             body(ok_item + R"(,"seq":"1")"),
             body(ok_item + R"(,"seq":1.5)"),
             body(ok_item + R"(,"seq":null)"),
             body(ok_item + R"(,"seq":-1)"),  // the system of record never stores these
             body(
                 R"("content_id":"m_1","position_sec":1,"duration_sec":10,"completed":false,"updated_at_ms":-5)"
             ),
         }) {
        EXPECT_EQ(decode_upstream_progress(b), std::nullopt) << b;
    }
}

TEST(ProgressTest, BatchUpsertBodyParsesBackWithEveryField) {
    const std::vector<ProgressUpsert> items{
        {"p_1", record("m_1", 1902.5, 7012.4, 1760000000000, 17, false)},
        {"p_2", record("e_2", 0, 2400, 1760000000001, 0, true)},
    };
    const json::value v = json::parse(batch_upsert_body(items));
    ASSERT_TRUE(v.is_object());
    EXPECT_EQ(v.as_object().size(), 1U);
    const json::array& arr = v.at("items").as_array();
    ASSERT_EQ(arr.size(), 2U);
    const json::object& a = arr[0].as_object();
    EXPECT_EQ(a.size(), 7U);
    EXPECT_EQ(a.at("profile_id").as_string(), "p_1");
    EXPECT_EQ(a.at("content_id").as_string(), "m_1");
    EXPECT_DOUBLE_EQ(a.at("position_sec").to_number<double>(), 1902.5);
    EXPECT_DOUBLE_EQ(a.at("duration_sec").to_number<double>(), 7012.4);
    EXPECT_EQ(a.at("completed").as_bool(), false);
    EXPECT_EQ(a.at("updated_at_ms").as_int64(), 1760000000000);
    EXPECT_EQ(a.at("seq").as_int64(), 17);
    const json::object& b = arr[1].as_object();
    EXPECT_EQ(b.at("profile_id").as_string(), "p_2");
    EXPECT_EQ(b.at("position_sec").to_number<double>(), 0.0);
    EXPECT_EQ(b.at("completed").as_bool(), true);
    EXPECT_EQ(b.at("seq").as_int64(), 0);
    EXPECT_EQ(json::parse(batch_upsert_body({})).at("items").as_array().size(), 0U);
}

TEST(ProgressTest, ItemsResponseParsesBackWithTheContractFields) {
    const std::vector<ProgressRecord> items{
        record("m_1", 1847, 7012.4, 1760000000000, 3, false),
        record("e_2", 2400, 2400, 1760000000001, 9, true)};
    const json::value v = json::parse(progress_items_response(items, kNow));
    EXPECT_EQ(v.as_object().size(), 2U);
    EXPECT_EQ(v.at("server_time_ms").as_int64(), kNow);
    const json::array& arr = v.at("items").as_array();
    ASSERT_EQ(arr.size(), 2U);
    const json::object& a = arr[0].as_object();
    EXPECT_EQ(a.size(), 5U);  // api.md §5.7: no seq, no profile
    EXPECT_FALSE(a.contains("seq"));
    EXPECT_EQ(a.at("content_id").as_string(), "m_1");
    EXPECT_DOUBLE_EQ(a.at("position_sec").to_number<double>(), 1847.0);
    EXPECT_DOUBLE_EQ(a.at("duration_sec").to_number<double>(), 7012.4);
    EXPECT_EQ(a.at("completed").as_bool(), false);
    EXPECT_EQ(a.at("updated_at_ms").as_int64(), 1760000000000);
    EXPECT_EQ(arr[1].at("content_id").as_string(), "e_2");
    EXPECT_EQ(arr[1].at("completed").as_bool(), true);
    // And what we return decodes as an upstream body (same item shape).
    const auto back = decode_upstream_progress(progress_items_response(items, kNow));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->size(), 2U);
    EXPECT_TRUE(json::parse(progress_items_response({}, kNow)).at("items").as_array().empty());
}

}  // namespace
}  // namespace moneta::domain
