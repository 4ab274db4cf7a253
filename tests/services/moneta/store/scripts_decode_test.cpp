// The typed scripts' reply decoders (store/scripts/): each on a reply of its script's shape, on
// an error reply (kUpstreamError) and on a reply of another shape (kProtocolError, or what the
// store always made of it). Replies are parsed from RESP bytes: no server. The calls' keys and
// arguments are checked where the caller's values decide them.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/error.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "store/scripts/continue_watching_script.hpp"
#include "store/scripts/due_take_script.hpp"
#include "store/scripts/flush_clear_script.hpp"
#include "store/scripts/flush_snapshot_script.hpp"
#include "store/scripts/progress_load_script.hpp"
#include "store/scripts/session_kick_script.hpp"
#include "store/scripts/session_list_script.hpp"
#include "store/scripts/session_start_script.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::store {
namespace {

std::string bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
std::string integer(std::int64_t v) { return ":" + std::to_string(v) + "\r\n"; }
std::string array(std::initializer_list<std::string> elements) {
    std::string out = "*" + std::to_string(elements.size()) + "\r\n";
    for (const std::string& e : elements) {
        out += e;
    }
    return out;
}
const std::string kError =
    "-ERR user_script:1: Script attempted to access nonexistent global variable\r\n";
const std::string kStatus = "+OK\r\n";

redis::Reply parse(std::string_view wire) {
    auto r = redis::Reply::from_resp(wire);
    EXPECT_TRUE(r.has_value()) << "not one complete reply: " << wire;
    return r ? std::move(*r) : redis::Reply{};
}

template <class T>
boost::system::error_code error_of(const core::Result<T>& r) {
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? boost::system::error_code{} : r.error();
}
const boost::system::error_code kUpstream = core::make_error(core::Errc::kUpstreamError);
const boost::system::error_code kProtocol = core::make_error(core::Errc::kProtocolError);

std::vector<std::string> texts(std::span<const std::string_view> views) {
    return {views.begin(), views.end()};
}

// --- session start -----------------------------------------------------------------------------

TEST(SessionStartScriptDecode, ReadsAGrant) {
    const auto reply = parse(array({integer(1), integer(90'000), integer(2), bulk("s_old")}));
    const auto r = SessionStartScript::decode(reply.view());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->outcome, SessionStartReply::Outcome::kGranted);
    EXPECT_EQ(r->expires_at_ms, 90'000);
    EXPECT_EQ(r->active_streams, 2);
    EXPECT_EQ(r->replaced_session_id, "s_old");
}

TEST(SessionStartScriptDecode, AReplacedIdLongerThanAnyIdIsAProtocolError) {
    const std::string longest(domain::kMaxIdLength, 'a');
    const auto at_limit = parse(array({integer(1), integer(90'000), integer(2), bulk(longest)}));
    ASSERT_TRUE(SessionStartScript::decode(at_limit.view()).has_value());
    const auto over = parse(array({integer(1), integer(90'000), integer(2), bulk(longest + "a")}));
    const auto r = SessionStartScript::decode(over.view());
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), kProtocol);
}

TEST(SessionStartScriptDecode, ReadsADenialWithTheLiveLeases) {
    const auto reply = parse(array(
        {integer(0),
         bulk("s1"),
         bulk("{\"device_id\":\"d1\"}"),
         bulk("1000"),
         bulk("s2"),
         bulk("{}"),
         bulk("2000")}
    ));
    const auto r = SessionStartScript::decode(reply.view());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->outcome, SessionStartReply::Outcome::kDenied);
    ASSERT_EQ(r->leases.size(), 2U);
    EXPECT_EQ(r->leases[0].session_id, "s1");
    EXPECT_EQ(r->leases[0].info_json, "{\"device_id\":\"d1\"}");
    EXPECT_EQ(r->leases[0].expires_at_ms, 1000);
    EXPECT_EQ(r->leases[1].session_id, "s2");
    EXPECT_EQ(r->leases[1].expires_at_ms, 2000);
}

TEST(SessionStartScriptDecode, ReadsAnIdempotentReplayAndASupersededGrant) {
    const auto replay = parse(array({integer(3), bulk("hash\n{\"ok\":1}")}));
    const auto r = SessionStartScript::decode(replay.view());
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->outcome, SessionStartReply::Outcome::kIdempotentReplay);
    EXPECT_EQ(r->idempotency_value, "hash\n{\"ok\":1}");

    const auto superseded = parse(array({integer(4), bulk("s_later")}));
    const auto s = SessionStartScript::decode(superseded.view());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->outcome, SessionStartReply::Outcome::kSuperseded);
    EXPECT_EQ(s->superseded_by, "s_later");

    const auto stopped = parse(array({integer(5)}));  // stopped before its grant was replayed
    const auto t = SessionStartScript::decode(stopped.view());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->outcome, SessionStartReply::Outcome::kSuperseded);
    EXPECT_TRUE(t->superseded_by.empty());
    EXPECT_FALSE(SessionStartScript::decode(parse(array({integer(5), bulk("x")})).view()));
}

TEST(SessionStartScriptDecode, AScriptErrorIsAnUpstreamError) {
    EXPECT_EQ(error_of(SessionStartScript::decode(parse(kError).view())), kUpstream);
}

TEST(SessionStartScriptDecode, AnotherShapeIsAProtocolError) {
    for (const std::string& wire :
         {kStatus,
          integer(1),
          array({}),
          array({integer(1), integer(2)}),
          array({integer(0), bulk("s1"), bulk("{}")}),
          array({integer(3)}),
          array({integer(4), bulk("a"), bulk("b")}),
          array({integer(7), bulk("x")})}) {
        EXPECT_EQ(error_of(SessionStartScript::decode(parse(wire).view())), kProtocol) << wire;
    }
}

TEST(SessionStartScriptCall, SendsTheReplayedStartTimeOnlyForAReplayedGrant) {
    SessionStartArgs a{
        .account_id = "a1",
        .session_id = "s1",
        .device_id = "d1",
        .info_json = "{}",
        .idempotency_value = "h\n",
        .meta = "2|m",
        .now_ms = 5,
        .lease_ms = 90'000,
        .max_streams = 2,
        .tombstone_ms = 600'000,
        .idempotency_ttl_ms = 60'000,
        .meta_ttl_ms = 86'400'000,
        .started_at_ms = 4};
    {
        const SessionStartScript::Call live(a);
        EXPECT_EQ(live.keys().size(), SessionStartScript::kKeys);
        EXPECT_EQ(
            texts(live.args()),
            (std::vector<std::string>{
                "5",
                "90000",
                "2",
                "s1",
                "d1",
                "{}",
                "",
                "600000",
                "h\n",
                "60000",
                "86400000",
                "",
                "2|m"})
        );
    }
    a.replayed_grant = true;
    const SessionStartScript::Call replayed(a);
    EXPECT_EQ(replayed.args()[11], "4");
}

// --- session list and kick ---------------------------------------------------------------------

TEST(SessionListScriptDecode, ReadsTheLeasesAndIgnoresAnIncompleteTrailingOne) {
    const auto reply = parse(array({bulk("s1"), bulk("{}"), bulk("1000"), bulk("s2"), bulk("{}")}));
    const auto r = SessionListScript::decode(reply.view());
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 1U);
    EXPECT_EQ((*r)[0].session_id, "s1");
    EXPECT_EQ((*r)[0].expires_at_ms, 1000);
    const auto none = parse(array({}));
    ASSERT_TRUE(SessionListScript::decode(none.view()).has_value());
    EXPECT_EQ(SessionListScript::decode(none.view())->size(), 0U);
}

TEST(SessionListScriptDecode, AnErrorIsUpstreamAndAnotherShapeProtocol) {
    EXPECT_EQ(error_of(SessionListScript::decode(parse(kError).view())), kUpstream);
    EXPECT_EQ(error_of(SessionListScript::decode(parse(integer(1)).view())), kProtocol);
}

TEST(SessionKickScriptDecode, OneIsKickedAndAnythingElseNotFound) {
    EXPECT_EQ(SessionKickScript::decode(parse(integer(1)).view()).value(), true);
    EXPECT_EQ(SessionKickScript::decode(parse(integer(0)).view()).value(), false);
    // Kept from the store before the script was typed: another shape reads as "no live lease".
    EXPECT_EQ(SessionKickScript::decode(parse(kStatus).view()).value(), false);
    EXPECT_EQ(error_of(SessionKickScript::decode(parse(kError).view())), kUpstream);
}

// --- progress load and continue watching -------------------------------------------------------

TEST(ProgressLoadScriptDecode, OnlyAScriptErrorFails) {
    EXPECT_TRUE(ProgressLoadScript::decode(parse(integer(1)).view()).has_value());
    // The store only counts a failed load; any other answer was always taken as loaded.
    EXPECT_TRUE(ProgressLoadScript::decode(parse(kStatus).view()).has_value());
    EXPECT_EQ(error_of(ProgressLoadScript::decode(parse(kError).view())), kUpstream);
}

TEST(ProgressLoadScriptCall, SendsTheRecordsThenTheRequestedIdsWithoutAPosition) {
    domain::ProgressRecord r;
    r.content_id = "c1";
    r.position_sec = 12.5;
    r.duration_sec = 100;
    r.updated_at_ms = 7;
    r.seq = 3;
    r.completed = true;
    const std::vector<domain::ProgressRecord> records = {r};
    const std::vector<std::string> requested = {"c1", "c2"};
    const ProgressSettings settings;
    const ProgressLoadScript::Call call(ProgressLoadArgs{"a1", "p1", records, requested, settings});
    EXPECT_EQ(call.keys().size(), ProgressLoadScript::kKeys);
    const std::vector<std::string> args = texts(call.args());
    ASSERT_EQ(args.size(), 9U + 6U + 1U);
    EXPECT_EQ(args[2], "");  // ids were asked for: not the "~cw" load
    EXPECT_EQ(args[3], "1");
    EXPECT_EQ(args[4], "p1");
    EXPECT_EQ(
        (std::vector<std::string>(args.begin() + 9, args.end())),
        (std::vector<std::string>{"c1", "12.5", "100", "7", "3", "1", "c2"})
    );

    const ProgressLoadScript::Call newest(ProgressLoadArgs{"a1", "p1", records, {}, settings});
    EXPECT_EQ(newest.args()[2], "~cw");
}

TEST(ContinueWatchingScriptDecode, ReadsTheMarkerAndTheTitles) {
    const auto reply = parse(array({integer(1), bulk("c1"), bulk("v1"), bulk("c2"), bulk("v2")}));
    const auto r = ContinueWatchingScript::decode(reply.view());
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->loaded);
    ASSERT_EQ(r->size(), 2U);
    EXPECT_EQ((*r)[1].content_id, "c2");
    EXPECT_EQ((*r)[1].value, "v2");
    const auto unloaded = parse(array({integer(0)}));
    ASSERT_TRUE(ContinueWatchingScript::decode(unloaded.view()).has_value());
    EXPECT_FALSE(ContinueWatchingScript::decode(unloaded.view())->loaded);
    EXPECT_EQ(ContinueWatchingScript::decode(unloaded.view())->size(), 0U);
}

TEST(ContinueWatchingScriptDecode, AnErrorIsUpstreamAndAnotherShapeProtocol) {
    EXPECT_EQ(error_of(ContinueWatchingScript::decode(parse(kError).view())), kUpstream);
    EXPECT_EQ(error_of(ContinueWatchingScript::decode(parse(array({})).view())), kProtocol);
    EXPECT_EQ(error_of(ContinueWatchingScript::decode(parse(integer(1)).view())), kProtocol);
}

// --- the flusher's scripts ---------------------------------------------------------------------

TEST(FlushSnapshotScriptDecode, ReadsTheEntries) {
    const auto reply = parse(array(
        {bulk("p1/c1"),
         bulk("*7|1|0|0"),
         bulk("1|2|7|1|0|s"),
         bulk("p1/c2"),
         bulk("*8|1|0|0"),
         bulk("")}
    ));
    const auto r = FlushSnapshotScript::decode(reply.view());
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 2U);
    EXPECT_EQ((*r)[0].field, "p1/c1");
    EXPECT_EQ((*r)[0].version, "*7|1|0|0");
    EXPECT_EQ((*r)[0].value, "1|2|7|1|0|s");
    EXPECT_EQ((*r)[1].value, "");
}

TEST(FlushSnapshotScriptDecode, AnErrorIsUpstreamAndAnotherShapeProtocol) {
    EXPECT_EQ(error_of(FlushSnapshotScript::decode(parse(kError).view())), kUpstream);
    EXPECT_EQ(error_of(FlushSnapshotScript::decode(parse(integer(0)).view())), kProtocol);
}

TEST(FlushSnapshotScriptCall, PassesTheProgressPrefixAsAnArgument) {
    const FlushSnapshotScript::Call call(FlushSnapshotArgs{"a1", 42});
    ASSERT_EQ(call.keys().size(), 1U);
    EXPECT_EQ(call.keys()[0], testing::account_key("dirty:", "a1"));
    EXPECT_EQ(texts(call.args()), (std::vector<std::string>{testing::account_key("prog:", "a1", ":"), "42"}));
}

TEST(FlushClearScriptCall, SendsTheAccountThenEachFieldAtItsVersion) {
    FlushClearScript::Call call(FlushClearArgs{"a1", 1000, 60'000});
    call.add("p1/c1", "*7|1|0|0");
    ASSERT_EQ(call.keys().size(), FlushClearScript::kKeys);
    EXPECT_EQ(call.keys()[1], testing::partition_key("progdue:", testing::account_partition("a1")));
    EXPECT_EQ(
        texts(call.args()), (std::vector<std::string>{"a1", "1000", "60000", "p1/c1", "*7|1|0|0"})
    );
}

TEST(DueTakeScriptDecode, ReadsTheAccountsTaken) {
    const auto reply = parse(array({bulk("a1"), bulk("a2")}));
    const auto r = DueTakeScript::decode(reply.view());
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->size(), 2U);
    EXPECT_EQ((*r)[1].as_string_view(), "a2");
    EXPECT_EQ(error_of(DueTakeScript::decode(parse(kError).view())), kUpstream);
    EXPECT_EQ(error_of(DueTakeScript::decode(parse(integer(0)).view())), kProtocol);
}

TEST(DueTakeScriptCall, TakesEverythingAtAStop) {
    const DueTakeScript::Call due(DueTakeArgs{
        .partition = 1, .due_by_ms = 5, .claim_until_ms = 9, .count = 10});
    EXPECT_EQ(due.keys()[0], "progdue:{p1}");
    EXPECT_EQ(texts(due.args()), (std::vector<std::string>{"5", "9", "10"}));
    const DueTakeScript::Call all(DueTakeArgs{
        .partition = 1, .everything = true, .due_by_ms = 5, .claim_until_ms = 9, .count = 10});
    EXPECT_EQ(all.args()[0], "+inf");
}

}  // namespace
}  // namespace moneta::store
