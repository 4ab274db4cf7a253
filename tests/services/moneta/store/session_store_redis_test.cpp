// SessionStore against a real redis-server: the lease rules of api.md §6 (stream limit, same-device
// replacement, hand-over, lazy expiry, tombstones), idempotent starts, and the progress each
// heartbeat/stop records (docs/data.md). Time is driven with explicit now_ms values, never slept.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "store_test_util.hpp"
#include "domain/progress.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/redis_server.hpp"
#include "store/progress_stream.hpp"
#include "store/session_store.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::store {
namespace {

using namespace std::chrono_literals;
using domain::HeartbeatStatus;
using redis::testing::run;

constexpr std::int64_t kT0 = 1'764'000'000'000;
constexpr std::int64_t kLeaseMs = 90'000;
constexpr std::int64_t kTombMs = 600'000;
constexpr double kDuration = 7012.4;
constexpr double kCompletion = 6800.0;  // max(credits_start 6800, 95 % of 7012.4)

domain::SessionInfo session(std::string sid, std::string device) {
    domain::SessionInfo s;
    s.session_id = std::move(sid);
    s.device_id = std::move(device);
    s.device_type = "tv";
    s.device_name = "Living room";
    s.content_id = "m_1";
    s.profile_id = "p_1";
    s.started_at_ms = kT0;
    return s;
}

SessionMeta meta_for(std::string content = "m_1", bool start_over = false) {
    SessionMeta m;
    m.profile_id = "p_1";
    m.content_id = std::move(content);
    m.duration_sec = kDuration;
    m.completion_sec = kCompletion;
    m.start_over = start_over;
    m.window_end_ms = kT0 + 86'400'000;
    m.selection = "sel:dash/avc/1080";
    return m;
}

using test_util::value_of;

const domain::LeaseGranted* granted(const StartOutcome& o) {
    return std::get_if<domain::LeaseGranted>(&o);
}
const domain::LeaseDenied* denied(const StartOutcome& o) {
    return std::get_if<domain::LeaseDenied>(&o);
}

std::set<std::string> ids_of(const std::vector<domain::ActiveSession>& v) {
    std::set<std::string> out;
    for (const auto& a : v) {
        out.insert(a.info.session_id);
    }
    return out;
}

class SessionStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto server = moneta::testing::RedisServer::start({});
        ASSERT_TRUE(server) << server.error().message();
        server_.emplace(std::move(*server));
        client_ = make_client();
        store_ = std::make_unique<SessionStore>(*client_, lease_settings(), progress_settings());
        // Load the scripts up front so every test sees the warm path (EVALSHA answered at once).
        for (const redis::Script* script :
             {&store_->start_script(),
              &store_->heartbeat_script().script(),
              &store_->stop_script(),
              &store_->list_script(),
              &store_->kick_script()}) {
            ASSERT_EQ(
                redis({"SCRIPT", "LOAD", std::string(script->source())}),
                std::string(script->sha1())
            );
        }
    }

    void TearDown() override {
        for (auto& c : clients_) {
            run(
                io_,
                [](redis::Client& cl) -> boost::asio::awaitable<int> {
                    co_await cl.async_stop();
                    co_return 0;
                }(*c),
                10s
            );
        }
    }

    static LeaseSettings lease_settings() {
        LeaseSettings s;
        s.lease = std::chrono::milliseconds(kLeaseMs);
        s.tombstone = std::chrono::milliseconds(kTombMs);
        return s;
    }
    static ProgressSettings progress_settings() {
        ProgressSettings s;
        return s;
    }

    redis::Client* make_client() {
        clients_.push_back(test_util::connect_client(io_, server_->port()));
        redis::Client* c = clients_.back().get();
        EXPECT_TRUE(c->connected());
        return c;
    }

    StartOutcome start(
        const domain::SessionInfo& info,
        int max,
        std::int64_t now,
        std::string_view replace = "",
        std::string_view idem_key = "",
        std::string_view idem_hash = "",
        const SessionMeta& meta = meta_for(),
        std::string_view account = "a_1"
    ) {
        const StartCommand cmd{
            .account_id = account,
            .max_streams = max,
            .info = info,
            .replace_session_id = replace,
            .now_ms = now,
            .idempotency_key = idem_key,
            .idempotency_hash = idem_hash,
            .meta = meta};
        return value_of(run(io_, store_->async_start(cmd, core::Deadline::never())));
    }

    HeartbeatResult heartbeat(
        std::string_view sid,
        double pos,
        std::int64_t seq,
        std::int64_t now,
        std::string_view account = "a_1"
    ) {
        return value_of(
            run(io_, store_->async_heartbeat(account, sid, pos, seq, now, core::Deadline::never()))
        );
    }

    StopResult stop(
        std::string_view sid, double pos, std::int64_t seq, bool ended, std::int64_t now
    ) {
        return value_of(
            run(io_, store_->async_stop("a_1", sid, pos, seq, ended, now, core::Deadline::never()))
        );
    }

    std::vector<domain::ActiveSession> list(std::int64_t now) {
        return value_of(run(io_, store_->async_list("a_1", now, core::Deadline::never())));
    }

    KickResult kick(std::string_view account, std::string_view sid, std::int64_t now) {
        return value_of(run(io_, store_->async_kick(account, sid, now, core::Deadline::never())));
    }

    std::optional<LiveSession> live(std::string_view sid, std::int64_t now) {
        return value_of(
            run(io_, store_->async_live_session("a_1", sid, now, core::Deadline::never()))
        );
    }

    /// Raw Redis, printable (RedisServer::command: nil is "(nil)").
    std::string redis(std::vector<std::string> args) { return server_->command(std::move(args)); }

    std::string stream_key() const {
        return testing::partition_key("progq:", testing::account_partition("a_1"));
    }
    long long markers() { return std::stoll(redis({"XLEN", stream_key()})); }
    /// a_1's score in its due index (docs/data.md "Due index"), "(nil)" when absent.
    std::string due_score() {
        return redis({"ZSCORE", testing::partition_key("progdue:", testing::account_partition("a_1")), "a_1"});
    }
    /// A dirty entry as stored: "upd|seq|announced_at|due_at" (announced_at 0: held, no marker).
    static std::string dirty(std::int64_t upd, std::int64_t seq, std::int64_t announced, std::int64_t due) {
        return std::to_string(upd) + "|" + std::to_string(seq) + "|" + std::to_string(announced) + "|" +
               std::to_string(due);
    }
    static constexpr std::int64_t kHoldMs = ProgressSettings{}.flush_hold.count();

    boost::asio::io_context io_;
    std::optional<moneta::testing::RedisServer> server_;
    std::vector<std::unique_ptr<redis::Client>> clients_;
    redis::Client* client_ = nullptr;
    std::unique_ptr<SessionStore> store_;
};

const std::string kProgKey = testing::account_key("prog:", "a_1", ":p_1");
const std::string kCwKey = testing::account_key("cw:", "a_1", ":p_1");
const std::string kDirtyKey = testing::account_key("dirty:", "a_1");

// ---- leases ------------------------------------------------------------------------------------

