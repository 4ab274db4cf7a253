// ProgressStore against a real redis-server and an in-test internal API: the offline-write guard
// (api.md §6), read-through with negative caching (a warm read makes zero internal-API calls),
// and continue-watching (newest first, completed excluded, bounded).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "store_test_util.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/redis_server.hpp"
#include "store/progress_store.hpp"
#include "store/progress_stream.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::store {
namespace {

using namespace std::chrono_literals;
using redis::testing::run;

constexpr int kContinueMax = 5;

domain::ProgressRecord record(
    std::string cid,
    double pos,
    std::int64_t upd,
    std::int64_t seq,
    bool done = false,
    double dur = 7000
) {
    domain::ProgressRecord r;
    r.content_id = std::move(cid);
    r.position_sec = pos;
    r.duration_sec = dur;
    r.updated_at_ms = upd;
    r.seq = seq;
    r.completed = done;
    return r;
}

/// The internal API as ProgressStore sees it: one profile's positions, answered in the reference
/// server's JSON shape (api.md §7), every call counted.
class FakeInternalApi final : public upstream::InternalApi {
public:
    std::map<std::string, domain::ProgressRecord> records;  // content id → position
    int status = 200;
    int get_calls = 0;
    int progress_calls = 0;
    int upsert_calls = 0;
    std::vector<std::string> progress_queries;  // content_ids_csv of each progress read

    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_get(upstream::Resource, std::string_view, const core::RequestContext&) override {
        ++get_calls;
        co_return upstream::Fetched{404, R"({"error":"not found"})"};
    }

    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_get_progress(std::string_view profile_id, std::string_view csv, const core::RequestContext&)
        override {
        ++progress_calls;
        progress_queries.emplace_back(csv);
        EXPECT_EQ(profile_id, "p_1");
        boost::json::array items;
        // Empty: the newest positions (like the reference server, newest first).
        std::vector<const domain::ProgressRecord*> picked;
        if (csv.empty()) {
            for (const auto& entry : records) {
                picked.push_back(&entry.second);
            }
            std::sort(picked.begin(), picked.end(), [](const auto* a, const auto* b) {
                return a->updated_at_ms > b->updated_at_ms;
            });
        } else {
            std::string_view rest = csv;
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                const std::string id(rest.substr(0, comma));
                if (const auto it = records.find(id); it != records.end()) {
                    picked.push_back(&it->second);
                }
                rest =
                    comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            }
        }
        for (const auto* r : picked) {
            items.push_back(
                {{"content_id", r->content_id},
                 {"position_sec", r->position_sec},
                 {"duration_sec", r->duration_sec},
                 {"completed", r->completed},
                 {"updated_at_ms", r->updated_at_ms},
                 {"seq", r->seq}}
            );
        }
        co_return upstream::Fetched{
            status, boost::json::serialize(boost::json::object{{"items", items}})};
    }

    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_upsert_progress(std::string_view, const core::RequestContext&) override {
        ++upsert_calls;
        co_return upstream::Fetched{200, R"({"applied":0,"stale":0})"};
    }
};

using test_util::value_of;

std::vector<std::string> ids(const std::vector<domain::ProgressRecord>& v) {
    std::vector<std::string> out;
    for (const auto& r : v) {
        out.push_back(r.content_id);
    }
    return out;
}

class ProgressStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto server = moneta::testing::RedisServer::start({});
        ASSERT_TRUE(server) << server.error().message();
        server_.emplace(std::move(*server));
        client_ = test_util::connect_client(io_, server_->port());
        ASSERT_TRUE(client_->connected());
        ProgressSettings settings;
        settings.continue_watching_max = kContinueMax;
        use(settings);
    }

    void TearDown() override {
        if (client_) {
            run(
                io_,
                [](redis::Client& cl) -> boost::asio::awaitable<int> {
                    co_await cl.async_stop();
                    co_return 0;
                }(*client_),
                10s
            );
        }
    }

    /// Rebuilds the store with @p settings (the bounds under test).
    void use(const ProgressSettings& settings) {
        store_ = std::make_unique<ProgressStore>(*client_, api_, settings, stats_);
        // Warm script (its settings are in its source): a NOSCRIPT answer would repeat the
        // pipeline and its marker.
        ASSERT_EQ(
            redis({"SCRIPT", "LOAD", std::string(store_->put_script().source())}),
            store_->put_script().sha1()
        );
    }

    ProgressWrite put(const domain::ProgressRecord& r) {
        return value_of(run(io_, store_->async_put("a_1", "p_1", r, now_ms_, core::Deadline::never())));
    }

    core::Result<std::vector<domain::ProgressRecord>> get_result(
        std::vector<std::string> content_ids
    ) {
        auto r = run(io_, store_->async_get("a_1", "p_1", content_ids, ctx_));
        if (!r) {
            return core::make_error(core::Errc::kTimeout);
        }
        return std::move(*r);
    }
    std::vector<domain::ProgressRecord> get(std::vector<std::string> content_ids) {
        return value_of(run(io_, store_->async_get("a_1", "p_1", content_ids, ctx_)));
    }

    std::vector<domain::ProgressRecord> continue_watching(int limit) {
        return value_of(run(io_, store_->async_continue_watching("a_1", "p_1", limit, ctx_)));
    }

    std::string redis(std::vector<std::string> args) { return server_->command(std::move(args)); }
    /// The dirty entry a PUT at @p upd / @p seq leaves: due and announced at now_ms_ (a PUT is
    /// not held: "upd|seq|announced_at|due_at").
    std::string dirty(std::int64_t upd, std::int64_t seq) const {
        const std::string now = std::to_string(now_ms_);
        return std::to_string(upd) + "|" + std::to_string(seq) + "|" + now + "|" + now;
    }
    long long markers() {
        return std::stoll(
            redis({"XLEN", testing::partition_key("progq:", testing::account_partition("a_1"))})
        );
    }

    boost::asio::io_context io_;
    std::optional<moneta::testing::RedisServer> server_;
    std::unique_ptr<redis::Client> client_;
    FakeInternalApi api_;
    ProgressStats stats_;
    core::RequestContext ctx_;
    std::unique_ptr<ProgressStore> store_;
    std::int64_t now_ms_ = 1'764'000'000'000;  ///< server time of the writes (announce times)
};

const std::string kProgKey = testing::account_key("prog:", "a_1", ":p_1");
const std::string kCwKey = testing::account_key("cw:", "a_1", ":p_1");
const std::string kDirtyKey = testing::account_key("dirty:", "a_1");
const std::string kMissingKey = testing::account_key("pnf:", "a_1", ":p_1");

// ---- PUT /v1/me/progress ------------------------------------------------------------------------

TEST_F(ProgressStoreTest, PutKeepsTheNewestUpdatedAtAndSeq) {
    EXPECT_EQ(put(record("m_1", 100, 1000, 2)), ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "100|7000|1000|2|0|");   // offline: no session id
    EXPECT_EQ(put(record("m_1", 900, 999, 9)), ProgressWrite::kStale);   // older updated_at
    EXPECT_EQ(put(record("m_1", 900, 1000, 2)), ProgressWrite::kStale);  // same version
    EXPECT_EQ(put(record("m_1", 900, 1000, 1)), ProgressWrite::kStale);  // same time, lower seq
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "100|7000|1000|2|0|");
    EXPECT_EQ(put(record("m_1", 200, 1000, 3)), ProgressWrite::kApplied);  // same time, higher seq
    EXPECT_EQ(
        put(record("m_1", 250, 1001, 0)), ProgressWrite::kApplied
    );  // newer time wins any seq
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "250|7000|1001|0|0|");
}

