// Randomized tests of the session and progress scripts against a real redis-server, compared
// after every step with a small C++ model of the rules (api.md §6, docs/data.md):
//   (a) leases: start (same-device replacement, hand-over of live/dead/unknown sessions),
//       heartbeat, stop, kick and time jumps, for one account;
//   (b) the progress guard: heartbeats and stops of several sessions, offline PUTs, zeros,
//       start-over sessions and completions.
// Seeds are fixed (reproducible CI) and printed on failure; MONETA_MODEL_SEED=<n> runs one other.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "store_test_util.hpp"
#include "domain/progress.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/redis_server.hpp"
#include "store/progress_store.hpp"
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
constexpr std::int64_t kTombMs = 200'000;  // short, so tombstones also run out during a run
constexpr double kDuration = 7012.4;
constexpr double kCompletion = 6800.0;

std::vector<std::uint32_t> seeds() {
    if (const char* s = std::getenv("MONETA_MODEL_SEED"); s != nullptr && *s != '\0') {
        return {static_cast<std::uint32_t>(std::strtoul(s, nullptr, 10))};
    }
    return {1, 2, 3, 20251201};
}

using test_util::value_of;

const char* name(HeartbeatStatus s) {
    switch (s) {
        case HeartbeatStatus::kRenewed:
            return "renewed";
        case HeartbeatStatus::kEvicted:
            return "evicted";
        case HeartbeatStatus::kNotFound:
            return "not_found";
    }
    return "?";
}
const char* name(KickResult k) {
    switch (k) {
        case KickResult::kKicked:
            return "kicked";
        case KickResult::kNotFound:
            return "not_found";
    }
    return "?";
}
const char* name(ProgressWrite p) {
    switch (p) {
        case ProgressWrite::kUnknownSession:
            return "unknown_session";
        case ProgressWrite::kStale:
            return "stale";
        case ProgressWrite::kApplied:
            return "applied";
        case ProgressWrite::kZeroKept:
            return "zero_kept";
        case ProgressWrite::kCapped:
            return "capped";
    }
    return "?";
}

/// A real redis-server, one client and a SessionStore on a test-owned io_context.
class ModelTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto server = moneta::testing::RedisServer::start({});
        ASSERT_TRUE(server) << server.error().message();
        server_.emplace(std::move(*server));
        client_ = test_util::connect_client(io_, server_->port());
        ASSERT_TRUE(client_->connected());
        LeaseSettings lease;
        lease.lease = std::chrono::milliseconds(kLeaseMs);
        lease.tombstone = std::chrono::milliseconds(kTombMs);
        ProgressSettings progress;
        sessions_ = std::make_unique<SessionStore>(*client_, lease, progress);
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

    StartOutcome start(
        std::string_view account,
        const domain::SessionInfo& info,
        int max,
        std::string_view replace,
        const SessionMeta& meta,
        std::int64_t now
    ) {
        const StartCommand cmd{
            .account_id = account,
            .max_streams = max,
            .info = info,
            .replace_session_id = replace,
            .now_ms = now,
            .idempotency_key = "",
            .idempotency_hash = "",
            .meta = meta};
        return value_of(run(io_, sessions_->async_start(cmd, core::Deadline::never())), "start");
    }

    /// Replies of one pipeline (one round trip) of read-only commands.
    redis::Replies read(const redis::Pipeline& p) {
        return value_of(run(io_, client_->async_pipeline(p, core::Deadline::never())), "read");
    }

    boost::asio::io_context io_;
    std::optional<moneta::testing::RedisServer> server_;
    std::unique_ptr<redis::Client> client_;
    std::unique_ptr<SessionStore> sessions_;
    std::map<std::string, int> seen_;  // outcome → count: proves the random runs reach every case

    void expect_seen(std::initializer_list<const char*> outcomes) {
        for (const char* o : outcomes) {
            EXPECT_GT(seen_[o], 0) << "no step produced " << o;
        }
    }
};

SessionMeta meta_for(std::string content, bool start_over) {
    SessionMeta m;
    m.profile_id = "p_1";
    m.content_id = std::move(content);
    m.duration_sec = kDuration;
    m.completion_sec = kCompletion;
    m.start_over = start_over;
    m.selection = "sel";
    return m;
}

