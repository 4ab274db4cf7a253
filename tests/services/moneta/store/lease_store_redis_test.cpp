// LeaseStore against a real redis-server: the Lua scripts' rules (api.md §6 stream limit),
// driven with explicit "now" values instead of sleeping.
#include "store/lease_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <set>

#include "coro_util.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/redis_server.hpp"

namespace moneta::store {
namespace {

using namespace std::chrono_literals;
using redis::testing::run;

constexpr std::int64_t kT0 = 1'764'000'000'000;
constexpr std::int64_t kLeaseMs = 90'000;
constexpr std::int64_t kTombMs = 600'000;

domain::SessionInfo session(std::string sid, std::string device) {
    domain::SessionInfo s;
    s.session_id = std::move(sid);
    s.device_id = std::move(device);
    s.device_type = "tv";
    s.content_id = "m_1";
    s.profile_id = "p_1";
    s.started_at_ms = kT0;
    return s;
}

class LeaseStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto server = moneta::testing::RedisServer::start({});
        ASSERT_TRUE(server) << server.error().message();
        server_.emplace(std::move(*server));
        client_ = make_client();
        store_ = std::make_unique<LeaseStore>(
            *client_, LeaseSettings{std::chrono::milliseconds(kLeaseMs), std::chrono::milliseconds(kTombMs)});
    }

    void TearDown() override {
        for (auto* c : {client_.get(), second_.get()}) {
            if (c != nullptr) {
                run(io_, [](redis::Client& cl) -> boost::asio::awaitable<int> {
                    co_await cl.async_stop();
                    co_return 0;
                }(*c), 10s);
            }
        }
    }

    std::unique_ptr<redis::Client> make_client() {
        redis::ClientConfig cfg;
        cfg.port = server_->port();
        cfg.command_timeout = 2s;
        auto c = std::make_unique<redis::Client>(io_.get_executor(), cfg, clock_);
        c->start();
        EXPECT_TRUE(redis::testing::run_until(io_, [&] { return c->connected(); }, 5s));
        return c;
    }

    domain::LeaseOutcome acquire(const domain::SessionInfo& s, int max, std::int64_t now,
                                 std::string replace = "") {
        auto r = run(io_, store_->async_acquire("a_1", max, s, replace, now, core::Deadline::never()));
        EXPECT_TRUE(r && *r) << (r && !*r ? r->error().message() : "no result");
        return r && *r ? std::move(**r) : domain::LeaseOutcome{domain::LeaseDenied{}};
    }

    domain::HeartbeatStatus renew(std::string_view sid, std::int64_t now) {
        auto r = run(io_, store_->async_renew("a_1", sid, now, core::Deadline::never()));
        EXPECT_TRUE(r && *r);
        return r && *r ? (*r)->status : domain::HeartbeatStatus::kNotFound;
    }

    bool release(std::string_view sid, std::int64_t now) {
        auto r = run(io_, store_->async_release("a_1", sid, now, core::Deadline::never()));
        EXPECT_TRUE(r && *r);
        return r && *r && **r;
    }

    static const domain::LeaseGranted* granted(const domain::LeaseOutcome& o) {
        return std::get_if<domain::LeaseGranted>(&o);
    }

    core::FakeClock clock_;
    boost::asio::io_context io_;
    std::optional<moneta::testing::RedisServer> server_;
    std::unique_ptr<redis::Client> client_;
    std::unique_ptr<redis::Client> second_;
    std::unique_ptr<LeaseStore> store_;
};

TEST_F(LeaseStoreTest, GrantsUpToTheLimitThenListsTheLiveSessions) {
    for (int i = 0; i < 2; ++i) {
        const auto o = acquire(session("ps_" + std::to_string(i), "d" + std::to_string(i)), 2, kT0 + i);
        ASSERT_NE(granted(o), nullptr);
        EXPECT_EQ(granted(o)->active_streams, i + 1);
        EXPECT_EQ(granted(o)->expires_at_ms, kT0 + i + kLeaseMs);
    }
    const auto denied = acquire(session("ps_x", "d9"), 2, kT0 + 10);
    ASSERT_TRUE(std::holds_alternative<domain::LeaseDenied>(denied));
    const auto& active = std::get<domain::LeaseDenied>(denied).active;
    ASSERT_EQ(active.size(), 2U);
    std::set<std::string> ids{active[0].info.session_id, active[1].info.session_id};
    EXPECT_EQ(ids, (std::set<std::string>{"ps_0", "ps_1"}));
    EXPECT_EQ(active[0].info.device_type, "tv");
    EXPECT_EQ(active[0].info.content_id, "m_1");
    EXPECT_EQ(active[0].last_seen_ms, kT0);  // granted at kT0, never renewed
    // The denied session left no trace.
    EXPECT_EQ(renew("ps_x", kT0 + 11), domain::HeartbeatStatus::kNotFound);
}