TEST_F(SessionStoreTest, GrantsUpToMaxStreamsThenDeniesListingTheLiveSessions) {
    for (int i = 0; i < 2; ++i) {
        const auto o =
            start(session("ps_" + std::to_string(i), "d" + std::to_string(i)), 2, kT0 + i);
        ASSERT_NE(granted(o), nullptr);
        EXPECT_EQ(granted(o)->active_streams, i + 1);
        EXPECT_EQ(granted(o)->expires_at_ms, kT0 + i + kLeaseMs);
        EXPECT_EQ(granted(o)->replaced_session_id, "");
    }
    EXPECT_EQ(heartbeat("ps_1", 10, 1, kT0 + 5).lease.status, HeartbeatStatus::kRenewed);

    const auto o = start(session("ps_x", "d9"), 2, kT0 + 10);
    const auto* d = denied(o);
    ASSERT_NE(d, nullptr);
    ASSERT_EQ(d->active.size(), 2U);
    EXPECT_EQ(ids_of(d->active), (std::set<std::string>{"ps_0", "ps_1"}));
    for (const auto& a : d->active) {
        EXPECT_EQ(a.info.device_type, "tv");
        EXPECT_EQ(a.info.content_id, "m_1");
        EXPECT_EQ(a.last_seen_ms, a.info.session_id == "ps_0" ? kT0 : kT0 + 5);  // renewed at +5
    }
    // The details body of STREAM_LIMIT_REACHED carries the same sessions.
    const auto details = boost::json::parse(domain::stream_limit_details(*d));
    EXPECT_EQ(details.at("active_sessions").as_array().size(), 2U);

    // The denied start left no lease, no device index and no meta behind.
    EXPECT_EQ(redis({"ZCARD", testing::account_key("lease:", "a_1")}), "2");
    EXPECT_EQ(redis({"HGET", testing::account_key("dev:", "a_1"), "d9"}), "(nil)");
    EXPECT_EQ(redis({"EXISTS", testing::account_key("sm:", "a_1", ":ps_x")}), "0");
    const auto hb = heartbeat("ps_x", 10, 1, kT0 + 11);
    EXPECT_EQ(hb.lease.status, HeartbeatStatus::kNotFound);
    EXPECT_EQ(hb.progress, ProgressWrite::kUnknownSession);
}