domain::SessionInfo info_for(
    std::string sid, std::string device, std::string content, std::int64_t now
) {
    domain::SessionInfo s;
    s.session_id = std::move(sid);
    s.device_id = std::move(device);
    s.device_type = "tv";
    s.content_id = std::move(content);
    s.profile_id = "p_1";
    s.started_at_ms = now;
    return s;
}

// ---- (a) leases ---------------------------------------------------------------------------------

/// The lease rules as a plain data structure. Expired leases are pruned on every operation,
/// which is observably the same as the scripts' lazy pruning.
class LeaseModel {
public:
    explicit LeaseModel(int max) : max_(max) {}

    struct Start {
        bool granted = false;
        std::int64_t expires = 0;
        int active = 0;
        std::string replaced;
    };

    Start start(
        const std::string& sid,
        const std::string& device,
        const std::string& replace,
        std::int64_t now
    ) {
        prune(now);
        std::vector<std::string> take;
        if (!replace.empty() && leases_.count(replace) != 0) {
            take.push_back(replace);
        }
        if (const auto d = devices_.find(device);
            d != devices_.end() && d->second != replace && leases_.count(d->second) != 0) {
            take.push_back(d->second);
        }
        const int live = static_cast<int>(leases_.size());
        if (live - static_cast<int>(take.size()) >= max_) {
            return {};
        }
        for (const auto& s : take) {
            drop(s, now, kTombMs);
        }
        leases_[sid] = Lease{device, now + kLeaseMs};
        devices_[device] = sid;
        return {
            true,
            now + kLeaseMs,
            live - static_cast<int>(take.size()) + 1,
            take.empty() ? "" : take[0]};
    }

    HeartbeatStatus heartbeat(const std::string& sid, std::int64_t now) {
        if (const auto it = leases_.find(sid); it != leases_.end()) {
            if (it->second.expiry > now) {
                it->second.expiry = now + kLeaseMs;
                return HeartbeatStatus::kRenewed;
            }
            drop(sid, now, 0);
        }
        const auto t = tombs_.find(sid);
        return t != tombs_.end() && t->second > now ? HeartbeatStatus::kEvicted
                                                    : HeartbeatStatus::kNotFound;
    }

    bool stop(const std::string& sid, std::int64_t now) {
        const auto it = leases_.find(sid);
        if (it == leases_.end()) {
            return false;
        }
        const bool live = it->second.expiry > now;
        drop(sid, now, 0);
        return live;
    }

    /// @p foreign: a session id of another account: not found among this account's leases
    /// (NOT_OWNER is the handler's answer, from the id's MAC; contract_sessions_test).
    KickResult kick(const std::string& sid, bool foreign, std::int64_t now) {
        const auto it = leases_.find(sid);
        if (it == leases_.end()) {
            (void)foreign;
            return KickResult::kNotFound;
        }
        if (it->second.expiry <= now) {
            drop(sid, now, 0);
            return KickResult::kNotFound;
        }
        drop(sid, now, kTombMs);
        return KickResult::kKicked;
    }

    /// Live session → last_seen_ms.
    std::map<std::string, std::int64_t> live(std::int64_t now) {
        prune(now);
        std::map<std::string, std::int64_t> out;
        for (const auto& [sid, l] : leases_) {
            out[sid] = l.expiry - kLeaseMs;
        }
        return out;
    }

    /// A lease expiry to jump to (boundary cases), or nullopt when there is none.
    std::optional<std::int64_t> some_expiry(std::mt19937& rng) const {
        if (leases_.empty()) {
            return std::nullopt;
        }
        auto it = leases_.begin();
        std::advance(it, std::uniform_int_distribution<std::size_t>(0, leases_.size() - 1)(rng));
        return it->second.expiry;
    }

private:
    struct Lease {
        std::string device;
        std::int64_t expiry = 0;
    };

    void drop(const std::string& sid, std::int64_t now, std::int64_t tomb) {
        if (const auto it = leases_.find(sid); it != leases_.end()) {
            if (const auto d = devices_.find(it->second.device);
                d != devices_.end() && d->second == sid) {
                devices_.erase(d);
            }
            leases_.erase(it);
        }
        if (tomb > 0) {
            tombs_[sid] = now + tomb;
        }
    }

    void prune(std::int64_t now) {
        for (auto it = leases_.begin(); it != leases_.end();) {
            const auto next = std::next(it);
            if (it->second.expiry <= now) {
                drop(it->first, now, 0);
            }
            it = next;
        }
        std::erase_if(tombs_, [now](const auto& t) { return t.second <= now; });
    }