TEST_F(ProgressStoreTest, PutOfZeroKeepsANonZeroPositionUnlessItCompletes) {
    EXPECT_EQ(put(record("m_1", 0, 500, 1)), ProgressWrite::kApplied);  // zero over nothing
    EXPECT_EQ(put(record("m_1", 120.5, 1000, 1)), ProgressWrite::kApplied);
    EXPECT_EQ(put(record("m_1", 0, 2000, 2)), ProgressWrite::kZeroKept);
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "120.5|7000|1000|1|0|");
    EXPECT_EQ(put(record("m_1", 0, 3000, 3, true)), ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "0|7000|3000|3|1|");
    // A stale zero is stale, not "kept".
    EXPECT_EQ(put(record("m_1", 0, 10, 1)), ProgressWrite::kStale);
}

TEST_F(ProgressStoreTest, PutMaintainsContinueWatchingDirtyVersionsAndMarkers) {
    const long long before = markers();
    ASSERT_EQ(put(record("m_1", 100, 1000, 2)), ProgressWrite::kApplied);
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), "1000");
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(1000, 2));
    EXPECT_EQ(markers(), before + 1);
    // Still pending and just announced: the flusher will send the stored (newest) value anyway.
    ASSERT_EQ(put(record("m_1", 6900, 2000, 3, true)), ProgressWrite::kApplied);
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), "(nil)");  // completed
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(1000, 2));
    EXPECT_EQ(markers(), before + 1);
    // After a flush snapshot ('*'), a write is a new version with a new marker.
    ASSERT_EQ(redis({"HSET", kDirtyKey, "p_1/m_1", "*" + dirty(1000, 2)}), "0");
    ASSERT_EQ(put(record("m_1", 6950, 2500, 4, true)), ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(2500, 4));
    EXPECT_EQ(markers(), before + 2);
    // A rejected write changes no version.
    ASSERT_EQ(put(record("m_1", 1, 1500, 9)), ProgressWrite::kStale);
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(2500, 4));
    EXPECT_EQ(markers(), before + 2);
}

// Continue-watching is rewritten only when the order changes: a title that stays the newest keeps
// its score (only the newest may lag), which is made exact before another title is placed, so a
// later write with an older (device) time still lands below it.
TEST_F(ProgressStoreTest, ContinueWatchingIsRewrittenOnlyWhenTheOrderChanges) {
    ASSERT_EQ(put(record("m_1", 100, 1000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_2", 100, 2000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_2", 200, 5000, 2)), ProgressWrite::kApplied);
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_2"}), "2000");  // still the newest: not rewritten
    ASSERT_EQ(put(record("m_1", 150, 3000, 2)), ProgressWrite::kApplied);  // older than m_2's 5000
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_2"}), "5000");
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), "3000");
    EXPECT_EQ(ids(continue_watching(10)), (std::vector<std::string>{"m_2", "m_1"}));
    ASSERT_EQ(put(record("m_1", 160, 6000, 3)), ProgressWrite::kApplied);
    EXPECT_EQ(ids(continue_watching(10)), (std::vector<std::string>{"m_1", "m_2"}));
}

// ---- GET /v1/me/progress ------------------------------------------------------------------------