TEST_F(SessionStoreTest, ADeniedStartEvictsNobody) {
    ASSERT_NE(granted(start(session("ps_a", "d-a"), 2, kT0)), nullptr);
    ASSERT_NE(granted(start(session("ps_b", "d-b"), 2, kT0)), nullptr);
    // The limit dropped to 1 (plan downgrade): d-a restarting would still leave ps_b → denied,
    // and d-a's own lease must survive the denial.
    EXPECT_NE(denied(start(session("ps_c", "d-a"), 1, kT0 + 1)), nullptr);
    EXPECT_EQ(heartbeat("ps_a", 1, 1, kT0 + 2).lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(heartbeat("ps_b", 1, 1, kT0 + 2).lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(redis({"HGET", testing::account_key("dev:", "a_1"), "d-a"}), "ps_a");
}

TEST_F(SessionStoreTest, SameDeviceRestartReplacesItsOwnLease) {
    ASSERT_NE(granted(start(session("ps_old", "tv-1"), 1, kT0)), nullptr);
    const auto o = start(session("ps_new", "tv-1"), 1, kT0 + 5);
    ASSERT_NE(granted(o), nullptr);
    EXPECT_EQ(granted(o)->active_streams, 1);
    EXPECT_EQ(granted(o)->replaced_session_id, "ps_old");
    EXPECT_EQ(heartbeat("ps_old", 1, 2, kT0 + 6).lease.status, HeartbeatStatus::kEvicted);
    EXPECT_EQ(heartbeat("ps_new", 1, 1, kT0 + 6).lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(redis({"HGET", testing::account_key("dev:", "a_1"), "tv-1"}), "ps_new");
    EXPECT_EQ(ids_of(list(kT0 + 7)), (std::set<std::string>{"ps_new"}));
}

TEST_F(SessionStoreTest, ReplaceSessionIdHandsTheLeaseOverAtomically) {
    ASSERT_NE(granted(start(session("ps_ep1", "phone"), 1, kT0)), nullptr);
    // At the limit, another device without a hand-over is denied...
    EXPECT_NE(denied(start(session("ps_x", "tablet"), 1, kT0 + 1)), nullptr);
    // ...and so is a hand-over of a session that holds no lease (unknown id).
    EXPECT_NE(denied(start(session("ps_y", "tablet"), 1, kT0 + 1, "ps_unknown")), nullptr);
    // Handing ps_ep1 over frees its slot in the same script.
    const auto o = start(session("ps_ep2", "tablet"), 1, kT0 + 2, "ps_ep1");
    ASSERT_NE(granted(o), nullptr);
    EXPECT_EQ(granted(o)->replaced_session_id, "ps_ep1");
    EXPECT_EQ(granted(o)->active_streams, 1);
    EXPECT_EQ(heartbeat("ps_ep1", 1, 9, kT0 + 3).lease.status, HeartbeatStatus::kEvicted);
    EXPECT_EQ(ids_of(list(kT0 + 3)), (std::set<std::string>{"ps_ep2"}));
    EXPECT_EQ(
        redis({"HGET", testing::account_key("dev:", "a_1"), "phone"}), "(nil)"
    );  // ps_ep1's device index went with it
}

TEST_F(SessionStoreTest, HandOverFromADeviceThatHoldsAnotherLeaseTakesBoth) {
    ASSERT_NE(granted(start(session("ps_a", "d1"), 2, kT0)), nullptr);
    ASSERT_NE(granted(start(session("ps_b", "d2"), 2, kT0)), nullptr);
    const auto o = start(session("ps_c", "d1"), 2, kT0 + 1, "ps_b");
    ASSERT_NE(granted(o), nullptr);
    EXPECT_EQ(granted(o)->replaced_session_id, "ps_b");
    EXPECT_EQ(granted(o)->active_streams, 1);
    EXPECT_EQ(heartbeat("ps_a", 1, 9, kT0 + 2).lease.status, HeartbeatStatus::kEvicted);
    EXPECT_EQ(heartbeat("ps_b", 1, 9, kT0 + 2).lease.status, HeartbeatStatus::kEvicted);
    EXPECT_EQ(ids_of(list(kT0 + 2)), (std::set<std::string>{"ps_c"}));
}

TEST_F(SessionStoreTest, ReplaceSessionIdCannotTakeAnotherAccountsLease) {
    ASSERT_NE(
        granted(start(session("ps_theirs", "d1"), 1, kT0, "", "", "", meta_for(), "a_2")), nullptr
    );
    ASSERT_NE(granted(start(session("ps_mine", "d1"), 1, kT0)), nullptr);
    // a_1 names a_2's session as the one to replace: it is not in a_1's leases, so a_1 is at its
    // limit and a_2 keeps its stream.
    EXPECT_NE(denied(start(session("ps_2", "d2"), 1, kT0 + 1, "ps_theirs")), nullptr);
    EXPECT_EQ(heartbeat("ps_theirs", 1, 1, kT0 + 2, "a_2").lease.status, HeartbeatStatus::kRenewed);
}

TEST_F(SessionStoreTest, ExpiredLeasesArePrunedLazilyAndFreeTheirSlot) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    EXPECT_NE(denied(start(session("ps_2", "d2"), 1, kT0 + kLeaseMs - 1)), nullptr);  // still live
    // Nothing runs between: the expired lease is still stored until a script looks at it.
    EXPECT_EQ(redis({"ZCARD", testing::account_key("lease:", "a_1")}), "1");
    const auto o = start(session("ps_2", "d2"), 1, kT0 + kLeaseMs);  // expiry is exclusive
    ASSERT_NE(granted(o), nullptr);
    EXPECT_EQ(granted(o)->active_streams, 1);
    EXPECT_EQ(granted(o)->replaced_session_id, "");  // expired, not replaced
    EXPECT_EQ(redis({"ZRANGE", testing::account_key("lease:", "a_1"), "0", "-1"}), "ps_2");
    EXPECT_EQ(redis({"HEXISTS", testing::account_key("sess:", "a_1"), "ps_1"}), "0");
    EXPECT_EQ(redis({"HGET", testing::account_key("dev:", "a_1"), "d1"}), "(nil)");
    // An expired lease is "gone" (404), not "evicted" (409).
    EXPECT_EQ(heartbeat("ps_1", 5, 2, kT0 + kLeaseMs + 1).lease.status, HeartbeatStatus::kNotFound);
}

TEST_F(SessionStoreTest, HeartbeatRenewsUntilTheLeaseRunsOut) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    const auto hb = heartbeat("ps_1", 30, 1, kT0 + kLeaseMs - 1);
    EXPECT_EQ(hb.lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(hb.lease.expires_at_ms, kT0 + kLeaseMs - 1 + kLeaseMs);
    EXPECT_EQ(hb.progress, ProgressWrite::kApplied);
    EXPECT_EQ(hb.window_end_ms, kT0 + 86'400'000);
    const auto sessions = list(kT0 + kLeaseMs);
    ASSERT_EQ(sessions.size(), 1U);
    EXPECT_EQ(sessions[0].last_seen_ms, kT0 + kLeaseMs - 1);
    EXPECT_EQ(
        heartbeat("ps_1", 60, 2, kT0 + 2 * kLeaseMs - 1).lease.status, HeartbeatStatus::kNotFound
    );
    EXPECT_EQ(heartbeat("ps_unknown", 60, 2, kT0).lease.status, HeartbeatStatus::kNotFound);
}

// The heartbeat judges the entitlement digest written next to the cached account, for the
// session's profile; without the account itself (a billing event DELs `ent:`) it is "no news".
TEST_F(SessionStoreTest, HeartbeatJudgesTheEntitlementDigestOfTheCachedAccount) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    std::int64_t seq = 0;
    auto judged = [&] {
        ++seq;
        const auto hb = heartbeat("ps_1", static_cast<double>(seq), seq, kT0 + seq);
        EXPECT_EQ(hb.lease.status, HeartbeatStatus::kRenewed);
        return std::pair{hb.entitlement, hb.entitlement_fetched_at_ms};
    };
    EXPECT_EQ(judged(), std::pair(Entitlement::kUnknown, std::int64_t{0}));
    const std::string paid = std::to_string(kT0 + 86'400'000);
    ASSERT_EQ(redis({"SET", testing::account_key("entd:", "a_1"), "123|" + paid + "|3:p_13:p_2"}), "OK");
    EXPECT_EQ(judged(), std::pair(Entitlement::kUnknown, std::int64_t{0}));  // no account cached
    ASSERT_EQ(redis({"SET", testing::account_key("ent:", "a_1"), "123|{}"}), "OK");
    EXPECT_EQ(judged(), std::pair(Entitlement::kEntitled, std::int64_t{123}));
    ASSERT_EQ(redis({"SET", testing::account_key("entd:", "a_1"), "124|" + paid + "|3:p_2"}), "OK");
    EXPECT_EQ(judged(), std::pair(Entitlement::kProfileRemoved, std::int64_t{124}));
    ASSERT_EQ(redis({"SET", testing::account_key("entd:", "a_1"), "125|0|3:p_1"}), "OK");  // not active
    EXPECT_EQ(judged(), std::pair(Entitlement::kSubscriptionEnded, std::int64_t{125}));
    ASSERT_EQ(redis({"SET", testing::account_key("entd:", "a_1"), "126|" + std::to_string(kT0 + 5) + "|3:p_1"}), "OK");
    EXPECT_EQ(judged(), std::pair(Entitlement::kSubscriptionEnded, std::int64_t{126}));  // paid until +5, now +6
    ASSERT_EQ(redis({"SET", testing::account_key("entd:", "a_1"), "garbage"}), "OK");
    EXPECT_EQ(judged(), std::pair(Entitlement::kUnknown, std::int64_t{0}));
    ASSERT_EQ(redis({"SET", testing::account_key("entd:", "a_1"), "127|" + paid + "|3:p_1"}), "OK");
    ASSERT_EQ(redis({"DEL", testing::account_key("ent:", "a_1")}), "1");  // a billing event
    EXPECT_EQ(judged(), std::pair(Entitlement::kUnknown, std::int64_t{0}));
}

TEST_F(SessionStoreTest, EvictionIsRememberedOnlyForTheTombstoneTime) {
    ASSERT_NE(granted(start(session("ps_old", "tv"), 1, kT0)), nullptr);
    ASSERT_NE(granted(start(session("ps_new", "tv"), 1, kT0 + 1)), nullptr);
    EXPECT_EQ(heartbeat("ps_old", 1, 1, kT0 + kTombMs).lease.status, HeartbeatStatus::kEvicted);
    EXPECT_EQ(
        heartbeat("ps_old", 1, 2, kT0 + 1 + kTombMs).lease.status, HeartbeatStatus::kNotFound
    );
}

TEST_F(SessionStoreTest, StopReleasesOnceAndIsIdempotent) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    const auto first = stop("ps_1", 100, 2, false, kT0 + 1);
    EXPECT_TRUE(first.released);
    EXPECT_EQ(first.progress, ProgressWrite::kApplied);
    EXPECT_FALSE(stop("ps_1", 100, 2, false, kT0 + 2).released);
    const auto unknown = stop("ps_unknown", 100, 1, false, kT0 + 2);
    EXPECT_FALSE(unknown.released);
    EXPECT_EQ(unknown.progress, ProgressWrite::kUnknownSession);
    EXPECT_EQ(
        heartbeat("ps_1", 100, 3, kT0 + 3).lease.status, HeartbeatStatus::kNotFound
    );  // stopped ≠ evicted
    EXPECT_NE(granted(start(session("ps_2", "d2"), 1, kT0 + 3)), nullptr);
    EXPECT_EQ(redis({"HGET", testing::account_key("dev:", "a_1"), "d1"}), "(nil)");
}

// A stop that finds no lease leaves a stopped mark (for a fail-open grant replayed later on
// another instance). Stops of made-up ids cannot grow the account's tombstone set past 256.
TEST_F(SessionStoreTest, StopsOfUnknownSessionsCannotGrowTheTombstoneSetPastItsBound) {
    for (int i = 0; i < 400; ++i) {
        EXPECT_FALSE(stop("ps_made_up_" + std::to_string(i), 1, 1, false, kT0 + i).released);
    }
    EXPECT_EQ(redis({"ZCARD", testing::account_key("evict:", "a_1")}), "256");
    EXPECT_GT(std::stoll(redis({"PTTL", testing::account_key("evict:", "a_1")})), 0) << "the set expires";
    EXPECT_EQ(heartbeat("ps_made_up_1", 1, 2, kT0 + 500).lease.status, HeartbeatStatus::kNotFound)
        << "a stopped mark is not an eviction";
    // A real session of the account still starts and stops.
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0 + 600)), nullptr);
    EXPECT_TRUE(stop("ps_1", 2, 1, false, kT0 + 601).released);
}