    int max_;
    std::map<std::string, Lease> leases_;
    std::map<std::string, std::string> devices_;
    std::map<std::string, std::int64_t> tombs_;
};

class LeaseModelTest : public ModelTest {
protected:
    /// One random run; returns normally at the first mismatch (reported with the step).
    void run_model(std::uint32_t seed, int steps) {
        std::mt19937 rng(seed);
        auto pick = [&rng](int lo, int hi) {
            return std::uniform_int_distribution<int>(lo, hi)(rng);
        };
        const std::string account = "acct_" + std::to_string(seed);
        const int max = pick(2, 3);
        LeaseModel model(max);
        std::int64_t now = kT0;
        std::vector<std::string> issued;  // every session id ever started (live or not)

        // A session of another account, for NOT_OWNER kicks and foreign hand-overs.
        const std::string foreign = "ps_foreign_" + std::to_string(seed);
        ASSERT_TRUE(std::holds_alternative<domain::LeaseGranted>(start(
            "other_" + std::to_string(seed),
            info_for(foreign, "x", "m_1", now),
            1,
            "",
            meta_for("m_1", false),
            now
        )));

        auto any_sid = [&]() -> std::string {
            const int r = pick(0, 19);
            if (r == 0 || issued.empty()) {
                return "ps_unknown";
            }
            if (r == 1) {
                return foreign;
            }
            return issued[static_cast<std::size_t>(pick(0, static_cast<int>(issued.size()) - 1))];
        };

        for (int step = 0; step < steps; ++step) {
            std::ostringstream op;
            op << "seed=" << seed << " max=" << max << " step=" << step << " now=+" << (now - kT0)
               << " ";
            const int kind = pick(0, 99);
            if (kind < 35) {
                const std::string sid = "ps_" + std::to_string(step);
                const std::string device = "d" + std::to_string(pick(0, 5));
                std::string replace;
                if (const int r = pick(0, 9); r >= 6) {
                    replace = any_sid();  // live, dead, unknown or foreign
                }
                op << "start " << sid << " on " << device << " replace='" << replace << "'";
                const auto want = model.start(sid, device, replace, now);
                const auto got = start(
                    account,
                    info_for(sid, device, "m_1", now),
                    max,
                    replace,
                    meta_for("m_1", false),
                    now
                );
                issued.push_back(sid);
                ++seen_
                    [!want.granted           ? "denied"
                     : want.replaced.empty() ? "granted"
                                             : "granted_replacing"];
                if (want.granted) {
                    const auto* g = std::get_if<domain::LeaseGranted>(&got);
                    ASSERT_NE(g, nullptr) << op.str() << ": expected granted";
                    ASSERT_EQ(g->expires_at_ms, want.expires) << op.str();
                    ASSERT_EQ(g->active_streams, want.active) << op.str();
                    ASSERT_EQ(std::string_view(g->replaced_session_id.data(), g->replaced_session_id.size()), want.replaced) << op.str();
                } else {
                    const auto* d = std::get_if<domain::LeaseDenied>(&got);
                    ASSERT_NE(d, nullptr) << op.str() << ": expected denied";
                    std::map<std::string, std::int64_t> listed;
                    for (const auto& a : d->active) {
                        listed[a.info.session_id] = a.last_seen_ms;
                    }
                    ASSERT_EQ(listed, model.live(now)) << op.str() << ": denied details";
                }
            } else if (kind < 65) {
                const std::string sid = any_sid();
                op << "heartbeat " << sid;
                const auto want = model.heartbeat(sid, now);
                const auto got = value_of(
                    run(io_,
                        sessions_->async_heartbeat(
                            account, sid, 1, step, now, core::Deadline::never()
                        )),
                    op.str()
                );
                ++seen_[std::string("heartbeat_") + name(want)];
                ASSERT_EQ(name(got.lease.status), std::string(name(want))) << op.str();
                if (want == HeartbeatStatus::kRenewed) {
                    ASSERT_EQ(got.lease.expires_at_ms, now + kLeaseMs) << op.str();
                }
            } else if (kind < 75) {
                const std::string sid = any_sid();
                op << "stop " << sid;
                const bool want = model.stop(sid, now);
                const auto got = value_of(
                    run(io_,
                        sessions_->async_stop(
                            account, sid, 1, step, false, now, core::Deadline::never()
                        )),
                    op.str()
                );
                ++seen_[want ? "stop_released" : "stop_noop"];
                ASSERT_EQ(got.released, want) << op.str();
            } else if (kind < 85) {
                const std::string sid = any_sid();
                op << "kick " << sid;
                const auto want = model.kick(sid, sid == foreign, now);
                const auto got = value_of(
                    run(io_, sessions_->async_kick(account, sid, now, core::Deadline::never())),
                    op.str()
                );
                ++seen_[std::string("kick_") + name(want)];
                ASSERT_EQ(name(got), std::string(name(want))) << op.str();
            } else {
                const int r = pick(0, 9);
                if (r < 2) {
                    if (const auto e = model.some_expiry(rng)) {
                        now = std::max(
                            now, *e - pick(0, 1)
                        );  // exactly at, or 1 ms before, an expiry
                    }
                } else if (r < 6) {
                    now += pick(0, 5'000);
                } else if (r < 9) {
                    now += pick(20'000, 60'000);
                } else {
                    now += pick(static_cast<int>(kLeaseMs), static_cast<int>(kTombMs + kLeaseMs));
                }
                op << "time jump";
            }

            // After every step: the live set (and last_seen) matches, within the limit.
            const auto listed = value_of(
                run(io_, sessions_->async_list(account, now, core::Deadline::never())), op.str()
            );
            std::map<std::string, std::int64_t> got;
            for (const auto& a : listed) {
                got[a.info.session_id] = a.last_seen_ms;
            }
            const auto want = model.live(now);
            ASSERT_EQ(got, want) << op.str() << ": live sessions";
            ASSERT_LE(static_cast<int>(got.size()), max) << op.str();
        }
    }
};

TEST_F(LeaseModelTest, RandomInterleavingsMatchTheModel) {
    for (const std::uint32_t seed : seeds()) {
        SCOPED_TRACE("MONETA_MODEL_SEED=" + std::to_string(seed));
        run_model(seed, 800);
        if (HasFailure()) {
            return;
        }
    }
    if (seeds().size() > 1) {
        expect_seen(
            {"granted",
             "granted_replacing",
             "denied",
             "heartbeat_renewed",
             "heartbeat_evicted",
             "heartbeat_not_found",
             "stop_released",
             "stop_noop",
             "kick_kicked",
             "kick_not_found"}
        );
    }
}

// ---- (b) the progress guard ---------------------------------------------------------------------

/// The progress rules (api.md §6): a session's write at or below the highest seq that session
/// already sent is stale (a late retry), whatever is stored; then same session as the stored
/// value → higher seq wins, otherwise higher (updated_at, seq); a zero never replaces a non-zero
/// position unless the session started over or the write completes the title.
class ProgressModel {
public:
    struct Value {
        double pos = 0;
        std::string dur;
        std::int64_t upd = 0;
        std::int64_t seq = 0;
        bool done = false;
        std::string sid;

