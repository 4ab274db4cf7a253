// The progress write-behind flusher (progress/flusher.hpp) against a real redis-server and an
// in-test internal API. Writes go through ProgressStore::async_put on their own connection, as a
// request thread would; the flusher has its own connection on the same io_context. Tests wait
// (bounded) on the flusher's stats or on the fake's recorded calls, then look at Redis once,
// directly: run_until() only advances the io_context while it polls, so nothing moves while the
// test inspects Redis.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coro_util.hpp"
#include "domain/progress.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/support.hpp"
#include "progress/batch_split.hpp"
#include "progress/flusher.hpp"
#include "store/keys.hpp"
#include "store/progress_store.hpp"
#include "store/progress_stream.hpp"
#include "store/scripts/due_take_script.hpp"
#include "store/scripts/flush_clear_script.hpp"
#include "store/scripts/flush_snapshot_script.hpp"
#include "upstream/internal_api.hpp"
#include "moneta/testing/moneta_keys.hpp"

namespace moneta::progress {
namespace {

using namespace std::chrono_literals;
using redis::testing::run;
using redis::testing::run_until;
using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr double kDuration = 3600;

Ms since(SteadyClock::time_point t0) {
    return std::chrono::duration_cast<Ms>(SteadyClock::now() - t0);
}

/// One position as the internal API received it.
struct Item {
    std::string profile_id;
    std::string content_id;
    double position_sec = 0;
    double duration_sec = 0;
    bool completed = false;
    std::int64_t updated_at_ms = 0;
    std::int64_t seq = 0;
};

using Key = std::pair<std::string, std::string>;  // (profile, content)

std::string key_text(const Key& k) { return k.first + "/" + k.second; }

/// The items of a batchUpsert body (domain::batch_upsert_body); a malformed body fails the test.
std::vector<Item> parse_items(std::string_view body) {
    std::vector<Item> out;
    try {
        const boost::json::value doc = boost::json::parse(body);
        for (const boost::json::value& v : doc.as_object().at("items").as_array()) {
            const boost::json::object& o = v.as_object();
            out.push_back(Item{
                std::string(o.at("profile_id").as_string()),
                std::string(o.at("content_id").as_string()),
                o.at("position_sec").to_number<double>(),
                o.at("duration_sec").to_number<double>(),
                o.at("completed").as_bool(),
                o.at("updated_at_ms").to_number<std::int64_t>(),
                o.at("seq").to_number<std::int64_t>()});
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << "malformed batchUpsert body (" << e.what() << "): " << body;
    }
    return out;
}

/// How the fake internal API answers a batchUpsert.
enum class Answer {
    kOk,           ///< 200 {"applied":n,"stale":0}
    kUnavailable,  ///< 503
    kTimeout,      ///< transport error Errc::kTimeout
    kBadBody,      ///< 200 without "applied" (not a confirmation)
    kHang,         ///< no answer until the call's deadline, then kDeadlineExceeded
    kRefused,      ///< the call held a refused title (refuse_titles): 4xx with an error body
};

const char* answer_name(Answer a) {
    switch (a) {
        case Answer::kOk:
            return "Ok";
        case Answer::kUnavailable:
            return "Status503";
        case Answer::kTimeout:
            return "TransportTimeout";
        case Answer::kBadBody:
            return "BodyWithoutApplied";
        case Answer::kHang:
            return "HangUntilDeadline";
        case Answer::kRefused:
            return "Refused";
    }
    return "?";
}

/// One batchUpsert call as received.
struct Call {
    SteadyClock::time_point at;
    Answer answer = Answer::kOk;
    std::int64_t markers_in_flight = -1;  ///< the calling flusher's batch size at that moment
    std::uint64_t flushes_before = 0;     ///< the calling flusher's flushes_total at that moment
    std::vector<Item> items;
};

/// The internal API's progress upsert, recording every call; answers are set by the test.
class FakeInternalApi final : public upstream::InternalApi {
public:
    /// Every later call answers @p a (after the queued answers are used up).
    void set_answer(Answer a) { answer_ = a; }
    /// The next calls answer these, in order.
    void queue_answers(std::initializer_list<Answer> a) { queued_.insert(queued_.end(), a); }
    /// Runs @p f once, inside the next call, before that call answers.
    void before_next_answer(std::function<boost::asio::awaitable<void>()> f) {
        hook_ = std::move(f);
    }
    /// A call holding an item of one of @p titles is refused with @p status (whatever answer is
    /// set); with @p name the error body names the first such item's index, as the reference
    /// API's 422 UNKNOWN_CONTENT does.
    void refuse_titles(std::set<std::string> titles, int status, bool name) {
        refused_titles_ = std::move(titles);
        refuse_status_ = status;
        refuse_names_ = name;
    }
    /// Items of the calls answered kRefused.
    std::size_t refused_calls() const {
        return static_cast<std::size_t>(std::count_if(
            calls_.begin(), calls_.end(), [](const Call& c) { return c.answer == Answer::kRefused; }
        ));
    }
    /// markers_in_flight of @p stats is recorded with each call.
    void watch(const FlusherStats* stats) { stats_ = stats; }

    const std::vector<Call>& calls() const { return calls_; }
    std::size_t answered_ok() const {
        return static_cast<std::size_t>(std::count_if(
            calls_.begin(), calls_.end(), [](const Call& c) { return c.answer == Answer::kOk; }
        ));
    }
    /// Items of the calls answered 200 {"applied"}, in arrival order.
    std::vector<Item> accepted_items() const {
        std::vector<Item> out;
        for (const Call& c : calls_) {
            if (c.answer == Answer::kOk) {
                out.insert(out.end(), c.items.begin(), c.items.end());
            }
        }
        return out;
    }

    // moneta::upstream::InternalApi
    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_get(upstream::Resource, std::string_view id, const core::RequestContext&) override {
        ADD_FAILURE() << "the flusher path fetched " << id;
        co_return upstream::Fetched{500, ""};
    }

    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_get_progress(std::string_view profile_id, std::string_view, const core::RequestContext&)
        override {
        ADD_FAILURE() << "the flusher path read progress of " << profile_id;
        co_return upstream::Fetched{500, ""};
    }

    boost::asio::awaitable<core::Result<upstream::Fetched>> async_upsert_progress(
        std::string_view body, const core::RequestContext& ctx
    ) override {
        Call call;
        call.at = SteadyClock::now();
        call.answer = answer_;
        if (!queued_.empty()) {
            call.answer = queued_.front();
            queued_.pop_front();
        }
        call.markers_in_flight = stats_ ? stats_->markers_in_flight.load() : -1;
        call.flushes_before = stats_ ? stats_->flushes_total.load() : 0;
        call.items = parse_items(body);  // before any suspension: body is the caller's temporary
        std::optional<std::size_t> refused_at;
        for (std::size_t i = 0; i < call.items.size() && !refused_at; ++i) {
            if (refused_titles_.contains(call.items[i].content_id)) {
                refused_at = i;
                call.answer = Answer::kRefused;
            }
        }
        const Answer answer = call.answer;
        const std::size_t n = call.items.size();
        calls_.push_back(std::move(call));
        if (hook_) {
            const auto hook = std::move(hook_);
            hook_ = nullptr;
            co_await hook();
        }
        switch (answer) {
            case Answer::kOk:
                co_return upstream::Fetched{
                    200, "{\"applied\":" + std::to_string(n) + ",\"stale\":0}"};
            case Answer::kUnavailable:
                co_return upstream::Fetched{503, "{\"error\":\"unavailable\"}"};
            case Answer::kTimeout:
                co_return core::make_error(core::Errc::kTimeout);
            case Answer::kBadBody:
                co_return upstream::Fetched{200, "{}"};
            case Answer::kHang:
                break;
            case Answer::kRefused: {
                const std::string details =
                    refuse_names_ ? "{\"index\":" + std::to_string(*refused_at) + "}" : "{}";
                co_return upstream::Fetched{
                    refuse_status_,
                    "{\"error\":{\"code\":\"UNKNOWN_CONTENT\",\"message\":\"No such content.\","
                    "\"retryable\":false,\"details\":" +
                        details + "},\"server_time_ms\":1}"};
            }
        }
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        timer.expires_after(
            std::min<core::Duration>(ctx.deadline.time_left(core::SystemClock::instance()), 30s)
        );
        boost::system::error_code ec;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        co_return core::make_error(core::Errc::kDeadlineExceeded);
    }

private:
    Answer answer_ = Answer::kOk;
    std::deque<Answer> queued_;
    std::function<boost::asio::awaitable<void>()> hook_;
    const FlusherStats* stats_ = nullptr;
    std::vector<Call> calls_;
    std::set<std::string> refused_titles_;
    int refuse_status_ = 422;
    bool refuse_names_ = true;
};

/// One offline progress write (PUT /v1/me/progress).
struct Write {
    std::string account;
    std::string profile;
    std::string content;
    double position = 0;
    std::int64_t updated_at_ms = 0;
    std::int64_t seq = 1;
};

/// The write the guard keeps for each key: the highest (updated_at_ms, seq).
std::map<Key, Write> newest_of(const std::vector<Write>& writes) {
    std::map<Key, Write> out;
    for (const Write& w : writes) {
        const Key k{w.profile, w.content};
        const auto it = out.find(k);
        if (it == out.end() ||
            std::tie(w.updated_at_ms, w.seq) > std::tie(it->second.updated_at_ms, it->second.seq)) {
            out[k] = w;
        }
    }
    return out;
}

void expect_item_is(const Item& got, const Write& want) {
    SCOPED_TRACE(want.profile + "/" + want.content);
    EXPECT_DOUBLE_EQ(got.position_sec, want.position);
    EXPECT_DOUBLE_EQ(got.duration_sec, kDuration);
    EXPECT_EQ(got.updated_at_ms, want.updated_at_ms);
    EXPECT_EQ(got.seq, want.seq);
    EXPECT_FALSE(got.completed);
}

/// Every wanted key arrived exactly once, at its newest value, and nothing else arrived.
void expect_each_newest_once(const std::vector<Item>& got, const std::map<Key, Write>& want) {
    std::map<Key, int> seen;
    for (const Item& item : got) {
        const Key k{item.profile_id, item.content_id};
        ++seen[k];
        const auto w = want.find(k);
        if (w == want.end()) {
            ADD_FAILURE() << "unexpected item " << key_text(k);
            continue;
        }
        expect_item_is(item, w->second);
    }
    EXPECT_EQ(seen.size(), want.size());
    for (const auto& [k, n] : seen) {
        EXPECT_EQ(n, 1) << key_text(k) << " was sent " << n << " times";
    }
}

/// Every wanted key arrived and the LAST value received for it is the newest (repeats allowed:
/// the system of record ignores older versions).
void expect_each_ends_newest(const std::vector<Item>& got, const std::map<Key, Write>& want) {
    std::map<Key, Item> last;
    for (const Item& item : got) {
        last[Key{item.profile_id, item.content_id}] = item;
    }
    EXPECT_EQ(last.size(), want.size());
    for (const auto& [k, w] : want) {
        const auto it = last.find(k);
        if (it == last.end()) {
            ADD_FAILURE() << key_text(k) << " never arrived";
            continue;
        }
        expect_item_is(it->second, w);
    }
}

/// A running flusher, its stats and whether async_run returned.
struct Running {
    FlusherStats stats;
    std::unique_ptr<ProgressFlusher> flusher;
    bool done = false;
    std::exception_ptr error;
};

class FlusherRedisTest : public ::testing::Test {
protected:
    void SetUp() override {
        // Every accepted write announces itself (a marker per applied write), so these tests can
        // count markers per write; the default (a pending, freshly announced title writes no
        // marker) is tested on its own: AnnouncedTitlesCoalesceIntoOneMarkerAndLoseNothing.
        progress_.announce = 0ms;
        auto server = testing::RedisServer::start();
        ASSERT_TRUE(server) << "redis-server: " << server.error().message();
        redis_.emplace(std::move(*server));
        // Loaded up front: these tests count Redis work on the warm path.
        // The flusher's scripts have no settings: the same source (and SHA1) as its own.
        const store::FlushSnapshotScript snapshot;
        const store::FlushClearScript clear;
        for (const redis::Script* s : {&snapshot.script(), &clear.script()}) {
            ASSERT_EQ(redis_->command({"SCRIPT", "LOAD", std::string(s->source())}), s->sha1());
        }
        flusher_redis_ = connect();
        writer_redis_ = connect();
        writer_ =
            std::make_unique<store::ProgressStore>(*writer_redis_, api_, progress_, store_stats_);
        ASSERT_EQ(
            redis_->command({"SCRIPT", "LOAD", std::string(writer_->put_script().source())}),
            writer_->put_script().sha1()
        );
    }

    void TearDown() override {
        for (auto& r : running_) {
            if (!r->done) {
                r->flusher->request_stop(0ms);
            }
        }
        EXPECT_TRUE(run_until(
            io_,
            [&] {
                return std::all_of(running_.begin(), running_.end(), [](const auto& r) {
                    return r->done;
                });
            },
            10s
        )) << "a flusher did not stop";
        for (redis::Client* c : {writer_redis_.get(), flusher_redis_.get()}) {
            if (c != nullptr) {
                run(
                    io_,
                    [](redis::Client& client) -> boost::asio::awaitable<int> {
                        co_await client.async_stop();
                        co_return 0;
                    }(*c),
                    10s
                );
            }
        }
    }

    /// The test settings of the brief: everything in tens of milliseconds.
    static FlusherSettings fast() {
        FlusherSettings s;
        s.interval = 50ms;
        s.batch = 500;
        s.claim_idle = 200ms;
        s.poll = 10ms;
        s.retry_min = 20ms;
        s.retry_max = 200ms;
        s.call_timeout = 2s;
        return s;
    }

    std::unique_ptr<redis::Client> connect() {
        redis::ClientConfig c;
        c.port = redis_->port();
        c.command_timeout = 5s;  // generous under ASan on a shared machine
        c.reconnect_backoff_min = 10ms;
        c.reconnect_backoff_max = 100ms;
        auto client =
            std::make_unique<redis::Client>(io_.get_executor(), c, core::SystemClock::instance());
        client->start();
        EXPECT_TRUE(run_until(
            io_, [&] { return client->connected(); }, 10s
        )) << client->last_error();
        return client;
    }

    /// Spawns async_run of a new flusher (consumer @p consumer) on io_.
    Running& start_flusher(FlusherSettings settings, std::string consumer = "alive") {
        auto r = std::make_unique<Running>();
        r->flusher = std::make_unique<ProgressFlusher>(
            io_.get_executor(),
            *flusher_redis_,
            api_,
            core::SystemClock::instance(),
            settings,
            progress_,
            r->stats,
            std::move(consumer)
        );
        Running* raw = r.get();
        boost::asio::co_spawn(io_, raw->flusher->async_run(), [raw](std::exception_ptr e) {
            raw->error = e;
            raw->done = true;
        });
        running_.push_back(std::move(r));
        api_.watch(&raw->stats);
        return *raw;
    }

    /// request_stop(@p budget), then waits (bounded) for async_run to return.
    /// @return how long that took
    Ms stop(Running& r, Ms budget) {
        const auto t0 = SteadyClock::now();
        r.flusher->request_stop(budget);
        EXPECT_TRUE(run_until(
            io_, [&] { return r.done; }, budget + 10s
        )) << "async_run did not return";
        EXPECT_FALSE(r.error) << "async_run threw";
        return since(t0);
    }

    static boost::asio::awaitable<std::size_t> async_put_all(
        store::ProgressStore& store, std::vector<Write> writes
    ) {
        std::size_t applied = 0;
        for (const Write& w : writes) {
            const domain::ProgressRecord rec{
                w.content, w.position, kDuration, w.updated_at_ms, w.seq, false};
            auto r = co_await store.async_put(
                w.account, w.profile, rec, core::SystemClock::instance().wall_ms(), core::Deadline::after(core::SystemClock::instance(), 5s)
            );
            EXPECT_TRUE(r) << (r ? "" : r.error().message());
            if (r && *r == store::ProgressWrite::kApplied) {
                ++applied;
            }
        }
        co_return applied;
    }

    /// Runs the writes one after the other on the writer's connection (the flusher, if started,
    /// runs meanwhile). @return how many the guard applied.
    std::size_t put_all(std::vector<Write> writes) {
        return run(io_, async_put_all(*writer_, std::move(writes)), 120s).value_or(0);
    }

    // --- Redis, inspected directly ---------------------------------------------------------

    static std::string stream_key(int shard) {
        store::KeyBuffer kb;
        return std::string(store::progress_stream_key(kb, shard));
    }
    static std::string dirty_key(const std::string& account) {
        store::KeyBuffer kb;
        return std::string(store::dirty_key(kb, account));
    }

    std::int64_t number(std::vector<std::string> cmd) {
        const std::string r = redis_->command(cmd);
        try {
            return std::stoll(r);
        } catch (const std::exception&) {
            ADD_FAILURE() << cmd[0] << " answered " << r;
            return -1;
        }
    }

    /// Markers still in the streams (XDEL removes flushed ones).
    std::int64_t stream_len() {
        std::int64_t n = 0;
        for (int s = 0; s < store::kPartitions; ++s) {
            n += number({"XLEN", stream_key(s)});
        }
        return n;
    }

    /// Markers delivered to some consumer of the group and not acknowledged.
    std::int64_t pending() {
        std::int64_t n = 0;
        for (int s = 0; s < store::kPartitions; ++s) {
            const auto summary = redis_->command_list(
                {"XPENDING", stream_key(s), std::string(ProgressFlusher::kGroup)}
            );
            if (summary.empty()) {
                ADD_FAILURE() << "XPENDING answered nothing";
                continue;
            }
            n += std::stoll(summary[0].rfind("(", 0) == 0 ? "-1000000" : summary[0]);
        }
        return n;
    }

    /// Pending markers owned by @p consumer.
    std::int64_t pending_of(const std::string& consumer) {
        std::int64_t n = 0;
        for (int s = 0; s < store::kPartitions; ++s) {
            // Each entry (id, consumer, idle ms, deliveries) comes back flattened.
            const auto fields = redis_->command_list(
                {"XPENDING",
                 stream_key(s),
                 std::string(ProgressFlusher::kGroup),
                 "-",
                 "+",
                 "100000",
                 consumer}
            );
            EXPECT_EQ(fields.size() % 4, 0U) << (fields.empty() ? "" : fields[0]);
            n += static_cast<std::int64_t>(fields.size() / 4);
        }
        return n;
    }

    std::int64_t dirty_len(const std::string& account) {
        return number({"HLEN", dirty_key(account)});
    }

    std::string dirty_version(
        const std::string& account, const std::string& profile, const std::string& content
    ) {
        // The version ("upd|seq", a '*' in front once a flush snapshot took it), without the
        // times it was announced and is due.
        std::string v = redis_->command({"HGET", dirty_key(account), profile + "/" + content});
        if (std::count(v.begin(), v.end(), '|') == 3) {
            v.erase(v.rfind('|'));
            v.erase(v.rfind('|'));
        }
        return v;
    }

    /// The records of progq:quarantine, oldest first, as field → value.
    std::vector<std::map<std::string, std::string>> quarantine_records() {
        const auto flat = redis_->command_list({"XRANGE", std::string(store::kQuarantineStreamKey), "-", "+"});
        constexpr std::size_t kPerEntry = 1 + 2 * 7;  // id, then a p c status code at body
        EXPECT_EQ(flat.size() % kPerEntry, 0U) << (flat.empty() ? "" : flat[0]);
        std::vector<std::map<std::string, std::string>> out;
        for (std::size_t i = 0; i + kPerEntry <= flat.size(); i += kPerEntry) {
            std::map<std::string, std::string> r;
            for (std::size_t j = i + 1; j < i + kPerEntry; j += 2) {
                r[flat[j]] = flat[j + 1];
            }
            out.push_back(std::move(r));
        }
        return out;
    }

    /// True once the LAST value the internal API accepted for every key of @p want is the
    /// newest. Looks at the fake only.
    bool all_arrived(const std::map<Key, Write>& want) const {
        std::map<Key, Item> last;
        for (const Item& item : api_.accepted_items()) {
            last[Key{item.profile_id, item.content_id}] = item;
        }
        for (const auto& [k, w] : want) {
            const auto it = last.find(k);
            if (it == last.end() || it->second.updated_at_ms != w.updated_at_ms || it->second.seq != w.seq) {
                return false;
            }
        }
        return true;
    }

    /// The largest XLEN of any shard stream.
    std::int64_t longest_stream() {
        std::int64_t most = 0;
        for (int s = 0; s < store::kPartitions; ++s) {
            most = std::max(most, number({"XLEN", stream_key(s)}));
        }
        return most;
    }

    void create_groups() {
        for (int s = 0; s < store::kPartitions; ++s) {
            ASSERT_EQ(redis_->command({"XGROUP", "CREATE", stream_key(s), std::string(ProgressFlusher::kGroup), "0",
                                       "MKSTREAM"}),
                      "OK");
        }
    }

    std::optional<testing::RedisServer> redis_;
    boost::asio::io_context io_;  // declared before everything that runs on it: outlives them
    FakeInternalApi api_;
    store::ProgressSettings progress_;
    store::ProgressStats store_stats_;
    std::unique_ptr<redis::Client> flusher_redis_;
    std::unique_ptr<redis::Client> writer_redis_;
    std::unique_ptr<store::ProgressStore> writer_;
    std::vector<std::unique_ptr<Running>> running_;
};

/// Three accounts × two profiles × two titles, each key written @p rounds times (newer each time).
std::vector<Write> fleet_writes(int rounds, std::int64_t base_ms = 1'000'000) {
    std::vector<Write> out;
    for (int round = 1; round <= rounds; ++round) {
        for (const std::string a : {"acc1", "acc2", "acc3"}) {
            for (const std::string p : {"a", "b"}) {
                for (const std::string c : {"c1", "c2"}) {
                    out.push_back(Write{
                        a, a + "-p" + p, c, 10.0 * round + 0.5, base_ms + 1000 * round, round});
                }
            }
        }
    }
    return out;
}

// 1 ------------------------------------------------------------------------------------------

TEST_F(FlusherRedisTest, SendsOnlyTheNewestValueOfEachKeyThenAcksDeletesAndCleans) {
    std::vector<Write> writes = fleet_writes(3);
    // An older write after the newest: rejected by the guard, so it leaves no marker.
    writes.push_back(Write{"acc1", "acc1-pa", "c1", 999, 1'000'500, 9});
    ASSERT_EQ(put_all(writes), writes.size() - 1);
    const auto want = newest_of(writes);
    ASSERT_EQ(want.size(), 12U);
    ASSERT_EQ(stream_len(), static_cast<std::int64_t>(writes.size() - 1));
    writes.pop_back();

    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s
    )) << "acked "
       << f.stats.markers_acked_total;

