// DecodedCache: a worker's decoded catalog documents, keyed by id and the exact cached value.
#include "domain/decoded_cache.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "domain/cache_envelope.hpp"
#include "domain/catalog_codec.hpp"

namespace moneta::domain {
namespace {

std::string account_json(std::string_view id, std::string_view plan, int streams) {
    return std::string(R"({"id":")") + std::string(id) + R"(","status":"active","plan":{"id":")" + std::string(plan) +
           R"(","rank":3,"max_streams":)" + std::to_string(streams) +
           R"(,"max_height":2160,"uhd":true,"hdr":true},"paid_until_ms":4102444800000,"country":"KR",)"
           R"("profiles":[{"id":"p_1","name":"Mom","max_age_rating":19}]})";
}

/// Counts decodes, so a test can tell a hit from a parse.
int g_decodes = 0;
core::Result<Account> counting_decode(std::string_view json) {
    ++g_decodes;
    return decode_account(json);
}

struct Stored {
    std::string value;
    std::string_view json() const { return decode_cached(value)->json; }
};

Stored stored(std::int64_t fetched_at, const std::string& json) { return Stored{encode_cached(fetched_at, json)}; }

TEST(DecodedCacheTest, AnUnchangedValueIsDecodedOnceAndTheSameObjectIsHandedOut) {
    g_decodes = 0;
    DecodedCache<Account> cache(&counting_decode, {});
    const Stored s = stored(1000, account_json("a_1", "premium", 4));
    const auto first = cache.get("a_1", s.value, s.json());
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->plan.max_streams, 4);
    const auto second = cache.get("a_1", s.value, s.json());
    EXPECT_EQ(second.get(), first.get());
    EXPECT_EQ(g_decodes, 1);
    EXPECT_EQ(cache.hits(), 1U);
    EXPECT_EQ(cache.misses(), 1U);
}

TEST(DecodedCacheTest, ANewValueForTheSameIdGivesTheNewObject) {
    g_decodes = 0;
    DecodedCache<Account> cache(&counting_decode, {});
    const Stored before = stored(1000, account_json("a_1", "premium", 4));
    const auto old_object = cache.get("a_1", before.value, before.json());
    ASSERT_NE(old_object, nullptr);
    // A refresh: new body and new fetched_at.
    const Stored after = stored(2000, account_json("a_1", "basic", 1));
    const auto fresh = cache.get("a_1", after.value, after.json());
    ASSERT_NE(fresh, nullptr);
    EXPECT_EQ(fresh->plan.id, "basic");
    EXPECT_EQ(fresh->plan.max_streams, 1);
    // Same body, only the fetched_at changed: still a different value, decoded again.
    const Stored refetched = stored(3000, account_json("a_1", "basic", 1));
    EXPECT_NE(cache.get("a_1", refetched.value, refetched.json()).get(), fresh.get());
    EXPECT_EQ(g_decodes, 3);
    // The object handed out before stays valid for its holder.
    EXPECT_EQ(old_object->plan.id, "premium");
    // Another id never gets this one's object, even with the same bytes.
    const auto other = cache.get("a_2", refetched.value, refetched.json());
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(g_decodes, 4);
}

TEST(DecodedCacheTest, GarbageIsNeverCachedAndTheBoundsHold) {
    g_decodes = 0;
    DecodedCacheLimits limits;
    limits.max_entries = 8;
    limits.max_bytes = 64 * 1024;
    DecodedCache<Account> cache(&counting_decode, limits);
    const Stored bad = stored(1000, R"({"id":"a_1"})");
    EXPECT_EQ(cache.get("a_1", bad.value, bad.json()), nullptr);
    EXPECT_EQ(cache.get("a_1", bad.value, bad.json()), nullptr);
    EXPECT_EQ(g_decodes, 2);
    EXPECT_EQ(cache.entries(), 0U);
    for (int i = 0; i < 1000; ++i) {
        const std::string id = "a_" + std::to_string(i);
        const Stored s = stored(1000, account_json(id, "premium", 4));
        const auto a = cache.get(id, s.value, s.json());
        ASSERT_NE(a, nullptr);
        EXPECT_EQ(a->id, id);
        EXPECT_LE(cache.entries(), 8U);
        EXPECT_LE(cache.bytes(), limits.max_bytes);
    }
    // Values over max_value_bytes are decoded every time.
    DecodedCacheLimits small_values;
    small_values.max_value_bytes = 16;
    DecodedCache<Account> no_big(&counting_decode, small_values);
    const Stored s = stored(1000, account_json("a_1", "premium", 4));
    g_decodes = 0;
    ASSERT_NE(no_big.get("a_1", s.value, s.json()), nullptr);
    ASSERT_NE(no_big.get("a_1", s.value, s.json()), nullptr);
    EXPECT_EQ(g_decodes, 2);
}

/// Ids "a_<n>" that a cache of @p slots puts in one pair (the same hash bits above the lowest).
std::vector<std::string> ids_sharing_a_pair(std::size_t slots, std::size_t count) {
    std::vector<std::string> out;
    const auto pair_of = [slots](const std::string& id) {
        return std::hash<std::string_view>{}(id) & (slots - 1) & ~std::size_t{1};
    };
    const std::string first = "a_0";
    out.push_back(first);
    for (int i = 1; out.size() < count && i < 100000; ++i) {
        const std::string id = "a_" + std::to_string(i);
        if (pair_of(id) == pair_of(first)) {
            out.push_back(id);
        }
    }
    return out;
}

TEST(DecodedCacheTest, TwoIdsOfOnePairStayCachedAndTheLeastRecentlyUsedGoesFirst) {
    g_decodes = 0;
    DecodedCacheLimits limits;
    limits.max_entries = 8;
    DecodedCache<Account> cache(&counting_decode, limits);
    const std::vector<std::string> ids = ids_sharing_a_pair(8, 3);
    ASSERT_EQ(ids.size(), 3U);
    std::vector<Stored> values;
    for (const std::string& id : ids) {
        values.push_back(stored(1000, account_json(id, "premium", 4)));
    }
    const auto read = [&](std::size_t i) { return cache.get(ids[i], values[i].value, values[i].json()); };
    // Two ids of one pair, read in turn: each decoded once (direct-mapped, every read was a parse).
    for (int round = 0; round < 3; ++round) {
        ASSERT_NE(read(0), nullptr);
        ASSERT_NE(read(1), nullptr);
    }
    EXPECT_EQ(g_decodes, 2);
    // A third id of the pair takes the slot of the one read least recently (ids[0]).
    ASSERT_NE(read(1), nullptr);
    ASSERT_NE(read(2), nullptr);
    EXPECT_EQ(g_decodes, 3);
    EXPECT_EQ(read(1)->id, ids[1]);
    EXPECT_EQ(g_decodes, 3);  // ids[1] was kept
    EXPECT_EQ(read(0)->id, ids[0]);
    EXPECT_EQ(g_decodes, 4);  // ids[0] was the one evicted
    EXPECT_EQ(cache.entries(), 2U);
}

TEST(DecodedCacheTest, PutSeedsTheNextRead) {
    g_decodes = 0;
    DecodedCache<Account> cache(&counting_decode, {});
    const Stored s = stored(1000, account_json("a_1", "premium", 4));
    auto decoded = decode_account(s.json());
    ASSERT_TRUE(decoded);
    const auto object = std::make_shared<const Account>(std::move(*decoded));
    cache.put("a_1", s.value, object);
    EXPECT_EQ(cache.get("a_1", s.value, s.json()).get(), object.get());
    EXPECT_EQ(g_decodes, 0);
}

}  // namespace
}  // namespace moneta::domain