        std::string text() const {
            return domain::format_seconds(pos) + "|" + dur + "|" + std::to_string(upd) + "|" +
                   std::to_string(seq) + (done ? "|1|" : "|0|") + sid;
        }
    };

    /// @p now: the server time of the write (announce and due times of dirty entries);
    /// @p held: a heartbeat (the title is still playing: its flush is held, mark_dirty).
    ProgressWrite put(const std::string& cid, const Value& v, bool allow_zero, std::int64_t now, bool held) {
        if (!v.sid.empty()) {
            const auto seen = highest_seq_.find(v.sid);
            if (seen != highest_seq_.end() && v.seq <= seen->second) {
                return ProgressWrite::kStale;
            }
            highest_seq_[v.sid] = v.seq;
        }
        if (const auto it = values_.find(cid); it != values_.end()) {
            const Value& cur = it->second;
            if (!v.sid.empty() && cur.sid == v.sid) {
                if (v.seq <= cur.seq) {
                    return ProgressWrite::kStale;
                }
            } else if (std::pair(v.upd, v.seq) <= std::pair(cur.upd, cur.seq)) {
                return ProgressWrite::kStale;
            }
            if (v.pos == 0 && cur.pos > 0 && !allow_zero && !v.done) {
                return ProgressWrite::kZeroKept;
            }
        }
        values_[cid] = v;
        // The dirty entry (no flusher runs here, so nothing is ever snapshotted): due now (a stop,
        // a PUT, a finished title) or kHoldMs after the title first became dirty (a heartbeat); a
        // pending entry keeps its earlier due time. Nothing is written while it is not due, or due
        // and announced less than kAnnounceMs ago; a write that makes it due announces it.
        const std::string key = "p_1/" + cid;
        std::int64_t due = held && !v.done ? now + kHoldMs : now;
        if (const auto d = dirty_.find(key); d != dirty_.end()) {
            due = std::min(due, d->second.due);
            if (due > now || (d->second.announced >= due && now - d->second.announced < kAnnounceMs)) {
                return ProgressWrite::kApplied;
            }
        }
        const bool announce = due <= now;
        dirty_[key] = Dirty{v.upd, v.seq, announce ? now : 0, due};
        markers_ += announce ? 1 : 0;
        return ProgressWrite::kApplied;
    }
    static constexpr std::int64_t kAnnounceMs = 60'000;  ///< ProgressSettings::announce
    static constexpr std::int64_t kHoldMs = 120'000;     ///< ProgressSettings::flush_hold