    // All markers were read before the first flush was due: one snapshot, one call, one item per
    // key.
    ASSERT_EQ(api_.calls().size(), 1U);
    expect_each_newest_once(api_.calls()[0].items, want);
    EXPECT_EQ(f.stats.items_sent_total, want.size());
    EXPECT_EQ(f.stats.failures_total, 0U);
    EXPECT_GE(f.stats.flushes_total, 1U);
    EXPECT_EQ(f.stats.markers_in_flight, 0);
    EXPECT_GT(f.stats.last_success_ms, 0);
    EXPECT_EQ(stream_len(), 0) << "flushed markers are XDELed";
    EXPECT_EQ(pending(), 0) << "flushed markers are XACKed";
    for (const std::string a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 0) << a;
    }
    // Flushing does not evict the cache: Redis still serves the newest position.
    EXPECT_EQ(redis_->command({"HGET", testing::account_key("prog:", "acc2", ":acc2-pb"), "c2"}), "30.5|3600|1003000|3|0|");
}

TEST_F(FlusherRedisTest, FlushesWritesThatArriveWhileItRunsAndEndsOnTheNewest) {
    Running& f = start_flusher(fast());
    std::vector<Write> all;
    for (int round = 1; round <= 3; ++round) {
        std::vector<Write> writes = fleet_writes(1, 1'000'000 + 10'000 * round);
        for (Write& w : writes) {
            w.position += round;
        }
        ASSERT_EQ(put_all(writes), writes.size());
        all.insert(all.end(), writes.begin(), writes.end());
        ASSERT_TRUE(run_until(
            io_, [&] { return f.stats.markers_acked_total == all.size(); }, 10s
        )) << "round "
           << round << ": acked " << f.stats.markers_acked_total;
    }
    expect_each_ends_newest(api_.accepted_items(), newest_of(all));
    EXPECT_EQ(f.stats.failures_total, 0U);
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
    for (const std::string a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 0) << a;
    }
}