TEST_F(SessionStoreTest, StopOfAnExpiredLeaseReleasesNothingButStoresProgress) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    const auto r = stop("ps_1", 321.5, 4, false, kT0 + kLeaseMs);
    EXPECT_FALSE(r.released);
    EXPECT_EQ(r.progress, ProgressWrite::kApplied);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}),
        "321.5|7012.4|" + std::to_string(kT0 + kLeaseMs) + "|4|0|ps_1"
    );
    EXPECT_EQ(redis({"ZCARD", testing::account_key("lease:", "a_1")}), "0");
}

TEST_F(SessionStoreTest, ListShowsLiveSessionsWithTheirInfo) {
    EXPECT_TRUE(list(kT0).empty());
    auto info = session("ps_1", "d1");
    info.device_name = "Kitchen";
    info.device_type = "web";
    ASSERT_NE(granted(start(info, 3, kT0)), nullptr);
    ASSERT_NE(granted(start(session("ps_2", "d2"), 3, kT0 + 40'000)), nullptr);
    auto sessions = list(kT0 + 50'000);
    ASSERT_EQ(sessions.size(), 2U);
    std::sort(sessions.begin(), sessions.end(), [](const auto& a, const auto& b) {
        return a.info.session_id < b.info.session_id;
    });
    EXPECT_EQ(sessions[0].info.device_id, "d1");
    EXPECT_EQ(sessions[0].info.device_type, "web");
    EXPECT_EQ(sessions[0].info.device_name, "Kitchen");
    EXPECT_EQ(sessions[0].info.profile_id, "p_1");
    EXPECT_EQ(sessions[0].info.started_at_ms, kT0);
    EXPECT_EQ(sessions[0].last_seen_ms, kT0);
    EXPECT_EQ(sessions[1].last_seen_ms, kT0 + 40'000);
    // ps_1 expires at kT0 + lease: listing then prunes it.
    EXPECT_EQ(ids_of(list(kT0 + kLeaseMs)), (std::set<std::string>{"ps_2"}));
    EXPECT_EQ(redis({"HEXISTS", testing::account_key("sess:", "a_1"), "ps_1"}), "0");
}

TEST_F(SessionStoreTest, KickEvictsLiveSessionsOfTheSameAccountOnly) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 2, kT0)), nullptr);
    ASSERT_NE(
        granted(start(session("ps_other", "d1"), 2, kT0, "", "", "", meta_for(), "a_2")), nullptr
    );

    // Not a lease of a_1: the store says not found (the handler tells NOT_OWNER by the id's MAC).
    EXPECT_EQ(kick("a_1", "ps_other", kT0 + 1), KickResult::kNotFound);
    EXPECT_EQ(heartbeat("ps_other", 1, 1, kT0 + 2, "a_2").lease.status, HeartbeatStatus::kRenewed);

    EXPECT_EQ(kick("a_1", "ps_1", kT0 + 1), KickResult::kKicked);
    EXPECT_EQ(heartbeat("ps_1", 1, 1, kT0 + 2).lease.status, HeartbeatStatus::kEvicted);
    EXPECT_EQ(kick("a_1", "ps_1", kT0 + 3), KickResult::kNotFound);
    EXPECT_EQ(kick("a_1", "ps_unknown", kT0 + 3), KickResult::kNotFound);
    EXPECT_TRUE(list(kT0 + 3).empty());

    // An expired lease cannot be kicked: it is gone already.
    ASSERT_NE(granted(start(session("ps_2", "d2"), 2, kT0 + 10)), nullptr);
    EXPECT_EQ(kick("a_1", "ps_2", kT0 + 10 + kLeaseMs), KickResult::kNotFound);
    EXPECT_EQ(
        heartbeat("ps_2", 1, 1, kT0 + 11 + kLeaseMs).lease.status, HeartbeatStatus::kNotFound
    );
}

TEST_F(SessionStoreTest, LiveSessionReturnsTheMetaOnlyWhileTheLeaseLives) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 2, kT0)), nullptr);
    const auto s = live("ps_1", kT0 + 1);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->profile_id, "p_1");
    EXPECT_EQ(s->content_id, "m_1");
    EXPECT_EQ(s->selection, "sel:dash/avc/1080");
    EXPECT_EQ(s->lease_expires_at_ms, kT0 + kLeaseMs);
    EXPECT_FALSE(live("ps_1", kT0 + kLeaseMs).has_value());
    EXPECT_FALSE(live("ps_unknown", kT0).has_value());
    ASSERT_NE(granted(start(session("ps_2", "d2"), 2, kT0)), nullptr);
    EXPECT_TRUE(stop("ps_2", 1, 1, false, kT0 + 1).released);
    EXPECT_FALSE(live("ps_2", kT0 + 2).has_value());
}

TEST_F(SessionStoreTest, AnotherAccountCannotRenewStopOrWriteProgressThroughASessionId) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    const auto hb = heartbeat("ps_1", 999, 50, kT0 + 1, "a_2");
    EXPECT_EQ(hb.lease.status, HeartbeatStatus::kNotFound);
    EXPECT_EQ(hb.progress, ProgressWrite::kUnknownSession);
    auto stopped =
        run(io_,
            store_->async_stop("a_2", "ps_1", 999, 51, true, kT0 + 2, core::Deadline::never()));
    ASSERT_TRUE(stopped && *stopped);
    EXPECT_FALSE((*stopped)->released);
    EXPECT_EQ((*stopped)->progress, ProgressWrite::kUnknownSession);
    EXPECT_EQ(redis({"EXISTS", kProgKey}), "0");
    EXPECT_EQ(redis({"EXISTS", testing::account_key("prog:", "a_2", ":p_1")}), "0");
    EXPECT_EQ(ids_of(list(kT0 + 3)), (std::set<std::string>{"ps_1"}));
}

// The session meta (what heartbeats record progress from) must not expire under a lease kept
// alive by heartbeats for longer than LeaseSettings::meta (a player paused overnight, then
// resumed): its positions would be silently dropped (kUnknownSession). Heartbeats renew the TTLs
// by time: the meta says when the next renewal is due (at most max(lease, tombstone) + 60 s
// apart). The elapsed day is simulated by shortening the meta's TTL before the due heartbeat.
TEST_F(SessionStoreTest, ARenewedLeaseKeepsItsSessionMeta) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    constexpr std::int64_t kDue = kTombMs + 60'000;
    std::int64_t seq = 0;
    for (std::int64_t t = kT0 + 60'000; t < kT0 + kDue; t += 60'000) {
        ASSERT_EQ(heartbeat("ps_1", 100, ++seq, t).lease.status, HeartbeatStatus::kRenewed);
    }
    ASSERT_EQ(redis({"PEXPIRE", testing::account_key("sm:", "a_1", ":ps_1"), "2000"}), "1");  // ~24 h of heartbeats later
    ASSERT_EQ(heartbeat("ps_1", 100, ++seq, kT0 + kDue).lease.status, HeartbeatStatus::kRenewed);
    const auto ttl = std::stoll(redis({"PTTL", testing::account_key("sm:", "a_1", ":ps_1")}));
    EXPECT_TRUE(ttl < 0 || ttl >= kLeaseMs);
}