    std::map<std::string, std::string> stored() const {
        std::map<std::string, std::string> out;
        for (const auto& [cid, v] : values_) {
            out[cid] = v.text();
        }
        return out;
    }
    /// Continue-watching: every title whose position is not completed, scored by updated_at.
    std::map<std::string, std::int64_t> continue_watching() const {
        std::map<std::string, std::int64_t> out;
        for (const auto& [cid, v] : values_) {
            if (!v.done) {
                out[cid] = v.upd;
            }
        }
        return out;
    }
    /// Dirty entries as stored: "upd|seq|announced_at|due_at".
    std::map<std::string, std::string> dirty() const {
        std::map<std::string, std::string> out;
        for (const auto& [key, d] : dirty_) {
            out[key] = std::to_string(d.upd) + "|" + std::to_string(d.seq) + "|" + std::to_string(d.announced) + "|" +
                       std::to_string(d.due);
        }
        return out;
    }
    std::int64_t markers() const { return markers_; }

private:
    std::map<std::string, Value> values_;
    struct Dirty {
        std::int64_t upd = 0;
        std::int64_t seq = 0;
        std::int64_t announced = 0;  ///< when its marker was written (0: none yet)
        std::int64_t due = 0;
    };
    std::map<std::string, Dirty> dirty_;
    std::int64_t markers_ = 0;
    std::map<std::string, std::int64_t> highest_seq_;  ///< per session (the session meta's hseq)
};

/// Continue-watching as stored (ZRANGE … WITHSCORES, lowest first) against the model: the same
/// titles; every score exact but the newest's, which may lag behind its updated_at (a title that
/// stays the newest is not rewritten) yet stays the highest; so the newest is a title with the
/// highest updated_at. Empty when they agree, else what differs.
std::string continue_watching_mismatch(const redis::Reply& r, const std::map<std::string, std::int64_t>& want) {
    std::vector<std::pair<std::string, std::int64_t>> got;
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
        got.emplace_back(std::string(r[i].as_string_view()), std::stoll(std::string(r[i + 1].as_string_view())));
    }
    if (got.size() != want.size()) {
        return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
    }
    std::int64_t newest = 0;
    for (const auto& [cid, upd] : want) {
        newest = std::max(newest, upd);
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto it = want.find(got[i].first);
        if (it == want.end()) {
            return got[i].first + " should not be there";
        }
        const bool top = i + 1 == got.size();
        if (top ? (got[i].second > it->second || it->second != newest) : got[i].second != it->second) {
            return got[i].first + " scored " + std::to_string(got[i].second) + ", updated_at " +
                   std::to_string(it->second) + (top ? " (newest)" : "");
        }
    }
    return {};
}

/// async_put never reads the internal API: any call is a test failure.
class UnusedApi final : public upstream::InternalApi {
public:
    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_get(upstream::Resource, std::string_view, const core::RequestContext&) override {
        ADD_FAILURE() << "unexpected internal API call";
        co_return upstream::Fetched{500, ""};
    }
    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_get_progress(std::string_view, std::string_view, const core::RequestContext&) override {
        ADD_FAILURE() << "unexpected internal API call";
        co_return upstream::Fetched{500, ""};
    }
    boost::asio::awaitable<core::Result<upstream::Fetched>>
    async_upsert_progress(std::string_view, const core::RequestContext&) override {
        ADD_FAILURE() << "unexpected internal API call";
        co_return upstream::Fetched{500, ""};
    }
};