TEST_F(FlusherRedisTest, MalformedMarkersAreAckedAndDroppedWithoutACall) {
    ASSERT_EQ(redis_->command({"XADD", stream_key(0), "*", "a", "not a valid id!"}).empty(), false);
    ASSERT_EQ(redis_->command({"XADD", stream_key(1), "*", "x", "y"}).empty(), false);
    ASSERT_EQ(put_all({Write{"acc1", "p1", "c1", 5, 1'000'000, 1}}), 1U);

    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == 3U; }, 10s
    )) << "acked "
       << f.stats.markers_acked_total;
    ASSERT_EQ(api_.calls().size(), 1U);
    expect_each_newest_once(
        api_.calls()[0].items, {{Key{"p1", "c1"}, Write{"acc1", "p1", "c1", 5, 1'000'000, 1}}}
    );
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

// docs/data.md "Due index": a marker lost (trimmed, or deleted by a consumer that died) leaves a
// dirty entry nobody announces; its account's due-index score (announced + marker_lost) brings
// the flusher anyway, and the flush takes the account out of the index.
class FlusherDueIndexTest : public FlusherRedisTest {
protected:
    static constexpr Ms kLost = 300ms;

    void SetUp() override {
        progress_.marker_lost = kLost;  // before the base builds the writer with it
        FlusherRedisTest::SetUp();
    }

    std::string due_key(const std::string& account) {
        store::KeyBuffer kb;
        return std::string(
            store::progress_due_key(kb, store::account_partition(account)));
    }
    /// The account's score in its due index, "" when it is not there.
    std::string due_score(const std::string& account) { return redis_->command({"ZSCORE", due_key(account), account}); }
    std::int64_t indexed() {
        std::int64_t n = 0;
        for (int s = 0; s < store::kPartitions; ++s) {
            store::KeyBuffer kb;
            n += number({"ZCARD", std::string(store::progress_due_key(kb, s))});
        }
        return n;
    }
};

TEST_F(FlusherDueIndexTest, DeliversADirtyEntryWhoseMarkerWasLostOnceItsScoreIsDue) {
    const std::int64_t before = core::SystemClock::instance().wall_ms();
    const std::vector<Write> writes = fleet_writes(1);
    ASSERT_EQ(put_all(writes), writes.size());
    const std::int64_t after = core::SystemClock::instance().wall_ms();
    for (const char* a : {"acc1", "acc2", "acc3"}) {
        // mark_dirty: announced now, so presumed lost marker_lost later.
        const std::int64_t score = std::stoll(due_score(a));
        EXPECT_GE(score, before + kLost.count()) << a;
        EXPECT_LE(score, after + kLost.count()) << a;
    }
    for (int s = 0; s < store::kPartitions; ++s) {
        redis_->command({"DEL", stream_key(s)});  // every marker lost
    }
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.due_taken_total >= 3U && indexed() == 0; }, 15s))
        << "taken " << f.stats.due_taken_total << " indexed " << indexed() << " calls " << api_.calls().size();
    const std::int64_t sent_at = core::SystemClock::instance().wall_ms();
    EXPECT_GE(sent_at, before + kLost.count()) << "taken before its score was due";
    for (const char* a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 0) << a;
        EXPECT_EQ(due_score(a), "(nil)") << a << ": flushed, so out of the index";
    }
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(stream_len(), 0);
}

// Announced entries flushed through their markers never need the index: nothing is taken, and
// each flush takes its accounts out of it.
TEST_F(FlusherRedisTest, AnnouncedEntriesGoThroughTheirMarkersAndLeaveTheDueIndex) {
    const std::vector<Write> writes = fleet_writes(1);
    ASSERT_EQ(put_all(writes), writes.size());
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s));
    EXPECT_EQ(f.stats.due_taken_total, 0U);
    for (int s = 0; s < store::kPartitions; ++s) {
        store::KeyBuffer kb;
        EXPECT_EQ(number({"ZCARD", std::string(store::progress_due_key(kb, s))}), 0) << s;
    }
}