// Until the renewal is due, a heartbeat reads no TTL and writes none: the keys keep what the
// start gave them (2 × (max(lease, tombstone) + 60 s)); the due heartbeat renews all of them.
TEST_F(SessionStoreTest, HeartbeatsRenewTheKeysTtlsByTimeNotByAskingRedis) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    ASSERT_EQ(heartbeat("ps_1", 10, 1, kT0 + 1000).progress, ProgressWrite::kApplied);
    for (const std::string& key : {testing::account_key("lease:", "a_1"), testing::account_key("sess:", "a_1"), testing::account_key("dev:", "a_1"), testing::account_key("sm:", "a_1", ":ps_1"), kProgKey, kCwKey}) {
        ASSERT_EQ(redis({"PEXPIRE", key, "900000"}), "1") << key;
    }
    constexpr std::int64_t kDue = kTombMs + 60'000;
    std::int64_t seq = 1;
    for (std::int64_t t = kT0 + 60'000; t < kT0 + kDue; t += 60'000) {
        ASSERT_EQ(heartbeat("ps_1", 20, ++seq, t).lease.status, HeartbeatStatus::kRenewed);
    }
    for (const std::string& key : {testing::account_key("lease:", "a_1"), testing::account_key("sess:", "a_1"), testing::account_key("dev:", "a_1"), testing::account_key("sm:", "a_1", ":ps_1"), kProgKey, kCwKey}) {
        EXPECT_LE(std::stoll(redis({"PTTL", key})), 900'000) << key << " renewed before it was due";
    }
    ASSERT_EQ(heartbeat("ps_1", 30, ++seq, kT0 + kDue).lease.status, HeartbeatStatus::kRenewed);
    for (const std::string& key : {testing::account_key("lease:", "a_1"), testing::account_key("sess:", "a_1"), testing::account_key("dev:", "a_1")}) {
        EXPECT_GT(std::stoll(redis({"PTTL", key})), 2 * kDue - 10'000) << key;
    }
    EXPECT_GT(std::stoll(redis({"PTTL", testing::account_key("sm:", "a_1", ":ps_1")})), 86'400'000 - 10'000);
    // The profile's keys (90 days) are renewed once less than half is left.
    EXPECT_GT(std::stoll(redis({"PTTL", kProgKey})), 45LL * 86'400'000);
    EXPECT_GT(std::stoll(redis({"PTTL", kCwKey})), 45LL * 86'400'000);
}

// Sessions started by the previous moneta kept their meta in a HASH: the first heartbeat after
// the deploy converts it (same TTL) and records progress as before; a refresh reads either.
TEST_F(SessionStoreTest, ASessionMetaWrittenAsAHashByTheOldFormatStillWorks) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    ASSERT_EQ(redis({"DEL", testing::account_key("sm:", "a_1", ":ps_1")}), "1");
    ASSERT_EQ(server_->command({"HSET", testing::account_key("sm:", "a_1", ":ps_1"), "pid", "p_1", "cid", "m_1", "dur", "7012.4",
                                "done_at", "6800", "so", "0", "wend", "", "sel", "sel:old", "hseq", "7"}),
              "8");
    ASSERT_EQ(redis({"PEXPIRE", testing::account_key("sm:", "a_1", ":ps_1"), "5000000"}), "1");
    const auto old = live("ps_1", kT0 + 1);
    ASSERT_TRUE(old.has_value());
    EXPECT_EQ(old->content_id, "m_1");
    EXPECT_EQ(old->selection, "sel:old");
    EXPECT_EQ(heartbeat("ps_1", 50, 7, kT0 + 2).progress, ProgressWrite::kStale);  // its hseq survived
    EXPECT_EQ(redis({"TYPE", testing::account_key("sm:", "a_1", ":ps_1")}), "string");
    EXPECT_EQ(heartbeat("ps_1", 60, 8, kT0 + 3).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "60|7012.4|" + std::to_string(kT0 + 3) + "|8|0|ps_1");
    EXPECT_EQ(heartbeat("ps_1", 6900, 9, kT0 + 4).progress, ProgressWrite::kApplied);  // done_at kept
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "6900|7012.4|" + std::to_string(kT0 + 4) + "|9|1|ps_1");
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), "(nil)");  // completed
    const auto now = live("ps_1", kT0 + 5);
    ASSERT_TRUE(now.has_value());
    EXPECT_EQ(now->selection, "sel:old");
}

// ---- idempotency -------------------------------------------------------------------------------

TEST_F(SessionStoreTest, SecondStartWithTheSameKeyReplaysTheStoredHashAndBody) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 2, kT0, "", "key-1", "hash-A")), nullptr);
    // The first request has not saved its response yet: an in-flight replay (empty body).
    const auto o1 = start(session("ps_retry", "d1"), 2, kT0 + 1, "", "key-1", "hash-A");
    const auto* r1 = std::get_if<IdempotentReplay>(&o1);
    ASSERT_NE(r1, nullptr);
    EXPECT_EQ(r1->request_hash, "hash-A");
    EXPECT_EQ(r1->response_body, "");

    auto saved =
        run(io_,
            store_->async_save_idempotent(
                "a_1", "key-1", "hash-A\n{\"session_id\":\"ps_1\"}", core::Deadline::never()
            ));
    ASSERT_TRUE(saved && *saved);
    const auto ttl = std::stoll(redis({"PTTL", testing::account_key("idem:", "a_1", ":key-1")}));
    EXPECT_GT(ttl, 0);  // KEEPTTL: the 60 s window is not restarted
    EXPECT_LE(ttl, 60'000);

    const auto o2 = start(session("ps_retry2", "d1"), 2, kT0 + 2, "", "key-1", "hash-A");
    const auto* r2 = std::get_if<IdempotentReplay>(&o2);
    ASSERT_NE(r2, nullptr);
    EXPECT_EQ(r2->request_hash, "hash-A");
    EXPECT_EQ(r2->response_body, "{\"session_id\":\"ps_1\"}");

    // Same key, other body: the stored hash differs, so the caller answers IDEMPOTENCY_CONFLICT.
    const auto o3 = start(session("ps_other", "d3"), 2, kT0 + 3, "", "key-1", "hash-B");
    const auto* r3 = std::get_if<IdempotentReplay>(&o3);
    ASSERT_NE(r3, nullptr);
    EXPECT_EQ(r3->request_hash, "hash-A");

    // None of the replays took a lease or replaced ps_1.
    EXPECT_EQ(ids_of(list(kT0 + 4)), (std::set<std::string>{"ps_1"}));
    // Another key is a new start.
    EXPECT_NE(granted(start(session("ps_2", "d2"), 2, kT0 + 5, "", "key-2", "hash-A")), nullptr);
}

TEST_F(SessionStoreTest, SavingAnIdempotentResponseNeverCreatesAKey) {
    auto saved =
        run(io_, store_->async_save_idempotent("a_1", "gone", "h\nbody", core::Deadline::never()));
    ASSERT_TRUE(saved && *saved);
    EXPECT_EQ(redis({"EXISTS", testing::account_key("idem:", "a_1", ":gone")}), "0");  // expired key stays expired (SET XX)
}

TEST_F(SessionStoreTest, ADeniedIdempotentStartIsNotRemembered) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    EXPECT_NE(denied(start(session("ps_2", "d2"), 1, kT0 + 1, "", "key-1", "h")), nullptr);
    EXPECT_EQ(redis({"EXISTS", testing::account_key("idem:", "a_1", ":key-1")}), "0");
    EXPECT_TRUE(stop("ps_1", 1, 1, false, kT0 + 2).released);
    EXPECT_NE(granted(start(session("ps_3", "d2"), 1, kT0 + 3, "", "key-1", "h")), nullptr);
}

// ---- progress carried by heartbeat/stop -------------------------------------------------------

