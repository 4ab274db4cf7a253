// CatalogCache against a real redis-server: a warm read of an unchanged cached value hands out the
// worker's decoded object (no parse), and a changed value in Redis gives the new object.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "coro_util.hpp"
#include "domain/cache_envelope.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/redis_server.hpp"
#include "store/catalog_cache.hpp"
#include "store/keys.hpp"
#include "store_test_util.hpp"

namespace moneta::store {
namespace {

using namespace std::chrono_literals;
using redis::testing::run;

std::string account_json(std::string_view plan, int streams) {
    return std::string(R"({"id":"a_1","status":"active","plan":{"id":")") + std::string(plan) +
           R"(","rank":3,"max_streams":)" + std::to_string(streams) +
           R"(,"max_height":2160,"uhd":true,"hdr":true},"paid_until_ms":4102444800000,"country":"KR",)"
           R"("profiles":[{"id":"p_1","name":"Mom","max_age_rating":19}]})";
}

const std::string kContent =
    R"({"id":"m_1","kind":"movie","title":"T","duration_sec":7012.4,"credits_start_sec":6800.0,)"
    R"("window_start_ms":0,"window_end_ms":null,"geo_allow":null,"min_plan":"basic","age_rating":15,)"
    R"("next_content_id":null,"drm_cid":"m_1","renditions":[{"protocol":"dash","drm":["widevine"],)"
    R"("video_codec":"avc","max_height":1080,"hdr":null,"path":"/vod/m_1/avc_1080/manifest.mpd"}],)"
    R"("audio":[{"lang":"ko","codec":"aac","channels":2}],"subtitles":[]})";

class CatalogCacheRedisTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto server = moneta::testing::RedisServer::start({});
        ASSERT_TRUE(server) << server.error().message();
        server_.emplace(std::move(*server));
        client_ = test_util::connect_client(io_, server_->port());
        ASSERT_TRUE(client_->connected());
        cache_ = std::make_unique<CatalogCache>(*client_, api_, nullptr, io_.get_executor(), clock_, CacheSettings{},
                                                stats_);
    }

    void TearDown() override {
        if (client_) {
            run(
                io_,
                [](redis::Client& cl) -> boost::asio::awaitable<int> {
                    co_await cl.async_stop();
                    co_return 0;
                }(*client_),
                10s);
        }
    }

    StartCatalog read(std::string_view content_id = {}) {
        auto r = run(io_, cache_->async_read("a_1", content_id, ctx_));
        EXPECT_TRUE(r.has_value()) << "async_read did not finish";
        return r ? std::move(*r) : StartCatalog{};
    }

    void set_account(std::int64_t fetched_at, const std::string& json) {
        KeyBuffer kb;
        server_->command({"SET", std::string(account_key(kb, "a_1")), domain::encode_cached(fetched_at, json)});
    }

    boost::asio::io_context io_;
    std::optional<moneta::testing::RedisServer> server_;
    std::unique_ptr<redis::Client> client_;
    test_util::NoInternalApi api_;
    core::FakeClock clock_;
    CacheStats stats_;
    core::RequestContext ctx_;
    std::unique_ptr<CatalogCache> cache_;
};

TEST_F(CatalogCacheRedisTest, AnUnchangedValueGivesTheSameDecodedObjectAndANewValueTheNewOne) {
    set_account(clock_.wall_ms(), account_json("premium", 4));
    KeyBuffer kb;
    server_->command({"SET", std::string(content_key(kb, "m_1")), domain::encode_cached(clock_.wall_ms(), kContent)});

    const StartCatalog first = read("m_1");
    ASSERT_NE(first.account, nullptr);
    ASSERT_NE(first.content, nullptr);
    EXPECT_FALSE(first.account_miss);
    EXPECT_EQ(first.account->plan.id, "premium");
    EXPECT_EQ(first.content->renditions.size(), 1U);

    const StartCatalog warm = read("m_1");
    EXPECT_EQ(warm.account.get(), first.account.get());  // not decoded again
    EXPECT_EQ(warm.content.get(), first.content.get());
    EXPECT_EQ(stats_.account_hits_total.load(), 2U);

    // A refresh wrote a new value: the next read decodes it.
    clock_.advance(1s);
    set_account(clock_.wall_ms(), account_json("basic", 1));
    const StartCatalog changed = read("m_1");
    ASSERT_NE(changed.account, nullptr);
    EXPECT_NE(changed.account.get(), first.account.get());
    EXPECT_EQ(changed.account->plan.id, "basic");
    EXPECT_EQ(changed.account->plan.max_streams, 1);
    EXPECT_EQ(changed.content.get(), first.content.get());  // the content did not change
    // What the first request holds is still the value it read.
    EXPECT_EQ(first.account->plan.id, "premium");

    // A garbled value is a miss, never a stale decoded object.
    set_account(clock_.wall_ms(), R"({"id":"a_1"})");
    const StartCatalog garbled = read();
    EXPECT_EQ(garbled.account, nullptr);
    EXPECT_TRUE(garbled.account_miss);
}

}  // namespace
}  // namespace moneta::store