// A held title whose session died (no further heartbeat will announce it): the index brings the
// flusher at its due time, not before, and not later than a flush interval after.
TEST_F(FlusherDueIndexTest, AHeldEntryWithoutAMarkerIsFlushedAtItsDueTime) {
    ASSERT_EQ(put_all({Write{"acc1", "p1", "c1", 11, 1'000'000, 1}}), 1U);
    for (int s = 0; s < store::kPartitions; ++s) {
        redis_->command({"DEL", stream_key(s)});  // held entries have no marker
    }
    // What mark_dirty writes for a heartbeat's held entry: no marker, due later, indexed at it.
    const std::int64_t due = core::SystemClock::instance().wall_ms() + 1500;
    ASSERT_EQ(redis_->command({"HSET", dirty_key("acc1"), "p1/c1", "1000000|1|0|" + std::to_string(due)}), "0");
    ASSERT_EQ(redis_->command({"ZADD", due_key("acc1"), std::to_string(due), "acc1"}), "0");
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return !api_.accepted_items().empty(); }, 15s))
        << "never flushed; taken " << f.stats.due_taken_total << " score " << due_score("acc1");
    const std::int64_t sent_at = core::SystemClock::instance().wall_ms();
    EXPECT_GE(sent_at, due) << "sent before it was due";
    expect_each_newest_once(api_.accepted_items(), {{Key{"p1", "c1"}, Write{"acc1", "p1", "c1", 11, 1'000'000, 1}}});
    ASSERT_TRUE(run_until(io_, [&] { return dirty_len("acc1") == 0 && due_score("acc1") == "(nil)"; }, 10s));
}

// Dirty hashes written before the index existed (an older moneta) are indexed once at startup.
// Taking claims: an account another flusher took (and has not cleared) is not taken again
// until claim_idle has passed — then it is, so a flusher that died holding it loses nothing.
TEST_F(FlusherDueIndexTest, ATakenAccountIsClaimedForClaimIdleThenTakenAgain) {
    ASSERT_EQ(put_all({Write{"acc1", "p1", "c1", 11, 1'000'000, 1}}), 1U);
    for (int s = 0; s < store::kPartitions; ++s) {
        redis_->command({"DEL", stream_key(s)});
    }
    const std::int64_t now = core::SystemClock::instance().wall_ms();
    ASSERT_EQ(redis_->command({"ZADD", due_key("acc1"), std::to_string(now - 1), "acc1"}), "0");
    const store::DueTakeScript due_take;
    const std::int64_t claimed_until = now + 1500;
    // Another flusher's take, then it dies.
    const std::string taken =
        redis_->command({"EVAL", std::string(due_take.script().source()), "1", due_key("acc1"), std::to_string(now),
                         std::to_string(claimed_until), "10"});
    ASSERT_EQ(taken, "acc1");
    EXPECT_EQ(due_score("acc1"), std::to_string(claimed_until));
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return !api_.accepted_items().empty(); }, 15s));
    EXPECT_GE(core::SystemClock::instance().wall_ms(), claimed_until) << "taken while another flusher's claim held";
    EXPECT_EQ(f.stats.due_taken_total, 1U);
    expect_each_newest_once(api_.accepted_items(), {{Key{"p1", "c1"}, Write{"acc1", "p1", "c1", 11, 1'000'000, 1}}});
}

TEST_F(FlusherRedisTest, RecreatesItsGroupsWhenRedisLostTheStreams) {
    Running& f = start_flusher(fast());
    const std::vector<Write> first = {Write{"acc1", "p1", "c1", 5, 1'000'000, 1}};
    ASSERT_EQ(put_all(first), 1U);
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == 1U; }, 10s
    ));

    ASSERT_EQ(redis_->command({"FLUSHALL"}), "OK");  // streams and groups gone (scripts stay)
    const std::vector<Write> second = {Write{"acc2", "p2", "c2", 6, 1'000'000, 1}};
    ASSERT_EQ(put_all(second), 1U);
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == 2U; }, 10s
    )) << "acked "
       << f.stats.markers_acked_total;
    std::vector<Write> all = first;
    all.insert(all.end(), second.begin(), second.end());
    expect_each_newest_once(api_.accepted_items(), newest_of(all));
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

// 2 ------------------------------------------------------------------------------------------

/// One write for each of @p n accounts (spread over all shards by the account hash).
std::vector<Write> one_write_per_account(int n) {
    std::vector<Write> out;
    for (int i = 0; i < n; ++i) {
        const std::string a = "acct" + std::to_string(i);
        out.push_back(Write{a, a + "-p", "c1", 42.5, 1'000'000 + i, 1});
    }
    return out;
}

TEST_F(FlusherRedisTest, FlushesAsSoonAsABatchIsFullWithoutWaitingForTheInterval) {
    const std::vector<Write> writes = one_write_per_account(1100);
    ASSERT_EQ(put_all(writes), writes.size());
    FlusherSettings s = fast();
    s.interval = 60s;  // only a full batch (or the stop) can trigger a flush in this test
    Running& f = start_flusher(s);

    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total >= 1000U; }, 30s
    )) << "acked "
       << f.stats.markers_acked_total << " long before the 60 s interval";
    EXPECT_EQ(f.stats.failures_total, 0U);

    // The rest (a partial batch) goes with the final flush.
    stop(f, 5s);
    EXPECT_EQ(f.stats.markers_acked_total, writes.size());
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

TEST_F(FlusherRedisTest, NeverFlushesMoreThanABatchOfAccountsOrHoldsMoreThanMaxMarkers) {
    const std::vector<Write> writes = one_write_per_account(400);
    ASSERT_EQ(put_all(writes), writes.size());
    FlusherSettings s = fast();
    s.batch = 50;         // accounts per flush
    s.max_markers = 120;  // markers held in memory
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 30s
    )) << "acked "
       << f.stats.markers_acked_total;
    std::int64_t most_held = 0;
    std::size_t most_items = 0;
    for (const Call& c : api_.calls()) {
        most_held = std::max(most_held, c.markers_in_flight);
        most_items = std::max(most_items, c.items.size());
    }
    EXPECT_LE(most_items, 50U) << "accounts (one item each here) in one flush";
    EXPECT_LE(most_held, 120) << "markers held in memory";
    EXPECT_GE(f.stats.flushes_total, 400U / 50U);
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
}

// Markers of one busy account coalesce: many writes wait for the interval and cost one item.
TEST_F(FlusherRedisTest, ManyMarkersOfFewAccountsWaitForTheIntervalAndCoalesce) {
    const std::vector<Write> writes = fleet_writes(50);  // 600 markers, 3 accounts, 12 keys
    ASSERT_EQ(put_all(writes), writes.size());
    FlusherSettings s = fast();
    s.interval = 300ms;
    s.batch = 500;
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s));
    EXPECT_EQ(api_.calls().size(), 1U) << "600 markers of 3 accounts are one flush";
    EXPECT_EQ(f.stats.items_sent_total, 12U);
}

/// @p n titles of one profile of one account.
std::vector<Write> many_titles(int n) {
    std::vector<Write> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(Write{"big", "big-p", "t" + std::to_string(i), 1.0 + i, 1'000'000 + i, 1});
    }
    return out;
}

TEST_F(FlusherRedisTest, SplitsMoreThanAThousandItemsIntoCallsOfAtMostAThousand) {
    const std::vector<Write> writes = many_titles(1500);
    ASSERT_EQ(put_all(writes), writes.size());
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 30s
    )) << "acked "
       << f.stats.markers_acked_total;

    // The first snapshot of the account holds all 1500 keys; later batches find it clean.
    ASSERT_EQ(api_.calls().size(), 2U);
    EXPECT_EQ(api_.calls()[0].items.size(), 1000U);
    EXPECT_EQ(api_.calls()[1].items.size(), 500U);
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(f.stats.items_sent_total, 1500U);
    EXPECT_EQ(dirty_len("big"), 0);
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

TEST_F(FlusherRedisTest, AFailedSecondCallRetriesTheWholeFlushAndAcksOnlyAfterIt) {
    const std::vector<Write> writes = many_titles(1200);
    ASSERT_EQ(put_all(writes), writes.size());
    api_.queue_answers({Answer::kOk, Answer::kUnavailable});
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(
        io_, [&] { return api_.calls().size() >= 2U; }, 30s
    ));
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.failures_total >= 1U; }, 10s
    ));
    EXPECT_EQ(f.stats.markers_acked_total, 0U) << "half-confirmed flush acked markers";
    EXPECT_EQ(dirty_len("big"), 1200) << "half-confirmed flush cleared dirty entries";

    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 30s
    )) << "acked "
       << f.stats.markers_acked_total;
    EXPECT_EQ(f.stats.failures_total, 1U);
    expect_each_ends_newest(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(dirty_len("big"), 0);
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

// 3 ------------------------------------------------------------------------------------------

class FlusherFailingApiTest : public FlusherRedisTest,
                              public ::testing::WithParamInterface<Answer> {};

TEST_P(
    FlusherFailingApiTest, KeepsEverythingPendingAndDirtyRetriesWithBackoffAndDeliversAfterRecovery
) {
    const std::vector<Write> writes = fleet_writes(2);
    ASSERT_EQ(put_all(writes), writes.size());
    const auto want = newest_of(writes);
    const auto w = static_cast<std::int64_t>(writes.size());

    api_.set_answer(GetParam());
    FlusherSettings s = fast();
    if (GetParam() == Answer::kHang) {
        s.call_timeout = 300ms;  // a hung call ends at its deadline
    }
    Running& f = start_flusher(s);
    constexpr std::size_t kAttempts = 6;
    ASSERT_TRUE(run_until(
        io_, [&] { return api_.calls().size() >= kAttempts; }, 30s
    )) << "attempts: "
       << api_.calls().size();

    // Nothing was confirmed, so nothing may be acknowledged, deleted or cleaned.
    EXPECT_EQ(f.stats.markers_acked_total, 0U);
    EXPECT_EQ(f.stats.items_sent_total, 0U);
    EXPECT_GE(f.stats.failures_total, kAttempts - 1);
    EXPECT_EQ(stream_len(), w);
    EXPECT_EQ(pending_of("alive"), w);
    for (const std::string a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 4) << a;
    }
    // Every attempt carried the newest values; attempts were spaced by the doubling backoff.
    const std::vector<Call> calls = api_.calls();
    expect_each_newest_once(calls[0].items, want);
    expect_each_newest_once(calls[kAttempts - 1].items, want);
    Ms backoff = s.retry_min;
    for (std::size_t i = 0; i + 1 < kAttempts; ++i) {
        const auto gap = std::chrono::duration_cast<Ms>(calls[i + 1].at - calls[i].at);
        EXPECT_GE(gap, backoff) << "gap after attempt " << i;
        backoff = std::min(backoff * 2, s.retry_max);
    }

    api_.set_answer(Answer::kOk);
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s
    )) << "acked "
       << f.stats.markers_acked_total;
    expect_each_newest_once(api_.accepted_items(), want);
    EXPECT_EQ(f.stats.failures_total, api_.calls().size() - api_.answered_ok());
    EXPECT_EQ(f.stats.items_sent_total, want.size());
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
    for (const std::string a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 0) << a;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Answers,
    FlusherFailingApiTest,
    ::testing::Values(Answer::kUnavailable, Answer::kTimeout, Answer::kBadBody, Answer::kHang),
    [](const ::testing::TestParamInfo<Answer>& p) { return std::string(answer_name(p.param)); }
);