TEST_F(LeaseStoreTest, SameDeviceRestartReplacesItsOwnLease) {
    ASSERT_NE(granted(acquire(session("ps_old", "tv-1"), 1, kT0)), nullptr);
    const auto o = acquire(session("ps_new", "tv-1"), 1, kT0 + 5);
    ASSERT_NE(granted(o), nullptr);
    EXPECT_EQ(granted(o)->active_streams, 1);
    EXPECT_EQ(granted(o)->replaced_session_id, "ps_old");
    EXPECT_EQ(renew("ps_old", kT0 + 6), domain::HeartbeatStatus::kEvicted);
    EXPECT_EQ(renew("ps_new", kT0 + 6), domain::HeartbeatStatus::kRenewed);
}

TEST_F(LeaseStoreTest, ReplaceSessionIdHandsTheLeaseOver) {
    ASSERT_NE(granted(acquire(session("ps_ep1", "phone"), 1, kT0)), nullptr);
    // Another device of the account, at the limit, but handing over ps_ep1 explicitly.
    const auto o = acquire(session("ps_ep2", "tablet"), 1, kT0 + 1, "ps_ep1");
    ASSERT_NE(granted(o), nullptr);
    EXPECT_EQ(granted(o)->replaced_session_id, "ps_ep1");
    EXPECT_EQ(renew("ps_ep1", kT0 + 2), domain::HeartbeatStatus::kEvicted);
}

TEST_F(LeaseStoreTest, ADeniedStartEvictsNobody) {
    ASSERT_NE(granted(acquire(session("ps_a", "d-a"), 1, kT0)), nullptr);
    ASSERT_NE(granted(acquire(session("ps_b", "d-b"), 2, kT0)), nullptr);
    // The limit dropped to 1 (plan downgrade): d-a restarting would still leave 1 other → denied,
    // and its own lease must survive the denial.
    EXPECT_TRUE(std::holds_alternative<domain::LeaseDenied>(acquire(session("ps_c", "d-a"), 1, kT0 + 1)));
    EXPECT_EQ(renew("ps_a", kT0 + 2), domain::HeartbeatStatus::kRenewed);
}

TEST_F(LeaseStoreTest, LeasesExpireAfterTheLeaseTimeAndFreeTheirSlot) {
    ASSERT_NE(granted(acquire(session("ps_1", "d1"), 1, kT0)), nullptr);
    EXPECT_EQ(renew("ps_1", kT0 + kLeaseMs - 1), domain::HeartbeatStatus::kRenewed);  // until +2*lease-1
    const std::int64_t expired_at = kT0 + kLeaseMs - 1 + kLeaseMs;
    EXPECT_EQ(renew("ps_1", expired_at), domain::HeartbeatStatus::kNotFound);
    EXPECT_NE(granted(acquire(session("ps_2", "d2"), 1, expired_at)), nullptr);
}

TEST_F(LeaseStoreTest, StopReleasesAndIsIdempotent) {
    ASSERT_NE(granted(acquire(session("ps_1", "d1"), 1, kT0)), nullptr);
    EXPECT_TRUE(release("ps_1", kT0 + 1));
    EXPECT_FALSE(release("ps_1", kT0 + 2));
    EXPECT_FALSE(release("ps_unknown", kT0 + 2));
    EXPECT_EQ(renew("ps_1", kT0 + 3), domain::HeartbeatStatus::kNotFound);
    EXPECT_NE(granted(acquire(session("ps_2", "d2"), 1, kT0 + 3)), nullptr);
}

TEST_F(LeaseStoreTest, EvictionIsRememberedOnlyForTheTombstoneTime) {
    ASSERT_NE(granted(acquire(session("ps_old", "tv"), 1, kT0)), nullptr);
    ASSERT_NE(granted(acquire(session("ps_new", "tv"), 1, kT0 + 1)), nullptr);
    EXPECT_EQ(renew("ps_old", kT0 + kTombMs), domain::HeartbeatStatus::kEvicted);
    EXPECT_EQ(renew("ps_old", kT0 + 1 + kTombMs), domain::HeartbeatStatus::kNotFound);
}

TEST_F(LeaseStoreTest, ConcurrentStartsFromTwoConnectionsNeverExceedTheLimit) {
    second_ = make_client();
    LeaseStore other(*second_, store_->settings());
    constexpr int kStarts = 40;
    constexpr int kMax = 4;
    int granted_count = 0;
    int denied_count = 0;
    int done = 0;
    for (int i = 0; i < kStarts; ++i) {
        LeaseStore& s = (i % 2 == 0) ? *store_ : other;
        boost::asio::co_spawn(
            io_,
            [&s, i, &granted_count, &denied_count, &done]() -> boost::asio::awaitable<void> {
                const auto info = session("ps_c" + std::to_string(i), "dev" + std::to_string(i));
                auto r = co_await s.async_acquire("a_1", kMax, info, "", kT0, core::Deadline::never());
                if (r && std::holds_alternative<domain::LeaseGranted>(*r)) {
                    ++granted_count;
                } else if (r) {
                    ++denied_count;
                }
                ++done;
            },
            boost::asio::detached);
    }
    ASSERT_TRUE(redis::testing::run_until(io_, [&] { return done == kStarts; }, 20s));
    EXPECT_EQ(granted_count, kMax);
    EXPECT_EQ(denied_count, kStarts - kMax);
}

}  // namespace
}  // namespace moneta::store