TEST_F(SessionStoreTest, HeartbeatRecordsProgressFromTheSessionMeta) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    const long long before = markers();
    const auto hb = heartbeat("ps_1", 1902.5, 17, kT0 + 30'000);
    EXPECT_EQ(hb.progress, ProgressWrite::kApplied);
    const std::string now = std::to_string(kT0 + 30'000);
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "1902.5|7012.4|" + now + "|17|0|ps_1");
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), now);
    // Dirty at this version and held: a title still playing is due kHoldMs after it first
    // became dirty, and announced (a marker) only then.
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(kT0 + 30'000, 17, 0, kT0 + 30'000 + kHoldMs));
    EXPECT_EQ(markers(), before);
    EXPECT_GT(std::stoll(redis({"PTTL", kProgKey})), 0);
    // The stored value reads back as the domain record.
    const auto rec = domain::decode_progress_value("m_1", redis({"HGET", kProgKey, "m_1"}));
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->position_sec, 1902.5);
    EXPECT_EQ(rec->seq, 17);
}

// The per-account bound on unflushed titles holds for heartbeats too, and never costs the lease.
TEST_F(SessionStoreTest, AHeartbeatOverTheDirtyBoundRenewsTheLeaseButStoresNothing) {
    ProgressSettings capped = progress_settings();
    capped.max_dirty_per_account = 1;
    store_ = std::make_unique<SessionStore>(*client_, lease_settings(), capped);
    ASSERT_EQ(redis({"HSET", kDirtyKey, "p_9/m_9", "1|1"}), "1");  // another title, not flushed yet
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    const auto hb = heartbeat("ps_1", 100, 1, kT0 + 30'000);
    EXPECT_EQ(hb.lease.status, domain::HeartbeatStatus::kRenewed);
    EXPECT_EQ(hb.progress, ProgressWrite::kCapped);
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_1"}), "0");
    // Once the flusher has cleared its backlog, the next heartbeat stores the position.
    ASSERT_EQ(redis({"DEL", kDirtyKey}), "1");
    EXPECT_EQ(heartbeat("ps_1", 130, 2, kT0 + 60'000).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(kT0 + 60'000, 2, 0, kT0 + 60'000 + kHoldMs));
}

TEST_F(SessionStoreTest, ARetriedOlderHeartbeatOfTheSameSessionIsStale) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    ASSERT_EQ(heartbeat("ps_1", 200, 5, kT0 + 1000).progress, ProgressWrite::kApplied);
    // Seq 4 arrives later (a retry) but is older: the same session is ordered by seq alone.
    const auto hb = heartbeat("ps_1", 150, 4, kT0 + 2000);
    EXPECT_EQ(hb.lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(hb.progress, ProgressWrite::kStale);
    EXPECT_EQ(heartbeat("ps_1", 150, 5, kT0 + 2000).progress, ProgressWrite::kStale);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}), "200|7012.4|" + std::to_string(kT0 + 1000) + "|5|0|ps_1"
    );
    EXPECT_EQ(heartbeat("ps_1", 260, 6, kT0 + 3000).progress, ProgressWrite::kApplied);
}

// Heartbeats are stamped with the server's time, so a delayed retry of an OLD heartbeat of
// session 1 looks newer than session 2's write in between and rolls the position back
// (api.md §6: "an older write never overwrites a newer one"). The guard only orders one
// session by seq while that session's write is the stored one.
TEST_F(SessionStoreTest, ADelayedRetryOfAnOlderHeartbeatNeverRollsBackAnotherSessionsWrite) {
    ASSERT_NE(granted(start(session("ps_a", "phone"), 2, kT0)), nullptr);
    ASSERT_EQ(heartbeat("ps_a", 500, 5, kT0 + 100'000).progress, ProgressWrite::kApplied);
    ASSERT_NE(granted(start(session("ps_b", "tv"), 2, kT0 + 150'000)), nullptr);  // resumes at 500
    ASSERT_EQ(heartbeat("ps_b", 800, 1, kT0 + 200'000).progress, ProgressWrite::kApplied);
    // ps_a's seq 4 (position 450, sent before seq 5) arrives late, as a retry.
    const auto late = heartbeat("ps_a", 450, 4, kT0 + 201'000);
    const std::string stored = redis({"HGET", kProgKey, "m_1"});
    EXPECT_EQ(late.progress, ProgressWrite::kStale);
    EXPECT_EQ(stored, "800|7012.4|" + std::to_string(kT0 + 200'000) + "|1|0|ps_b");
}

TEST_F(SessionStoreTest, ZeroKeepsANonZeroPositionUnlessTheSessionStartedOver) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 2, kT0)), nullptr);
    ASSERT_EQ(heartbeat("ps_1", 500, 1, kT0 + 1).progress, ProgressWrite::kApplied);
    EXPECT_EQ(heartbeat("ps_1", 0, 2, kT0 + 2).progress, ProgressWrite::kZeroKept);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}), "500|7012.4|" + std::to_string(kT0 + 1) + "|1|0|ps_1"
    );
    ASSERT_NE(
        granted(start(session("ps_2", "d2"), 2, kT0 + 3, "", "", "", meta_for("m_1", true))),
        nullptr
    );
    EXPECT_EQ(heartbeat("ps_2", 0, 1, kT0 + 4).progress, ProgressWrite::kApplied);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}), "0|7012.4|" + std::to_string(kT0 + 4) + "|1|0|ps_2"
    );
}

TEST_F(SessionStoreTest, StopWithEndedCompletesTheTitleAndDropsItFromContinueWatching) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    ASSERT_EQ(heartbeat("ps_1", 3000, 1, kT0 + 1).progress, ProgressWrite::kApplied);
    ASSERT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), std::to_string(kT0 + 1));
    const long long before = markers();
    const auto r = stop("ps_1", 3100, 2, true, kT0 + 2);
    EXPECT_TRUE(r.released);
    EXPECT_EQ(r.progress, ProgressWrite::kApplied);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}), "3100|7012.4|" + std::to_string(kT0 + 2) + "|2|1|ps_1"
    );
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), "(nil)");
    // The heartbeat's entry was held; a stop is the session's last write: due now, announced.
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(kT0 + 2, 2, kT0 + 2, kT0 + 2));
    EXPECT_EQ(markers(), before + 1);
}

TEST_F(SessionStoreTest, APositionPastTheCreditsCompletesTheTitle) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    ASSERT_EQ(heartbeat("ps_1", kCompletion - 0.5, 1, kT0 + 1).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}).substr(0, 9), "6799.5|70");
    EXPECT_EQ(heartbeat("ps_1", kCompletion, 2, kT0 + 2).progress, ProgressWrite::kApplied);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}), "6800|7012.4|" + std::to_string(kT0 + 2) + "|2|1|ps_1"
    );
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), "(nil)");
}

TEST_F(SessionStoreTest, AHeartbeatOnAnExpiredLeaseStillStoresProgress) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    const long long before = markers();
    const std::int64_t late = kT0 + kLeaseMs + 5'000;
    const auto hb = heartbeat("ps_1", 2222, 9, late);
    EXPECT_EQ(hb.lease.status, HeartbeatStatus::kNotFound);
    EXPECT_EQ(hb.progress, ProgressWrite::kApplied);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}), "2222|7012.4|" + std::to_string(late) + "|9|0|ps_1"
    );
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(late, 9, 0, late + kHoldMs));
    EXPECT_EQ(markers(), before);
}