// 4 ------------------------------------------------------------------------------------------

// With the default ProgressSettings::announce, a title already pending and freshly announced
// writes neither a dirty version nor a marker: three rounds of writes to 12 titles leave 12
// markers, and the flush still sends each title's newest value (the snapshot reads the stored
// value, not the dirty version). A write after the snapshot ('*') is a new version with a new
// marker, kept by the clear and sent by the next flush: nothing is lost.
TEST_F(FlusherRedisTest, AnnouncedTitlesCoalesceIntoOneMarkerAndLoseNothing) {
    store::ProgressSettings settings = progress_;
    settings.announce = store::ProgressSettings{}.announce;
    store::ProgressStore writer(*writer_redis_, api_, settings, store_stats_);
    const std::vector<Write> writes = fleet_writes(3);
    ASSERT_EQ(run(io_, async_put_all(writer, writes), 60s).value_or(0), writes.size());
    ASSERT_EQ(stream_len(), 12);
    const Write later{"acc1", "acc1-pa", "c1", 77.5, 9'000'000, 9};
    const std::vector<Write> during = {later};
    std::size_t applied_during = 0;
    api_.before_next_answer([&]() -> boost::asio::awaitable<void> {
        applied_during = co_await async_put_all(writer, during);
    });

    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == 13U; }, 10s))
        << "acked " << f.stats.markers_acked_total;
    ASSERT_EQ(applied_during, 1U);
    ASSERT_EQ(api_.calls().size(), 2U);
    expect_each_newest_once(api_.calls()[0].items, newest_of(writes));
    expect_each_newest_once(api_.calls()[1].items, newest_of(during));
    std::vector<Write> all = writes;
    all.push_back(later);
    expect_each_ends_newest(api_.accepted_items(), newest_of(all));
    for (const std::string a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 0) << a;
    }
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

TEST_F(FlusherRedisTest, AWriteBetweenSnapshotAndClearStaysDirtyAndGoesInTheNextFlush) {
    const std::vector<Write> before = {
        Write{"acc1", "p1", "c1", 100, 1'000'000, 1},
        Write{"acc1", "p1", "c2", 50, 1'000'000, 1},
    };
    ASSERT_EQ(put_all(before), before.size());
    // Lands after the flusher's snapshot and before its clear, on another connection.
    const std::vector<Write> during = {
        Write{"acc1", "p1", "c1", 222, 2'000'000, 1},  // newer version of a snapshotted key
        Write{"acc1", "p1", "c3", 7, 2'000'000, 1},    // a key the snapshot never saw
    };
    std::size_t applied_during = 0;
    api_.before_next_answer([&]() -> boost::asio::awaitable<void> {
        applied_during = co_await async_put_all(*writer_, during);
    });

    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.flushes_total >= 1U; }, 10s
    ));
    ASSERT_EQ(applied_during, during.size());
    ASSERT_EQ(api_.calls().size(), 1U);
    expect_each_newest_once(api_.calls()[0].items, newest_of(before));
    // Only what was flushed at the flushed version is clean.
    EXPECT_EQ(dirty_version("acc1", "p1", "c1"), "2000000|1");
    EXPECT_EQ(dirty_version("acc1", "p1", "c3"), "2000000|1");
    EXPECT_EQ(dirty_version("acc1", "p1", "c2"), "(nil)");

    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == before.size() + during.size(); }, 10s
    )) << "acked "
       << f.stats.markers_acked_total;
    ASSERT_EQ(api_.calls().size(), 2U);
    expect_each_newest_once(api_.calls()[1].items, newest_of(during));
    std::vector<Write> all = before;
    all.insert(all.end(), during.begin(), during.end());
    expect_each_ends_newest(api_.accepted_items(), newest_of(all));
    EXPECT_EQ(dirty_len("acc1"), 0);
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

// 5 ------------------------------------------------------------------------------------------

TEST_F(FlusherRedisTest, MarkersOfADeadConsumerAreClaimedAfterClaimIdleAndFlushed) {
    for (int s = 0; s < store::kPartitions; ++s) {
        ASSERT_EQ(
            redis_->command(
                {"XGROUP",
                 "CREATE",
                 stream_key(s),
                 std::string(ProgressFlusher::kGroup),
                 "0",
                 "MKSTREAM"}
            ),
            "OK"
        );
    }
    const std::vector<Write> writes = fleet_writes(2);
    ASSERT_EQ(put_all(writes), writes.size());
    const auto w = static_cast<std::int64_t>(writes.size());
    // A flusher that read everything and died before acknowledging.
    for (int s = 0; s < store::kPartitions; ++s) {
        redis_->command(
            {"XREADGROUP",
             "GROUP",
             std::string(ProgressFlusher::kGroup),
             "dead",
             "COUNT",
             "1000",
             "STREAMS",
             stream_key(s),
             ">"}
        );
    }
    const auto read_at = SteadyClock::now();
    ASSERT_EQ(pending_of("dead"), w);

    Running& f = start_flusher(fast(), "alive");
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s
    )) << "acked "
       << f.stats.markers_acked_total;
    EXPECT_EQ(f.stats.markers_claimed_total, writes.size());
    ASSERT_FALSE(api_.calls().empty());
    // Not taken from the other consumer before it had been silent for claim_idle (200 ms; the
    // margin covers the time between Redis delivering to "dead" and read_at).
    EXPECT_GE(std::chrono::duration_cast<Ms>(api_.calls().front().at - read_at), 150ms);
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(pending_of("dead"), 0);
    EXPECT_EQ(pending(), 0);
    EXPECT_EQ(stream_len(), 0);
}

// 6 ------------------------------------------------------------------------------------------

TEST_F(FlusherRedisTest, StopFlushesEverythingWrittenBeforeItWithinTheBudget) {
    const std::vector<Write> first = fleet_writes(1);
    const auto wall_ms = [] {
        return std::chrono::duration_cast<Ms>(std::chrono::system_clock::now().time_since_epoch()).count();
    };
    const std::int64_t written_from = wall_ms();
    ASSERT_EQ(put_all(first), first.size());
    FlusherSettings s = fast();
    s.interval = 60s;  // only the stop can trigger a flush in this test
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(
        io_,
        [&] { return f.stats.markers_in_flight == static_cast<std::int64_t>(first.size()); },
        10s
    ));
    // The oldest marker held is one of these writes: its stream id's time is when XADD ran (the
    // Redis server's clock, the same host's wall clock; 1 s of slack either side).
    EXPECT_GE(f.stats.oldest_marker_ms.load(), written_from - 1000);
    EXPECT_LE(f.stats.oldest_marker_ms.load(), wall_ms() + 1000);
    // More writes while it idles (some may still be unread when the stop arrives).
    std::vector<Write> second = fleet_writes(1, 2'000'000);
    second.push_back(Write{"acc4", "acc4-p", "c9", 3, 2'000'000, 1});
    ASSERT_EQ(put_all(second), second.size());
    ASSERT_TRUE(api_.calls().empty()) << "flushed before the stop";

    const auto stopped_at = SteadyClock::now();
    const Ms took = stop(f, 2s);
    EXPECT_LT(took, 2s);
    std::vector<Write> all = first;
    all.insert(all.end(), second.begin(), second.end());
    EXPECT_EQ(f.stats.markers_acked_total, all.size());
    EXPECT_EQ(f.stats.oldest_marker_ms, 0) << "nothing held after the final flush";
    ASSERT_FALSE(api_.calls().empty());
    EXPECT_GE(api_.calls().front().at, stopped_at);
    expect_each_newest_once(api_.accepted_items(), newest_of(all));
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
    for (const std::string a : {"acc1", "acc2", "acc3", "acc4"}) {
        EXPECT_EQ(dirty_len(a), 0) << a;
    }
}