std::map<std::string, std::string> pairs_of(const redis::Reply& r) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
        out[std::string(r[i].as_string_view())] = std::string(r[i + 1].as_string_view());
    }
    return out;
}

class ProgressModelTest : public ModelTest {
protected:
    struct Session {
        std::string sid;
        std::string cid;
        bool start_over = false;
        std::int64_t top_seq = 0;
    };

    void run_model(std::uint32_t seed, int steps) {
        std::mt19937 rng(seed);
        auto pick = [&rng](int lo, int hi) {
            return std::uniform_int_distribution<int>(lo, hi)(rng);
        };
        const std::string account = "acct_" + std::to_string(seed);
        const std::string prog_key = testing::account_key("prog:", account, ":p_1");
        const std::string cw_key = testing::account_key("cw:", account, ":p_1");
        const std::string dirty_key = testing::account_key("dirty:", account);
        const std::string stream_key =
            testing::partition_key("progq:", testing::account_partition(account));
        const std::vector<std::string> titles = {"m_1", "m_2", "m_3"};

        UnusedApi api;
        ProgressStats stats;
        ProgressSettings settings;
        ProgressStore progress(*client_, api, settings, stats);
        // A NOSCRIPT answer repeats the pipeline, marker included: load its script first.
        ASSERT_EQ(
            server_->command({"SCRIPT", "LOAD", std::string(progress.put_script().source())}),
            progress.put_script().sha1()
        );

        ProgressModel model;
        std::vector<Session> sessions;
        std::int64_t now = kT0;
        // Markers come with the writes the model says announce (to a shard other seeds' accounts
        // may share: counted from what it holds now).
        const std::int64_t markers_before = std::stoll(server_->command({"XLEN", stream_key}));
        std::map<std::string, std::pair<std::int64_t, std::int64_t>> last_version;

        // A position: zero, past the credits (completes a session's title), or in between.
        auto position = [&]() -> double {
            const int r = pick(0, 9);
            if (r < 2) {
                return 0;
            }
            if (r == 2) {
                return kCompletion + pick(0, 400) * 0.5;
            }
            return pick(1, 13599) * 0.5;
        };

        for (int step = 0; step < steps; ++step) {
            std::ostringstream op;
            op << "seed=" << seed << " step=" << step << " now=+" << (now - kT0) << " ";
            const int kind = pick(0, 99);
            if (kind < 8 || sessions.empty()) {
                Session s{
                    "ps_" + std::to_string(step),
                    titles[static_cast<std::size_t>(pick(0, 2))],
                    pick(0, 3) == 0,
                    0};
                op << "start " << s.sid << " " << s.cid << (s.start_over ? " start_over" : "");
                const auto got = start(
                    account,
                    info_for(s.sid, "dev_" + s.sid, s.cid, now),
                    1000,
                    "",
                    meta_for(s.cid, s.start_over),
                    now
                );
                ASSERT_TRUE(std::holds_alternative<domain::LeaseGranted>(got)) << op.str();
                sessions.push_back(s);
            } else if (kind < 70) {
                Session& s =
                    sessions[static_cast<std::size_t>(pick(0, static_cast<int>(sessions.size()) - 1)
                    )];
                const bool is_stop = kind >= 58;
                const bool ended = is_stop && pick(0, 2) == 0;
                const std::int64_t seq = std::max<std::int64_t>(0, s.top_seq + pick(-3, 3));
                s.top_seq = std::max(s.top_seq, seq);
                const double pos = position();
                op << (is_stop ? "stop " : "heartbeat ") << s.sid << " " << s.cid << " pos=" << pos
                   << " seq=" << seq << (ended ? " ended" : "");
                const ProgressModel::Value v{
                    pos, "7012.4", now, seq, ended || pos >= kCompletion, s.sid};
                const ProgressWrite want = model.put(s.cid, v, s.start_over, now, !is_stop);
                ProgressWrite got = ProgressWrite::kUnknownSession;
                if (is_stop) {
                    got = value_of(
                              run(io_,
                                  sessions_->async_stop(
                                      account, s.sid, pos, seq, ended, now, core::Deadline::never()
                                  )),
                              op.str()
                    )
                              .progress;
                } else {
                    got = value_of(
                              run(io_,
                                  sessions_->async_heartbeat(
                                      account, s.sid, pos, seq, now, core::Deadline::never()
                                  )),
                              op.str()
                    )
                              .progress;
                }
                ++seen_[std::string(is_stop ? "stop_" : "heartbeat_") + name(want)];
                if (want == ProgressWrite::kApplied && v.done) {
                    ++seen_["session_completed"];
                }
                if (want == ProgressWrite::kApplied && pos == 0 && s.start_over) {
                    ++seen_["start_over_zero_applied"];
                }
                ASSERT_EQ(name(got), std::string(name(want))) << op.str();
            } else if (kind < 90) {
                domain::ProgressRecord r;
                r.content_id = titles[static_cast<std::size_t>(pick(0, 2))];
                r.position_sec = position();
                r.duration_sec = pick(0, 1) == 0 ? 3600.0 : kDuration;
                r.updated_at_ms = now - pick(0, 60'000);  // offline: recorded earlier on the device
                r.seq = pick(0, 12);
                r.completed = pick(0, 6) == 0;
                op << "put " << r.content_id << " pos=" << r.position_sec << " upd=+"
                   << (r.updated_at_ms - kT0) << " seq=" << r.seq
                   << (r.completed ? " completed" : "");
                const ProgressModel::Value v{
                    r.position_sec,
                    domain::format_seconds(r.duration_sec),
                    r.updated_at_ms,
                    r.seq,
                    r.completed,
                    ""};
                const ProgressWrite want = model.put(r.content_id, v, false, now, false);
                const auto got = value_of(
                    run(io_, progress.async_put(account, "p_1", r, now, core::Deadline::never())),
                    op.str()
                );
                ++seen_[std::string("put_") + name(want)];
                ASSERT_EQ(name(got), std::string(name(want))) << op.str();
            } else {
                // Ties in updated_at matter; so do jumps past a held title's due time.
                const int r = pick(0, 4);
                now += r == 0 ? 0 : r == 1 ? 1 : r == 4 ? pick(30'000, 130'000) : pick(2, 5'000);
                op << "time jump";
            }

            // After every step: the stored values, continue-watching, dirty versions, markers.
            redis::Pipeline p;
            p.add({"HGETALL", prog_key});
            p.add({"ZRANGE", cw_key, "0", "-1", "WITHSCORES"});
            p.add({"HGETALL", dirty_key});
            p.add({"XLEN", stream_key});
            const auto replies = read(p);
            ASSERT_EQ(replies.size(), 4U) << op.str();
            const auto stored = pairs_of(replies[0]);
            ASSERT_EQ(stored, model.stored()) << op.str() << ": stored values";
            ASSERT_EQ(continue_watching_mismatch(replies[1], model.continue_watching()), "")
                << op.str() << ": continue watching";
            ASSERT_EQ(pairs_of(replies[2]), model.dirty()) << op.str() << ": dirty versions";
            ASSERT_EQ(replies[3].as_integer(), markers_before + model.markers()) << op.str() << ": stream markers";
            for (const auto& [cid, text] : stored) {
                const auto rec = domain::decode_progress_value(cid, text);
                ASSERT_TRUE(rec.has_value()) << op.str() << ": " << text;
                const std::pair version(rec->updated_at_ms, rec->seq);
                auto& last = last_version[cid];
                ASSERT_GE(version, last)
                    << op.str() << ": (updated_at, seq) of " << cid << " went backwards";
                last = version;
            }
        }
    }
};

TEST_F(ProgressModelTest, RandomWritesFollowTheGuardRules) {
    // Scripts first: a NOSCRIPT answer repeats the pipeline, marker included.
    for (const redis::Script* s :
         {&sessions_->start_script(),
          &sessions_->heartbeat_script().script(),
          &sessions_->stop_script()}) {
        ASSERT_EQ(server_->command({"SCRIPT", "LOAD", std::string(s->source())}), s->sha1());
    }
    for (const std::uint32_t seed : seeds()) {
        SCOPED_TRACE("MONETA_MODEL_SEED=" + std::to_string(seed));
        run_model(seed, 1000);
        if (HasFailure()) {
            return;
        }
    }
    if (seeds().size() > 1) {
        expect_seen(
            {"heartbeat_applied",
             "heartbeat_stale",
             "heartbeat_zero_kept",
             "stop_applied",
             "stop_stale",
             "put_applied",
             "put_stale",
             "put_zero_kept",
             "session_completed",
             "start_over_zero_applied"}
        );
    }
}

}  // namespace
}  // namespace moneta::store