// docs/data.md "Write-behind hold". A heartbeat marks its title dirty and held: due kHoldMs after
// the title first became dirty, no marker until then (the flusher would skip it). A stop (or a
// PUT, or a finished title) is due at once and announced. Once due, the next write announces it;
// later writes of a due title announced less than ProgressSettings::announce ago write nothing
// (the flusher reads the current value when it gets there); an older announcement (its marker
// may have been trimmed) is made again. A flush snapshot in between starts a new, held version.
TEST_F(SessionStoreTest, HeldTitlesAreAnnouncedOnceDueAndStopsAtOnce) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 2, kT0)), nullptr);
    ASSERT_NE(granted(start(session("ps_2", "d2"), 2, kT0, "", "", "", meta_for("m_2"))), nullptr);
    const long long before = markers();
    ASSERT_EQ(heartbeat("ps_1", 10, 1, kT0 + 1).progress, ProgressWrite::kApplied);
    ASSERT_EQ(heartbeat("ps_2", 20, 1, kT0 + 2).progress, ProgressWrite::kApplied);
    ASSERT_EQ(heartbeat("ps_1", 30, 2, kT0 + 3).progress, ProgressWrite::kApplied);
    EXPECT_EQ(markers(), before);
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(kT0 + 1, 1, 0, kT0 + 1 + kHoldMs));
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_2"}), dirty(kT0 + 2, 1, 0, kT0 + 2 + kHoldMs));
    // Held without a marker, but indexed at the earliest due time of the account's entries.
    EXPECT_EQ(due_score(), std::to_string(kT0 + 1 + kHoldMs));
    ASSERT_EQ(stop("ps_2", 40, 2, false, kT0 + 4).progress, ProgressWrite::kApplied);
    EXPECT_EQ(markers(), before + 1);
    // Announced: lost if still dirty marker_lost later, which is earlier than the held one's due.
    const std::int64_t lost_at = kT0 + 4 + progress_settings().marker_lost.count();
    ASSERT_LT(lost_at, kT0 + 1 + kHoldMs);
    EXPECT_EQ(due_score(), std::to_string(lost_at));
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_2"}), dirty(kT0 + 4, 2, kT0 + 4, kT0 + 4));
    EXPECT_EQ(redis({"HLEN", kDirtyKey}), "2");
    // What the flusher sends is the stored value, which has every write.
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "30|7012.4|" + std::to_string(kT0 + 3) + "|2|0|ps_1");
    // The marker names the account.
    const auto entry = server_->command_list({"XRANGE", stream_key(), "-", "+", "COUNT", "1"});
    ASSERT_FALSE(entry.empty());
    EXPECT_NE(std::find(entry.begin(), entry.end(), "a_1"), entry.end());

    // Not due yet (a millisecond before): nothing. Due: announced, keeping its version's due time.
    const std::int64_t due = kT0 + 1 + kHoldMs;
    ASSERT_EQ(heartbeat("ps_1", 50, 3, due - 1).progress, ProgressWrite::kApplied);
    EXPECT_EQ(markers(), before + 1);
    ASSERT_EQ(heartbeat("ps_1", 60, 4, due).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(due, 4, due, due));
    EXPECT_EQ(markers(), before + 2);
    ASSERT_EQ(heartbeat("ps_1", 70, 5, due + 30'000).progress, ProgressWrite::kApplied);
    EXPECT_EQ(markers(), before + 2);

    // An announcement as old as ProgressSettings::announce is made again.
    const std::int64_t later = due + progress_settings().announce.count();
    ASSERT_EQ(heartbeat("ps_1", 80, 6, later).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(later, 6, later, due));
    EXPECT_EQ(markers(), before + 3);

    // A flush snapshot marks what it read ('*'): a write after it is a new version, held again.
    ASSERT_EQ(redis({"HSET", kDirtyKey, "p_1/m_1", "*" + dirty(later, 6, later, due)}), "0");
    ASSERT_EQ(heartbeat("ps_1", 90, 7, later + 1).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(later + 1, 7, 0, later + 1 + kHoldMs));
    EXPECT_EQ(markers(), before + 3);

    // Entries of older moneta: "upd|seq" is due and announced; "upd|seq|announced_at" is due and
    // announced then (nothing to write while that is recent).
    ASSERT_EQ(redis({"HSET", kDirtyKey, "p_1/m_1", "1|1"}), "0");
    ASSERT_EQ(heartbeat("ps_1", 100, 8, later + 2).progress, ProgressWrite::kApplied);
    EXPECT_EQ(markers(), before + 4);
    ASSERT_EQ(redis({"HSET", kDirtyKey, "p_1/m_1", "1|1|" + std::to_string(later + 2)}), "0");
    ASSERT_EQ(heartbeat("ps_1", 110, 9, later + 3).progress, ProgressWrite::kApplied);
    EXPECT_EQ(markers(), before + 4);
    // Stale and refused writes change nothing.
    EXPECT_EQ(heartbeat("ps_1", 75, 9, later + 4).progress, ProgressWrite::kStale);
    EXPECT_EQ(heartbeat("ps_1", 0, 10, later + 5).progress, ProgressWrite::kZeroKept);
    EXPECT_EQ(markers(), before + 4);
}

TEST_F(SessionStoreTest, WarmHeartbeatAndStopAreOneRoundTripEach) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 2, kT0)), nullptr);
    ASSERT_EQ(
        heartbeat("ps_1", 1, 1, kT0 + 1).progress, ProgressWrite::kApplied
    );  // scripts loaded
    ASSERT_EQ(stop("ps_1", 2, 2, false, kT0 + 2).progress, ProgressWrite::kApplied);
    ASSERT_NE(granted(start(session("ps_2", "d2"), 2, kT0 + 3)), nullptr);
    auto trips = [&] { return client_->stats().round_trips_total.load(); };
    auto n = trips();
    ASSERT_NE(granted(start(session("ps_3", "d3"), 2, kT0 + 4)), nullptr);
    EXPECT_EQ(trips() - n, 1U);
    n = trips();
    EXPECT_EQ(heartbeat("ps_2", 5, 3, kT0 + 5).lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(trips() - n, 1U);
    n = trips();
    EXPECT_TRUE(stop("ps_2", 6, 4, false, kT0 + 6).released);
    EXPECT_EQ(trips() - n, 1U);
}