// docs/data.md "Write-behind hold": a held entry ("upd|seq|0|due_at", a title still playing)
// waits for its due time; a marker of its account flushes only the due entries and is acked.
// Once due (and announced again), it goes.
TEST_F(FlusherRedisTest, HeldEntriesWaitForTheirDueTimeWhileDueOnesOfTheAccountGo) {
    ASSERT_EQ(put_all({Write{"acc1", "p1", "c1", 11, 1'000'000, 1}, Write{"acc1", "p1", "c2", 22, 1'000'000, 1}}), 2U);
    const std::int64_t in_an_hour = core::SystemClock::instance().wall_ms() + 3'600'000;
    ASSERT_EQ(redis_->command({"HSET", dirty_key("acc1"), "p1/c2", "1000000|1|0|" + std::to_string(in_an_hour)}), "0");
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == 2U; }, 10s))
        << "acked " << f.stats.markers_acked_total;
    ASSERT_EQ(api_.calls().size(), 1U);
    expect_each_newest_once(api_.calls()[0].items, {{Key{"p1", "c1"}, Write{"acc1", "p1", "c1", 11, 1'000'000, 1}}});
    EXPECT_EQ(dirty_version("acc1", "p1", "c1"), "(nil)");
    EXPECT_EQ(dirty_version("acc1", "p1", "c2"), "1000000|1") << "held: not snapshotted";
    EXPECT_EQ(pending(), 0);

    // Due now (what mark_dirty writes when a heartbeat finds it due), with its marker.
    ASSERT_EQ(redis_->command({"HSET", dirty_key("acc1"), "p1/c2", "1000000|1|5|5"}), "0");
    ASSERT_FALSE(redis_->command({"XADD", stream_key(0), "*", "a", "acc1"}).empty());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == 3U && dirty_len("acc1") == 0; }, 10s));
    ASSERT_EQ(api_.calls().size(), 2U);
    expect_each_newest_once(api_.calls()[1].items, {{Key{"p1", "c2"}, Write{"acc1", "p1", "c2", 22, 1'000'000, 1}}});
}

// A clean stop flushes held entries too, although no marker names their accounts and they are
// not due: the stop takes every account of the due index (api.md: "clean shutdown flushes").
TEST_F(FlusherRedisTest, StopFlushesHeldEntriesThatHaveNoMarker) {
    const std::vector<Write> writes = {Write{"acc1", "p1", "c1", 11, 1'000'000, 1},
                                       Write{"acc2", "p2", "c2", 22, 1'000'000, 1}};
    ASSERT_EQ(put_all(writes), 2U);
    const std::string later = std::to_string(core::SystemClock::instance().wall_ms() + 3'600'000);
    for (const Write& w : writes) {
        ASSERT_EQ(redis_->command({"HSET", dirty_key(w.account), w.profile + "/" + w.content, "1000000|1|0|" + later}),
                  "0");
    }
    for (int shard = 0; shard < store::kPartitions; ++shard) {
        redis_->command({"DEL", stream_key(shard)});  // held entries have no marker
        store::KeyBuffer kb;
        redis_->command({"DEL", std::string(store::progress_due_key(kb, shard))});
    }
    for (const Write& w : writes) {  // indexed at their due time, as mark_dirty does
        const int shard = store::account_partition(w.account);
        store::KeyBuffer kb;
        ASSERT_EQ(redis_->command({"ZADD", std::string(store::progress_due_key(kb, shard)), later, w.account}), "1");
    }
    FlusherSettings s = fast();
    s.interval = 60s;
    Running& f = start_flusher(s);
    // Running: its consumer group re-created the streams.
    ASSERT_TRUE(run_until(io_, [&] { return redis_->command({"EXISTS", stream_key(0)}) == "1"; }, 10s));
    ASSERT_TRUE(api_.calls().empty());
    EXPECT_EQ(f.stats.due_taken_total, 0U) << "not due for an hour";
    EXPECT_LT(stop(f, 5s), 5s);
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(dirty_len("acc1"), 0);
    EXPECT_EQ(dirty_len("acc2"), 0);
}

class FlusherStopApiDownTest : public FlusherRedisTest,
                               public ::testing::WithParamInterface<Answer> {};

TEST_P(
    FlusherStopApiDownTest, ReturnsWithinTheBudgetLeavesMarkersPendingAndASuccessorDeliversThem
) {
    const std::vector<Write> writes = fleet_writes(1);
    ASSERT_EQ(put_all(writes), writes.size());
    const auto w = static_cast<std::int64_t>(writes.size());
    FlusherSettings s = fast();
    s.interval = 60s;  // no flush before the stop
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_in_flight == w; }, 10s
    ));

    api_.set_answer(GetParam());
    constexpr Ms kBudget = 300ms;
    const Ms took = stop(f, kBudget);
    // Bounded by the budget (plus one loop turn and this test's 10 ms polling).
    EXPECT_LT(took, kBudget + 300ms);
    EXPECT_FALSE(api_.calls().empty());
    EXPECT_EQ(f.stats.markers_acked_total, 0U);
    EXPECT_EQ(pending_of("alive"), w) << "unflushed markers stay pending for the next consumer";
    EXPECT_EQ(stream_len(), w);
    for (const std::string a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 4) << a;
    }

    // Never lost: the next process claims them once they idled claim_idle.
    api_.set_answer(Answer::kOk);
    Running& next = start_flusher(fast(), "successor");
    ASSERT_TRUE(run_until(
        io_, [&] { return next.stats.markers_acked_total == writes.size(); }, 10s
    )) << "acked "
       << next.stats.markers_acked_total;
    EXPECT_EQ(next.stats.markers_claimed_total, writes.size());
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(pending(), 0);
    EXPECT_EQ(stream_len(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Answers,
    FlusherStopApiDownTest,
    ::testing::Values(Answer::kUnavailable, Answer::kHang),
    [](const ::testing::TestParamInfo<Answer>& p) { return std::string(answer_name(p.param)); }
);

// An idle flusher doubles its poll wait up to poll_max: the 256 partition reads go out about
// once per poll_max, not once per poll (docs/data.md "Cluster": the cost of 256 streams); the
// first marker brings the wait back down.
TEST_F(FlusherRedisTest, AnIdleFlusherPollsLessOftenAndAMarkerBringsItBack) {
    FlusherSettings s = fast();
    s.poll = 10ms;
    s.poll_max = 160ms;
    s.interval = 2s;
    s.claim_idle = 10s;
    Running& f = start_flusher(s);
    const auto reads = [&] {
        const std::string stats = redis_->command({"INFO", "commandstats"});
        const auto at = stats.find("cmdstat_xreadgroup:calls=");
        return at == std::string::npos ? 0LL : std::stoll(stats.substr(at + 25));
    };
    ASSERT_TRUE(run_until(io_, [&] { return reads() > 0; }, 5s)) << "the flusher never polled";
    const long long before = reads();
    run_until(io_, [] { return false; }, 1600ms);  // a measured idle period, not a wait for state
    const long long idle = reads() - before;
    // Without the backoff: 1,600 / 10 = 160 polls of 256 reads. With it: ~10 polls.
    EXPECT_LE(idle, 20LL * store::kPartitions) << idle << " reads in 1.6 s";
    EXPECT_GE(idle, 4LL * store::kPartitions) << "it still polls";
    const std::vector<Write> one = one_write_per_account(1);
    ASSERT_EQ(put_all(one), 1U);
    EXPECT_TRUE(run_until(io_, [&] { return f.stats.markers_in_flight.load() == 1; }, 1s))
        << "a marker is read within one poll_max";
}

// 7 ------------------------------------------------------------------------------------------

TEST_F(FlusherRedisTest, MarkersWrittenBeforeTheGroupExistedAreFlushed) {
    const std::vector<Write> writes = fleet_writes(1);
    ASSERT_EQ(put_all(writes), writes.size());
    int shards_with_markers = 0;
    for (int s = 0; s < store::kPartitions; ++s) {
        if (redis_->command({"EXISTS", stream_key(s)}) == "1") {
            ++shards_with_markers;
            EXPECT_TRUE(redis_->command_list({"XINFO", "GROUPS", stream_key(s)}).empty())
                << "no group yet";
        }
    }
    ASSERT_GE(shards_with_markers, 2) << "the accounts should spread over shards";

    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s
    )) << "acked "
       << f.stats.markers_acked_total;
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
    EXPECT_EQ(f.stats.markers_claimed_total, 0U);
    for (int s = 0; s < store::kPartitions; ++s) {
        const auto info = redis_->command({"XINFO", "GROUPS", stream_key(s)});
        EXPECT_NE(info.find(std::string(ProgressFlusher::kGroup)), std::string::npos)
            << "shard " << s << ": " << info;
    }
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
}

// 8 ------------------------------------------------------------------------------------------
// Markers are bounded (XADD MAXLEN ~): a marker trimmed before a flusher read it, or while a dead
// consumer held it, loses nothing; the dirty hash and the due index deliver its position.

class FlusherBoundedStreamTest : public FlusherRedisTest {
protected:
    static constexpr std::int64_t kMaxLen = 20;
    static constexpr std::int64_t kNode = 4;  // stream-node-max-entries: `~` trims whole nodes

    void SetUp() override {
        progress_.stream_max_len = kMaxLen;  // before the base builds the writer with it
        progress_.marker_lost = 300ms;       // trimmed markers are found through the due index
        FlusherRedisTest::SetUp();
        ASSERT_EQ(redis_->command({"CONFIG", "SET", "stream-node-max-entries", std::to_string(kNode)}), "OK");
    }
};

/// Round @p round of a write to each of @p accounts ("<prefix><j>", only names of partitions 0
/// and 1: their two streams get every marker, so a bound of 20 trims them), newer every round.
std::vector<Write> round_of(const std::string& prefix, int accounts, int round, std::int64_t base_ms) {
    std::vector<Write> out;
    for (int i = 0, j = 0; i < accounts; ++j) {
        const std::string a = prefix + std::to_string(j);
        if (store::account_partition(a) >= 2) {
            continue;
        }
        out.push_back(Write{a, a + "-p", "c1", 10.0 * round + i % 7, base_ms + 1000 * round + i, 1});
        ++i;
    }
    return out;
}