TEST_F(ProgressStoreTest, AReadServedFromRedisMakesNoInternalApiCalls) {
    ASSERT_EQ(put(record("m_1", 100, 1000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_2", 200, 2000, 1, true)), ProgressWrite::kApplied);
    const auto items = get({"m_2", "m_1"});
    EXPECT_EQ(ids(items), (std::vector<std::string>{"m_2", "m_1"}));  // request order
    ASSERT_EQ(items.size(), 2U);
    EXPECT_EQ(items[0].position_sec, 200);
    EXPECT_TRUE(items[0].completed);
    EXPECT_EQ(items[1].updated_at_ms, 1000);
    EXPECT_EQ(api_.progress_calls, 0);
    EXPECT_EQ(stats_.upstream_loads_total.load(), 0U);
}

TEST_F(ProgressStoreTest, AMissAsksTheApiOnceForTheMissingIdsAndCachesTheAnswer) {
    ASSERT_EQ(put(record("m_1", 100, 1000, 1)), ProgressWrite::kApplied);
    api_.records["m_2"] = record("m_2", 50, 500, 4);
    api_.records["m_9"] = record("m_9", 70, 700, 1);  // not asked for
    const long long before = markers();

    const auto first = get({"m_1", "m_2", "m_3"});
    EXPECT_EQ(ids(first), (std::vector<std::string>{"m_1", "m_2"}));
    EXPECT_EQ(api_.progress_calls, 1);
    ASSERT_EQ(api_.progress_queries.size(), 1U);
    EXPECT_EQ(api_.progress_queries[0], "m_2,m_3");
    EXPECT_EQ(redis({"HGET", kProgKey, "m_2"}), "50|7000|500|4|0|");
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_3"}), "0");  // known absent: in the negative cache
    EXPECT_EQ(redis({"HGET", kMissingKey, "m_3"}), "1");
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_9"}), "0");
    // Loaded values come from the system of record: nothing to write back, no marker.
    EXPECT_EQ(redis({"HEXISTS", kDirtyKey, "p_1/m_2"}), "0");
    EXPECT_EQ(markers(), before);

    const auto second = get({"m_1", "m_2", "m_3"});
    EXPECT_EQ(ids(second), ids(first));
    EXPECT_EQ(api_.progress_calls, 1);
    EXPECT_EQ(stats_.upstream_loads_total.load(), 1U);
    // A known-absent title takes a later write normally.
    EXPECT_EQ(put(record("m_3", 10, 3000, 1)), ProgressWrite::kApplied);
    EXPECT_EQ(ids(get({"m_3"})), (std::vector<std::string>{"m_3"}));
    EXPECT_EQ(api_.progress_calls, 1);
}

TEST_F(ProgressStoreTest, AFailedLoadCachesNothing) {
    api_.records["m_2"] = record("m_2", 50, 500, 4);
    api_.status = 500;
    auto failed = get_result({"m_2"});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error(), core::make_error(core::Errc::kUpstreamError));
    EXPECT_EQ(redis({"EXISTS", kProgKey}), "0");
    api_.status = 200;
    EXPECT_EQ(ids(get({"m_2"})), (std::vector<std::string>{"m_2"}));
    EXPECT_EQ(api_.progress_calls, 2);
}

// ---- Redis down: the internal API is the fallback (resilience.md "Fallbacks per endpoint") ------

TEST_F(ProgressStoreTest, WhenRedisFailsReadsFallBackToTheApiAndADoubleFailureIsComposite) {
    api_.records["m_2"] = record("m_2", 50, 500, 4);
    server_->kill9();
    EXPECT_EQ(ids(get({"m_2"})), (std::vector<std::string>{"m_2"}));
    EXPECT_EQ(ids(continue_watching(10)), (std::vector<std::string>{"m_2"}));
    EXPECT_EQ(stats_.fallbacks_served_total.load(), 2U);

    api_.status = 500;  // the fallback fails too: both causes travel in one error_code
    auto failed = get_result({"m_2"});
    ASSERT_FALSE(failed);
    const auto both = resilience::as_composite(failed.error());
    ASSERT_TRUE(both) << failed.error().message();
    EXPECT_TRUE(both->primary == core::Errc::kUnavailable || both->primary == core::Errc::kConnectionClosed)
        << both->describe();
    EXPECT_EQ(both->fallback, core::Errc::kUpstreamError);
    EXPECT_EQ(resilience::effective_error(failed.error()), core::Errc::kUpstreamError);
    EXPECT_EQ(stats_.fallbacks_failed_total.load(), 1U);
}

TEST_F(ProgressStoreTest, AFullFallbackGateFailsFastWithoutCallingTheApi) {
    resilience::FallbackGate gate(1);
    auto held = gate.try_enter();  // another request's fallback is running
    ASSERT_TRUE(held);
    ProgressStore gated(*client_, api_, ProgressSettings{}, stats_, &gate);
    server_->kill9();
    auto r = run(io_, gated.async_get("a_1", "p_1", std::vector<std::string>{"m_1"}, ctx_));
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    const auto both = resilience::as_composite(r->error());
    ASSERT_TRUE(both);
    EXPECT_EQ(both->fallback, core::Errc::kOverloaded);
    EXPECT_EQ(api_.progress_calls, 0);
    EXPECT_EQ(stats_.fallbacks_rejected_total.load(), 1U);
    held->release();
    api_.records["m_1"] = record("m_1", 10, 1000, 1);
    auto served = run(io_, gated.async_get("a_1", "p_1", std::vector<std::string>{"m_1"}, ctx_));
    ASSERT_TRUE(served && *served);
    EXPECT_EQ(api_.progress_calls, 1);
    EXPECT_EQ(gate.active(), 0U);
}

// ---- continue watching --------------------------------------------------------------------------

TEST_F(ProgressStoreTest, ContinueWatchingLoadsOnceThenServesFromRedis) {
    api_.records["m_1"] = record("m_1", 10, 1000, 1);
    api_.records["m_2"] = record("m_2", 20, 3000, 1);
    api_.records["m_3"] = record("m_3", 6900, 4000, 1, true);  // completed: never listed
    api_.records["m_4"] = record("m_4", 40, 2000, 1);

    const auto first = continue_watching(10);
    EXPECT_EQ(ids(first), (std::vector<std::string>{"m_2", "m_4", "m_1"}));
    EXPECT_EQ(api_.progress_calls, 1);
    ASSERT_EQ(api_.progress_queries.size(), 1U);
    EXPECT_EQ(api_.progress_queries[0], "");  // "the newest"
    EXPECT_EQ(redis({"HGET", kProgKey, "~cw"}), "1");

    EXPECT_EQ(ids(continue_watching(10)), ids(first));
    EXPECT_EQ(ids(continue_watching(2)), (std::vector<std::string>{"m_2", "m_4"}));
    EXPECT_EQ(api_.progress_calls, 1);

    // Local writes show up at once, newest first; a completion drops the title.
    ASSERT_EQ(put(record("m_5", 5, 5000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_2", 6950, 6000, 2, true)), ProgressWrite::kApplied);
    EXPECT_EQ(ids(continue_watching(10)), (std::vector<std::string>{"m_5", "m_4", "m_1"}));
    EXPECT_EQ(api_.progress_calls, 1);
}

TEST_F(ProgressStoreTest, ContinueWatchingLoadKeepsNewerLocalPositions) {
    // Written here, not yet flushed: the system of record still has the older position.
    ASSERT_EQ(put(record("m_1", 900, 9000, 3)), ProgressWrite::kApplied);
    api_.records["m_1"] = record("m_1", 10, 1000, 1);
    api_.records["m_2"] = record("m_2", 20, 2000, 1);
    const auto items = continue_watching(10);
    EXPECT_EQ(ids(items), (std::vector<std::string>{"m_1", "m_2"}));
    ASSERT_FALSE(items.empty());
    EXPECT_EQ(items[0].position_sec, 900);
    EXPECT_EQ(redis({"HGET", kProgKey, "m_1"}), "900|7000|9000|3|0|");
    EXPECT_EQ(redis({"HGET", kDirtyKey, "p_1/m_1"}), dirty(9000, 3));  // still to be flushed
}

TEST_F(ProgressStoreTest, ContinueWatchingIsBoundedToTheConfiguredMaximum) {
    for (int i = 0; i < 8; ++i) {
        api_.records["m_api" + std::to_string(i)] =
            record("m_api" + std::to_string(i), 10, 100 + i, 1);
    }
    EXPECT_EQ(continue_watching(100).size(), static_cast<std::size_t>(kContinueMax));
    EXPECT_EQ(redis({"ZCARD", kCwKey}), std::to_string(kContinueMax));
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(put(record("m_" + std::to_string(i), 10, 1000 + i, 1)), ProgressWrite::kApplied);
        EXPECT_LE(std::stoi(redis({"ZCARD", kCwKey})), kContinueMax);
    }
    EXPECT_EQ(
        ids(continue_watching(100)), (std::vector<std::string>{"m_7", "m_6", "m_5", "m_4", "m_3"})
    );
    EXPECT_EQ(ids(continue_watching(3)), (std::vector<std::string>{"m_7", "m_6", "m_5"}));
    EXPECT_EQ(api_.progress_calls, 1);
    EXPECT_EQ(api_.get_calls + api_.upsert_calls, 0);
}

// The "~cw" marker lives in the prog: hash, the list in the cw: ZSET. A completed write (and a
// load) refreshes only prog:'s TTL, so after a quiet spell cw: can expire while prog: keeps the
// marker: continue-watching then answers an empty list from Redis (never reloading) although
// prog: still holds titles in progress. The spell is simulated by shortening both TTLs.
TEST_F(ProgressStoreTest, ACompletedWriteKeepsContinueWatchingAsLongAsTheMarker) {
    ASSERT_EQ(put(record("m_1", 100, 1000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(ids(continue_watching(10)), (std::vector<std::string>{"m_1"}));  // marker set
    ASSERT_EQ(redis({"PEXPIRE", kProgKey, "5000"}), "1");  // ~90 days later, 5 s before expiry
    ASSERT_EQ(redis({"PEXPIRE", kCwKey, "5000"}), "1");
    ASSERT_EQ(
        put(record("m_2", 6990, 2000, 1, true)), ProgressWrite::kApplied
    );  // finishes another title
    const auto prog_ttl = std::stoll(redis({"PTTL", kProgKey}));
    const auto cw_ttl = std::stoll(redis({"PTTL", kCwKey}));
    ASSERT_GT(prog_ttl, 5000);
    EXPECT_GE(cw_ttl, prog_ttl - 60'000);
}

TEST_F(ProgressStoreTest, LoadOneReturnsTheApiPositionAndCachesIt) {
    api_.records["m_1"] = record("m_1", 33, 1000, 2);
    const auto one = value_of(run(io_, store_->async_load_one("a_1", "p_1", "m_1", ctx_)));
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->position_sec, 33);
    const auto none = value_of(run(io_, store_->async_load_one("a_1", "p_1", "m_x", ctx_)));
    EXPECT_FALSE(none.has_value());
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_x"}), "0");
    EXPECT_EQ(redis({"HGET", kMissingKey, "m_x"}), "1");
    EXPECT_EQ(ids(get({"m_1", "m_x"})), (std::vector<std::string>{"m_1"}));
    EXPECT_EQ(api_.progress_calls, 2);
}

// ---- per-account bounds (issue 10: one token must not be able to fill Redis) -------------------

TEST_F(ProgressStoreTest, ReadsOfRandomIdsNeverGrowTheProgressHash) {
    ProgressSettings settings;
    settings.missing_max = 150;
    use(settings);
    ASSERT_EQ(put(record("m_1", 100, 1000, 1)), ProgressWrite::kApplied);
    // The reported abuse: ten reads of 100 random ids each. Before the fix every id stayed in
    // the profile's hash for 90 days (1,020 fields).
    for (int round = 0; round < 10; ++round) {
        std::vector<std::string> random_ids;
        for (int i = 0; i < 100; ++i) {
            random_ids.push_back("r" + std::to_string(round) + "_" + std::to_string(i));
        }
        ASSERT_TRUE(get(random_ids).empty());
    }
    EXPECT_EQ(redis({"HLEN", kProgKey}), "1") << "only the real position";
    const long long negatives = std::stoll(redis({"HLEN", kMissingKey}));
    EXPECT_GT(negatives, 0);
    EXPECT_LE(negatives, 150);
    const long long ttl = std::stoll(redis({"PTTL", kMissingKey}));
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, std::chrono::milliseconds(settings.missing_ttl).count());
    EXPECT_EQ(api_.progress_calls, 10);
}

TEST_F(ProgressStoreTest, TheNegativeCacheIsNeverExtendedByLaterMisses) {
    ASSERT_TRUE(get({"x_1"}).empty());
    ASSERT_EQ(redis({"PEXPIRE", kMissingKey, "3000"}), "1");  // as if it were 5 min old already
    ASSERT_TRUE(get({"x_2"}).empty());
    EXPECT_EQ(redis({"HGET", kMissingKey, "x_2"}), "1");
    EXPECT_LE(std::stoll(redis({"PTTL", kMissingKey})), 3000) << "a miss must not keep it alive";
    // A known-absent id makes no second call while it lasts.
    ASSERT_TRUE(get({"x_1", "x_2"}).empty());
    EXPECT_EQ(api_.progress_calls, 2);
}

TEST_F(ProgressStoreTest, ANewTitleAtTheCapEvictsTheOldestFlushedTitleNeverAnUnflushedOne) {
    ProgressSettings settings;
    settings.max_titles_per_profile = 3;
    use(settings);
    ASSERT_EQ(put(record("m_1", 10, 1000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_2", 20, 2000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_3", 30, 3000, 1)), ProgressWrite::kApplied);
    // All three are still waiting for the write-behind: nothing may be evicted (it would be lost).
    EXPECT_EQ(put(record("m_4", 40, 4000, 1)), ProgressWrite::kCapped);
    EXPECT_EQ(redis({"HLEN", kProgKey}), "3");
    EXPECT_EQ(redis({"HEXISTS", kDirtyKey, "p_1/m_4"}), "0");
    // Updating a title already held is not a new title.
    EXPECT_EQ(put(record("m_3", 31, 3100, 2)), ProgressWrite::kApplied);
    // The flusher confirmed m_1 and m_2 (their dirty entries are gone): the older one goes.
    ASSERT_EQ(redis({"HDEL", kDirtyKey, "p_1/m_1", "p_1/m_2"}), "2");
    EXPECT_EQ(put(record("m_4", 40, 4000, 1)), ProgressWrite::kApplied);
    EXPECT_EQ(redis({"HLEN", kProgKey}), "3");
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_1"}), "0");
    EXPECT_EQ(redis({"ZSCORE", kCwKey, "m_1"}), "(nil)");
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_2"}), "1");
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_3"}), "1");
}

TEST_F(ProgressStoreTest, AnAccountsUnflushedWritesAreCapped) {
    ProgressSettings settings;
    settings.max_dirty_per_account = 2;
    use(settings);
    ASSERT_EQ(put(record("m_1", 10, 1000, 1)), ProgressWrite::kApplied);
    ASSERT_EQ(put(record("m_2", 20, 2000, 1)), ProgressWrite::kApplied);
    EXPECT_EQ(put(record("m_3", 30, 3000, 1)), ProgressWrite::kCapped);
    EXPECT_EQ(redis({"HEXISTS", kProgKey, "m_3"}), "0");
    EXPECT_EQ(redis({"HLEN", kDirtyKey}), "2");
    // A title already waiting may move on; the cap is on entries, not on writes.
    EXPECT_EQ(put(record("m_1", 15, 1500, 2)), ProgressWrite::kApplied);
    // Once the flusher cleared them, new titles are taken again.
    ASSERT_EQ(redis({"DEL", kDirtyKey}), "1");
    EXPECT_EQ(put(record("m_3", 30, 3000, 1)), ProgressWrite::kApplied);
}

}  // namespace
}  // namespace moneta::store