// docs/data.md "Per-call Redis work": a steady heartbeat (the session's own value stored, its
// title pending and announced, no refresh due) renews the lease and writes the value, nothing
// else: the session meta is not rewritten (the value carries the session's highest seq).
TEST_F(SessionStoreTest, ASteadyHeartbeatWritesOnlyTheLeaseAndTheValue) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 1, kT0)), nullptr);
    ASSERT_EQ(heartbeat("ps_1", 100, 1, kT0 + 1000).progress, ProgressWrite::kApplied);
    const std::string meta = redis({"GET", testing::account_key("sm:", "a_1", ":ps_1")});
    // Commands Redis ran (scripts' own calls included), from INFO commandstats.
    auto calls = [&] {
        const std::string info = redis({"INFO", "commandstats"});
        long long n = 0;
        for (std::size_t at = info.find("calls="); at != std::string::npos; at = info.find("calls=", at + 1)) {
            n += std::stoll(info.substr(at + 6));
        }
        return n;
    };
    const long long before = calls();
    const auto hb = heartbeat("ps_1", 130, 2, kT0 + 31'000);
    const long long ran = calls() - before - 1;  // minus the INFO itself
    EXPECT_EQ(hb.lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(hb.progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"GET", testing::account_key("sm:", "a_1", ":ps_1")}), meta);
    EXPECT_EQ(
        redis({"HGET", kProgKey, "m_1"}), "130|7012.4|" + std::to_string(kT0 + 31'000) + "|2|0|ps_1"
    );
    // EVALSHA; ZSCORE + ZADD XX (lease); GET (meta); HGET (value); HGET (dirty entry); HSET
    // (value); ZREVRANK (continue-watching: already the newest); GET (digest: none cached).
    EXPECT_EQ(ran, 9);
    // Its own retry is still stale (the value says seq 2), and so is seq 1.
    EXPECT_EQ(heartbeat("ps_1", 120, 2, kT0 + 32'000).progress, ProgressWrite::kStale);
    EXPECT_EQ(heartbeat("ps_1", 100, 1, kT0 + 33'000).progress, ProgressWrite::kStale);
}

// The value was the session's record of its highest seq: a write of another session that
// replaces it copies that seq into the session's meta first (keep_hseq), so a late retry of the
// first session stays stale; the meta keeps its TTL.
TEST_F(SessionStoreTest, AnotherSessionsWriteCopiesTheReplacedSessionsSeqIntoItsMeta) {
    ASSERT_NE(granted(start(session("ps_a", "phone"), 2, kT0)), nullptr);
    ASSERT_NE(granted(start(session("ps_b", "tv"), 2, kT0 + 1)), nullptr);
    ASSERT_EQ(heartbeat("ps_a", 500, 7, kT0 + 100'000).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"GET", testing::account_key("sm:", "a_1", ":ps_a")}).rfind("2||", 0), 0U);  // not copied yet
    ASSERT_EQ(heartbeat("ps_b", 800, 1, kT0 + 200'000).progress, ProgressWrite::kApplied);
    EXPECT_EQ(redis({"GET", testing::account_key("sm:", "a_1", ":ps_a")}).rfind("2|7|", 0), 0U);
    EXPECT_GT(std::stoll(redis({"PTTL", testing::account_key("sm:", "a_1", ":ps_a")})), 0);
    EXPECT_EQ(heartbeat("ps_a", 450, 6, kT0 + 201'000).progress, ProgressWrite::kStale);
    EXPECT_EQ(heartbeat("ps_a", 900, 8, kT0 + 202'000).progress, ProgressWrite::kApplied);
}

TEST_F(SessionStoreTest, ScriptsAreReloadedAfterRedisForgetsThem) {
    ASSERT_NE(granted(start(session("ps_1", "d1"), 2, kT0)), nullptr);
    ASSERT_EQ(redis({"SCRIPT", "FLUSH"}), "OK");
    // A due entry that was never announced: the heartbeat announces it, once.
    ASSERT_EQ(redis({"HSET", kDirtyKey, "p_1/m_1", dirty(1, 1, 0, 1)}), "1");
    const auto hb = heartbeat("ps_1", 5, 1, kT0 + 1);
    EXPECT_EQ(hb.lease.status, HeartbeatStatus::kRenewed);
    EXPECT_EQ(hb.progress, ProgressWrite::kApplied);
    // The NOSCRIPT attempt ran nothing; the repeat (EVAL, libs/redis) applied once, its marker too.
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(kT0 + 1, 1, kT0 + 1, 1));
    EXPECT_EQ(markers(), 1);
}

// A kick adds a 10-minute tombstone to an `evict:` key whose TTL was set by the last start or
// heartbeat (max(lease, tombstone) + 60 s from then) and is not refreshed by the kick script.
// Here 80 s of real time have passed since that refresh (simulated with PEXPIRE): the key would
// expire 20 s before the tombstone ends, and the kicked device would get 404 instead of 409.
TEST_F(SessionStoreTest, KickKeepsTheTombstoneKeyAliveForTheWholeTombstone) {
    ASSERT_NE(granted(start(session("ps_a", "tv"), 1, kT0)), nullptr);
    ASSERT_NE(
        granted(start(session("ps_b", "tv"), 1, kT0 + 1)), nullptr
    );  // creates evict: with a TTL
    ASSERT_EQ(redis({"PEXPIRE", testing::account_key("evict:", "a_1"), std::to_string(kTombMs + 60'000 - 80'000)}), "1");
    ASSERT_EQ(kick("a_1", "ps_b", kT0 + 80'000), KickResult::kKicked);
    const auto ttl = std::stoll(redis({"PTTL", testing::account_key("evict:", "a_1")}));
    EXPECT_TRUE(ttl < 0 || ttl >= kTombMs);
}

// ---- concurrency -------------------------------------------------------------------------------

struct Tally {
    int granted = 0;
    int denied = 0;
    int failed = 0;
    int done = 0;
};

boost::asio::awaitable<void> start_owned(
    SessionStore& store,
    std::string account,
    int max,
    domain::SessionInfo info,
    std::int64_t now,
    std::shared_ptr<Tally> tally
) {
    const SessionMeta meta = meta_for();
    const StartCommand cmd{
        .account_id = account,
        .max_streams = max,
        .info = info,
        .replace_session_id = "",
        .now_ms = now,
        .idempotency_key = "",
        .idempotency_hash = "",
        .meta = meta};
    auto r = co_await store.async_start(cmd, core::Deadline::never());
    if (!r) {
        ++tally->failed;
    } else if (std::holds_alternative<domain::LeaseGranted>(*r)) {
        ++tally->granted;
    } else {
        ++tally->denied;
    }
    ++tally->done;
}

TEST_F(SessionStoreTest, ConcurrentStartsOnSeveralConnectionsGrantExactlyTheFreeSlots) {
    constexpr int kClients = 3;
    constexpr int kRounds = 20;
    std::vector<std::unique_ptr<SessionStore>> stores;
    stores.push_back(std::make_unique<SessionStore>(*client_, lease_settings(), progress_settings())
    );
    for (int c = 1; c < kClients; ++c) {
        stores.push_back(
            std::make_unique<SessionStore>(*make_client(), lease_settings(), progress_settings())
        );
    }
    for (int round = 0; round < kRounds; ++round) {
        const int max = 1 + round % 4;  // N slots, N + 1 devices
        const std::string account = "acct_" + std::to_string(round);
        auto tally = std::make_shared<Tally>();  // outlives this round if a start hangs
        for (int i = 0; i <= max; ++i) {
            auto info = session(
                "ps_" + std::to_string(round) + "_" + std::to_string(i), "dev" + std::to_string(i)
            );
            boost::asio::co_spawn(
                io_,
                start_owned(
                    *stores[static_cast<std::size_t>(i % kClients)],
                    account,
                    max,
                    std::move(info),
                    kT0,
                    tally
                ),
                boost::asio::detached
            );
        }
        ASSERT_TRUE(redis::testing::run_until(
            io_, [&] { return tally->done == max + 1; }, 20s
        )) << "round "
           << round;
        EXPECT_EQ(tally->failed, 0) << "round " << round;
        EXPECT_EQ(tally->granted, max) << "round " << round;
        EXPECT_EQ(tally->denied, 1) << "round " << round;
        EXPECT_EQ(redis({"ZCARD", testing::account_key("lease:", account)}), std::to_string(max))
            << "round " << round;
        EXPECT_EQ(redis({"HLEN", testing::account_key("dev:", account)}), std::to_string(max))
            << "round " << round;
    }
}

}  // namespace
}  // namespace moneta::store