TEST_F(FlusherBoundedStreamTest, MarkersTrimmedBeforeAndWhilePendingStillDeliverEveryPosition) {
    create_groups();
    std::vector<Write> all;
    // A flusher that read these and died: their markers sit in its PEL…
    const std::vector<Write> early = round_of("early", 16, 1, 1'000'000);  // 8 a stream: under the bound
    ASSERT_EQ(put_all(early), early.size());
    all.insert(all.end(), early.begin(), early.end());
    for (int s = 0; s < store::kPartitions; ++s) {
        redis_->command({"XREADGROUP", "GROUP", std::string(ProgressFlusher::kGroup), "dead", "COUNT", "1000",
                         "STREAMS", stream_key(s), ">"});
    }
    ASSERT_EQ(pending_of("dead"), static_cast<std::int64_t>(early.size()));
    // …and while no flusher runs, 600 more writes trim them, and most of their own markers too.
    std::int64_t longest = 0;
    for (int round = 1; round <= 6; ++round) {
        const std::vector<Write> writes = round_of("acct", 100, round, 2'000'000);
        ASSERT_EQ(put_all(writes), writes.size());
        all.insert(all.end(), writes.begin(), writes.end());
        longest = std::max(longest, longest_stream());
    }
    EXPECT_LE(longest, kMaxLen + kNode) << "a shard stream outgrew its bound";
    EXPECT_LT(stream_len(), static_cast<std::int64_t>(all.size()) / 4) << "nothing was trimmed";

    Running& f = start_flusher(fast());
    // Load while it runs: half the accounts keep writing (and trimming).
    for (int round = 7; round <= 9; ++round) {
        const std::vector<Write> writes = round_of("acct", 50, round, 2'000'000);
        ASSERT_EQ(put_all(writes), writes.size());
        all.insert(all.end(), writes.begin(), writes.end());
        longest = std::max(longest, longest_stream());
    }
    EXPECT_LE(longest, kMaxLen + kNode);

    const auto want = newest_of(all);
    ASSERT_TRUE(run_until(io_, [&] { return all_arrived(want); }, 60s))
        << "not every position reached the internal API; taken=" << f.stats.due_taken_total
        << " trimmed=" << f.stats.markers_trimmed_total << " acked=" << f.stats.markers_acked_total;
    EXPECT_GT(f.stats.markers_trimmed_total, 0U) << "XAUTOCLAIM never reported a trimmed pending marker";
    EXPECT_GT(f.stats.due_taken_total, 0U) << "delivered without the due index: nothing was really lost";
    expect_each_ends_newest(api_.accepted_items(), want);
    EXPECT_EQ(f.stats.quarantined_total, 0U);

    // Then everything settles: nothing dirty, nothing pending (the dead consumer's trimmed
    // entries were dropped from its PEL by XAUTOCLAIM), nothing queued.
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_in_flight == 0 && stream_len() == 0; }, 30s));
    EXPECT_EQ(pending(), 0);
    EXPECT_EQ(pending_of("dead"), 0);
    for (const auto& [k, w] : want) {
        EXPECT_EQ(dirty_len(w.account), 0) << w.account;
    }
}

// The due index's takes are bounded by max_markers like the stream reads: with every marker
// lost and the internal API down, the flusher holds at most max_markers accounts, and delivers
// all of them once it is back.
TEST_F(FlusherBoundedStreamTest, TakesFromTheDueIndexAreBoundedToo) {
    const std::vector<Write> writes = round_of("acct", 200, 1, 1'000'000);
    ASSERT_EQ(put_all(writes), writes.size());
    for (int s = 0; s < store::kPartitions; ++s) {
        redis_->command({"DEL", stream_key(s)});  // every marker lost: only the index can help
    }
    api_.set_answer(Answer::kUnavailable);  // nothing is flushed: taken accounts stay in the batch
    FlusherSettings s = fast();
    s.max_markers = 10;
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.failures_total >= 3U; }, 30s));
    EXPECT_LE(f.stats.markers_in_flight, 10);
    EXPECT_LE(f.stats.due_taken_total, 10U);
    api_.set_answer(Answer::kOk);
    ASSERT_TRUE(run_until(io_, [&] { return all_arrived(newest_of(writes)); }, 60s))
        << "taken " << f.stats.due_taken_total;
}

// 9 ------------------------------------------------------------------------------------------
// A call refused for its items (4xx) is split; the refused items are quarantined; nobody stalls.

struct Refusal {
    const char* name;
    int status;
    bool names_the_item;
    friend void PrintTo(const Refusal& r, std::ostream* os) { *os << r.name; }
};

class FlusherRefusalTest : public FlusherRedisTest, public ::testing::WithParamInterface<Refusal> {};

TEST_P(FlusherRefusalTest, QuarantinesTheRefusedTitleSendsEverythingElseAndStallsNobody) {
    std::vector<Write> good = fleet_writes(2);
    const Write bogus{"acc2", "acc2-pa", "bogus", 33, 1'002'500, 4};
    std::vector<Write> writes = good;
    writes.insert(writes.begin() + 7, bogus);
    ASSERT_EQ(put_all(writes), writes.size());
    api_.refuse_titles({"bogus"}, GetParam().status, GetParam().names_the_item);

    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s))
        << "acked " << f.stats.markers_acked_total << " failures " << f.stats.failures_total;

    EXPECT_EQ(f.stats.failures_total, 0U) << "a refused item must not make the flush retry";
    EXPECT_EQ(f.stats.quarantined_total, 1U);
    EXPECT_GE(f.stats.split_calls_total, 1U);
    EXPECT_EQ(f.stats.split_budget_exhausted_total, 0U);
    EXPECT_GE(api_.refused_calls(), 2U) << "the whole batch, then the title alone";
    // Every good key exactly once, at its newest value; the refused one never accepted.
    expect_each_newest_once(api_.accepted_items(), newest_of(good));
    EXPECT_EQ(f.stats.items_sent_total, newest_of(good).size());

    const auto records = quarantine_records();
    ASSERT_EQ(records.size(), 1U);
    const auto& r = records[0];
    EXPECT_EQ(r.at("a"), "acc2");
    EXPECT_EQ(r.at("p"), "acc2-pa");
    EXPECT_EQ(r.at("c"), "bogus");
    EXPECT_EQ(r.at("status"), std::to_string(GetParam().status));
    EXPECT_EQ(r.at("code"), "UNKNOWN_CONTENT");
    EXPECT_GT(std::stoll(r.at("at")), 0);
    // The body is the batchUpsert an operator replays as is.
    const std::vector<Item> replay = parse_items(r.at("body"));
    ASSERT_EQ(replay.size(), 1U);
    EXPECT_EQ(replay[0].profile_id, "acc2-pa");
    EXPECT_EQ(replay[0].content_id, "bogus");
    EXPECT_DOUBLE_EQ(replay[0].position_sec, 33);
    EXPECT_EQ(replay[0].updated_at_ms, 1'002'500);
    EXPECT_EQ(replay[0].seq, 4);

    for (const std::string a : {"acc1", "acc2", "acc3"}) {
        EXPECT_EQ(dirty_len(a), 0) << a << ": quarantined entries are cleared, not retried forever";
    }
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
    // Quarantine is about the system of record: Redis still serves the position.
    EXPECT_EQ(redis_->command({"HGET", testing::account_key("prog:", "acc2", ":acc2-pa"), "bogus"}), "33|3600|1002500|4|0|");
}

INSTANTIATE_TEST_SUITE_P(
    Statuses,
    FlusherRefusalTest,
    ::testing::Values(Refusal{"UnprocessableNamingTheItem", 422, true}, Refusal{"UnprocessableUnnamed", 422, false},
                      Refusal{"BadRequest", 400, false}, Refusal{"TooLarge", 413, false}),
    [](const ::testing::TestParamInfo<Refusal>& p) { return std::string(p.param.name); });

class FlusherNotAnItemRefusalTest : public FlusherRedisTest, public ::testing::WithParamInterface<int> {};

// 401/403/404/409/429 say nothing about one item: splitting on them would quarantine good
// positions (a wrong token would quarantine everything). They are retried whole, as a 5xx is.
TEST_P(FlusherNotAnItemRefusalTest, IsRetriedWholeNeverSplitOrQuarantined) {
    const std::vector<Write> writes = fleet_writes(1);
    ASSERT_EQ(put_all(writes), writes.size());
    api_.refuse_titles({"c1"}, GetParam(), true);
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.failures_total >= 3U; }, 10s));
    EXPECT_EQ(f.stats.quarantined_total, 0U);
    EXPECT_EQ(f.stats.split_calls_total, 0U);
    EXPECT_EQ(f.stats.markers_acked_total, 0U);
    for (const Call& c : api_.calls()) {
        EXPECT_EQ(c.items.size(), 12U) << "a split call";
    }
    EXPECT_TRUE(quarantine_records().empty());
    EXPECT_EQ(dirty_len("acc1"), 4);

    api_.refuse_titles({}, 422, true);
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s));
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
}

INSTANTIATE_TEST_SUITE_P(Statuses, FlusherNotAnItemRefusalTest, ::testing::Values(401, 403, 404, 409, 429),
                         [](const ::testing::TestParamInfo<int>& p) { return "Status" + std::to_string(p.param); });

// One account full of refused titles (an attacker's bogus ids, with an API that does not name
// them: the worst case) shares a flush with 60 good accounts. The split budget runs out inside
// the bad account, but every good account is confirmed by the first flush and only the bad one
// waits; later flushes quarantine the rest.
TEST_F(FlusherRedisTest, AnAccountFullOfRefusedTitlesDelaysOnlyItself) {
    std::vector<Write> good = one_write_per_account(60);
    std::vector<Write> evil;
    std::set<std::string> bogus;
    for (int i = 0; i < 150; ++i) {
        evil.push_back(Write{"evil", "evil-p", "bogus" + std::to_string(i), 5.0 + i, 1'000'000 + i, 1});
        bogus.insert("bogus" + std::to_string(i));
    }
    std::vector<Write> writes = good;
    writes.insert(writes.end(), evil.begin(), evil.end());
    ASSERT_EQ(put_all(writes), writes.size());
    api_.refuse_titles(bogus, 422, false);

    FlusherSettings s = fast();
    s.interval = 60s;  // one flush, started by the full batch; the rest only at the stop
    s.batch = 61;
    s.split_calls_max = kMinSplitCalls;
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.flushes_total >= 1U; }, 30s));

    EXPECT_EQ(f.stats.split_budget_exhausted_total, 1U);
    EXPECT_EQ(f.stats.split_calls_total, kMinSplitCalls);
    EXPECT_GE(f.stats.quarantined_total, 1U);
    EXPECT_LT(f.stats.quarantined_total, 150U);
    expect_each_newest_once(api_.accepted_items(), newest_of(good));
    EXPECT_EQ(f.stats.markers_acked_total, good.size()) << "the good accounts' markers go at once";
    // The bad account's 150 markers wait for the next flush: still in its partition's stream,
    // read (pending) as far as a read's share of that partition went.
    EXPECT_EQ(stream_len(), 150) << "the bad account's markers wait for the next flush";
    EXPECT_GT(pending_of("alive"), 0);
    EXPECT_EQ(dirty_len("evil"), static_cast<std::int64_t>(150 - f.stats.quarantined_total));
    for (const Write& w : good) {
        EXPECT_EQ(dirty_len(w.account), 0) << w.account;
    }

    stop(f, 10s);  // flushes until nothing is left
    EXPECT_EQ(f.stats.quarantined_total, 150U);
    EXPECT_EQ(quarantine_records().size(), 150U);
    EXPECT_EQ(dirty_len("evil"), 0);
    EXPECT_EQ(stream_len(), 0);
    EXPECT_EQ(pending(), 0);
    expect_each_newest_once(api_.accepted_items(), newest_of(good));  // nothing good twice
}

// A flush that ran out of split calls is paced like a retry: even when the refused accounts
// alone fill a batch (batch = 1 here, which makes the next flush due at once), the next flush
// waits the backoff instead of spinning on the internal API.
TEST_F(FlusherRedisTest, FlushesLeftWithRefusedItemsArePacedByTheBackoff) {
    std::vector<Write> evil;
    std::set<std::string> bogus;
    for (int i = 0; i < 300; ++i) {
        evil.push_back(Write{"evil", "evil-p", "bogus" + std::to_string(i), 5.0 + i, 1'000'000 + i, 1});
        bogus.insert("bogus" + std::to_string(i));
    }
    ASSERT_EQ(put_all(evil), evil.size());
    api_.refuse_titles(bogus, 422, false);
    FlusherSettings s = fast();
    s.batch = 1;
    s.interval = 60s;
    s.split_calls_max = kMinSplitCalls;
    s.retry_min = 30ms;
    s.retry_max = 120ms;
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.quarantined_total == 300U; }, 60s))
        << "quarantined " << f.stats.quarantined_total;
    EXPECT_EQ(f.stats.failures_total, 0U) << "a partial flush is not a failure";
    EXPECT_GE(f.stats.split_budget_exhausted_total, 3U);

    // The calls of one flush share the flushes_total they saw; the next flush sees one more.
    const std::vector<Call>& calls = api_.calls();
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (i == 0 || calls[i].flushes_before != calls[i - 1].flushes_before) {
            starts.push_back(i);
        }
    }
    ASSERT_EQ(starts.size(), f.stats.split_budget_exhausted_total + 1) << "one flush per budget, plus the last";
    Ms backoff = s.retry_min;
    for (std::size_t k = 1; k < starts.size(); ++k) {
        const auto gap = std::chrono::duration_cast<Ms>(calls[starts[k]].at - calls[starts[k] - 1].at);
        EXPECT_GE(gap, backoff) << "flush " << k << " started " << gap.count() << " ms after the previous one";
        backoff = std::min(backoff * 2, s.retry_max);
    }
    EXPECT_EQ(quarantine_records().size(), 300U);
    EXPECT_EQ(dirty_len("evil"), 0);
}

TEST_F(FlusherRedisTest, TheQuarantineStreamIsBounded) {
    ASSERT_EQ(redis_->command({"CONFIG", "SET", "stream-node-max-entries", "4"}), "OK");
    std::vector<Write> writes;
    std::set<std::string> bogus;
    for (int i = 0; i < 60; ++i) {
        writes.push_back(Write{"acc1", "p1", "bogus" + std::to_string(i), 1.0 + i, 1'000'000 + i, 1});
        bogus.insert("bogus" + std::to_string(i));
    }
    ASSERT_EQ(put_all(writes), writes.size());
    api_.refuse_titles(bogus, 422, true);
    FlusherSettings s = fast();
    s.quarantine_max_len = 10;
    Running& f = start_flusher(s);
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.quarantined_total == 60U; }, 10s));
    const auto records = quarantine_records();
    EXPECT_GE(records.size(), 10U);
    EXPECT_LE(records.size(), 10U + 4U);
    EXPECT_EQ(records.back().at("c"), "bogus59") << "the newest records are kept";
}

// A newer write to a refused title while its flush runs is not cleared with the quarantined
// version: it stays dirty, is announced by its own marker, and is quarantined in turn.
TEST_F(FlusherRedisTest, ANewerWriteToARefusedTitleDuringTheFlushIsQuarantinedInTurn) {
    ASSERT_EQ(put_all({Write{"acc1", "p1", "bogus", 10, 1'000'000, 1}, Write{"acc1", "p1", "c1", 20, 1'000'000, 1}}),
              2U);
    api_.refuse_titles({"bogus"}, 422, true);
    api_.before_next_answer([&]() -> boost::asio::awaitable<void> {
        std::vector<Write> newer{Write{"acc1", "p1", "bogus", 99, 2'000'000, 1}};
        co_await async_put_all(*writer_, std::move(newer));
    });
    Running& f = start_flusher(fast());
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.quarantined_total == 2U && f.stats.markers_acked_total == 3U; },
                          10s))
        << "quarantined " << f.stats.quarantined_total << " acked " << f.stats.markers_acked_total;
    const auto records = quarantine_records();
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(parse_items(records[0].at("body")).at(0).updated_at_ms, 1'000'000);
    EXPECT_EQ(parse_items(records[1].at("body")).at(0).updated_at_ms, 2'000'000);
    EXPECT_EQ(dirty_len("acc1"), 0);
    EXPECT_EQ(f.stats.failures_total, 0U);
}

// 10 -----------------------------------------------------------------------------------------
// Every restart is a new consumer: idle ones holding nothing are forgotten, so the group does not
// grow with every deploy. One that still holds markers is kept until they were claimed.

TEST_F(FlusherRedisTest, ForgetsIdleConsumersWithNothingPendingAndKeepsTheOthersUntilClaimed) {
    create_groups();
    const std::vector<Write> writes = fleet_writes(1);
    ASSERT_EQ(put_all(writes), writes.size());
    for (int s = 0; s < store::kPartitions; ++s) {
        // "holder" read every marker and died; "ghost" joined every shard and never got any.
        redis_->command({"XREADGROUP", "GROUP", std::string(ProgressFlusher::kGroup), "holder", "COUNT", "1000",
                         "STREAMS", stream_key(s), ">"});
        redis_->command({"XGROUP", "CREATECONSUMER", stream_key(s), std::string(ProgressFlusher::kGroup), "ghost"});
    }
    ASSERT_EQ(pending_of("holder"), static_cast<std::int64_t>(writes.size()));
    auto consumers = [&](int shard) {
        std::set<std::string> names;
        const auto flat = redis_->command_list({"XINFO", "CONSUMERS", stream_key(shard), std::string(ProgressFlusher::kGroup)});
        for (std::size_t i = 0; i + 1 < flat.size(); ++i) {
            if (flat[i] == "name") {
                names.insert(flat[i + 1]);
            }
        }
        return names;
    };
    ASSERT_TRUE(consumers(0).contains("ghost"));
    std::set<int> holder_shards;  // shards where "holder" got markers (Redis 7.0 creates a
    for (int shard = 0; shard < store::kPartitions; ++shard) {  // reader only when it gets some)
        if (consumers(shard).contains("holder")) {
            holder_shards.insert(shard);
        }
    }
    ASSERT_GE(holder_shards.size(), 2U);

    FlusherSettings s = fast();
    s.forget_interval = 50ms;
    s.consumer_forget = 300ms;
    s.claim_idle = 1s;  // the holder's markers are claimed well after the ghost is forgotten
    Running& f = start_flusher(s);
    const auto shards = static_cast<std::uint64_t>(store::kPartitions);
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.consumers_forgotten_total >= shards; }, 10s))
        << "forgotten " << f.stats.consumers_forgotten_total;
    // The ghost is gone from every shard; the holder still owns its markers, so it stays.
    for (int shard = 0; shard < store::kPartitions; ++shard) {
        const auto names = consumers(shard);
        EXPECT_FALSE(names.contains("ghost")) << "shard " << shard;
        EXPECT_EQ(names.contains("holder"), holder_shards.contains(shard)) << "shard " << shard;
    }
    EXPECT_EQ(pending_of("holder"), static_cast<std::int64_t>(writes.size()));

    // Once its markers were claimed and flushed, the holder goes too, and nothing else.
    ASSERT_TRUE(run_until(io_, [&] { return f.stats.markers_acked_total == writes.size(); }, 10s));
    ASSERT_TRUE(run_until(
        io_, [&] { return f.stats.consumers_forgotten_total >= shards + holder_shards.size(); }, 10s));
    for (int shard = 0; shard < store::kPartitions; ++shard) {
        const auto names = consumers(shard);
        EXPECT_FALSE(names.contains("holder")) << "shard " << shard;
        // The live flusher took the holder's markers over, so it exists there, and stays.
        EXPECT_EQ(names.contains("alive"), holder_shards.contains(shard)) << "shard " << shard;
    }
    EXPECT_EQ(f.stats.consumers_forgotten_total, shards + holder_shards.size()) << "a live consumer was forgotten";
    expect_each_newest_once(api_.accepted_items(), newest_of(writes));
}

}  // namespace
}  // namespace moneta::progress
