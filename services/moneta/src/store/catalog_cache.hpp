/// @file services/moneta/src/store/catalog_cache.hpp
/// @brief Read-through cache of accounts (entitlements) and contents: Redis first, the internal
/// API on a miss, then cached. A warm lookup is ONE Redis round trip and zero internal-API calls.
/// Entries older than their soft TTL are still served (stale-while-revalidate: one background
/// refresh per key, skipped while the internal API's breaker is open) until the hard staleness
/// bound, which is also the Redis TTL (stale-if-error). See docs/resilience.md "Fallbacks".
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/stats_table.hpp"
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/catalog.hpp"
#include "domain/decoded_cache.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/commands.hpp"
#include "upstream/internal_api.hpp"

namespace moneta::upstream {
class FetchCoalescer;
}

namespace moneta::store {

/// Soft TTL: after it a hit is "stale" and refreshed in the background; hard bound: the oldest
/// value ever served (and the key's Redis TTL). Ages come from the envelope's fetched_at.
struct CacheSettings {
    std::chrono::milliseconds account_ttl{600'000};         ///< soft: 10 min (data.md)
    std::chrono::milliseconds account_stale_max{3'600'000}; ///< hard: 1 h of outage at most
    std::chrono::milliseconds content_ttl{1'800'000};       ///< soft: 30 min
    std::chrono::milliseconds content_stale_max{86'400'000};///< hard: 24 h, Redis TTL ±10 % jitter
    std::chrono::milliseconds content_missing_ttl{30'000};  ///< negative cache for unknown titles
    /// Documents each worker keeps in memory from its own fetches, served only while Redis fails
    /// (within the same staleness bounds). 0 = off.
    std::size_t local_max_entries{4096};
    /// Decoded documents each worker keeps, keyed by id and the exact cached value: a warm read
    /// of an unchanged value is a byte comparison, not a JSON parse (docs/data.md).
    domain::DecodedCacheLimits decoded_accounts{8192, 16 * 1024 * 1024, 64 * 1024};
    domain::DecodedCacheLimits decoded_contents{4096, 16 * 1024 * 1024, 64 * 1024};
};

struct CacheStats {
    metrics::LocalCounter account_hits_total;
    metrics::LocalCounter account_misses_total;
    metrics::LocalCounter content_hits_total;
    metrics::LocalCounter content_misses_total;
    metrics::LocalCounter redis_errors_total;  ///< cache read/write failed: served from the API
    metrics::LocalCounter account_stale_served_total;  ///< past the soft TTL, served anyway
    metrics::LocalCounter content_stale_served_total;
    metrics::LocalCounter refreshes_started_total;     ///< background refreshes spawned
    metrics::LocalCounter refreshes_failed_total;      ///< ... that did not get a new value
    metrics::LocalCounter refreshes_skipped_total;     ///< stale but the breaker was open
    metrics::LocalCounter local_served_total;  ///< Redis failed: served from the worker's own copy
};

/// What CacheStats exports (docs/metrics.md "Catalog cache", "Resilience").
inline constexpr metrics::Stat<CacheStats> kCacheStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_cache_lookups_total", "Catalog cache lookups by kind and result.", {"kind", "account", "result", "hit"}, MONETA_STAT(account_hits_total)},
    {metrics::StatKind::kCounter, "moneta_cache_lookups_total", "Catalog cache lookups by kind and result.", {"kind", "account", "result", "miss"}, MONETA_STAT(account_misses_total)},
    {metrics::StatKind::kCounter, "moneta_cache_lookups_total", "Catalog cache lookups by kind and result.", {"kind", "content", "result", "hit"}, MONETA_STAT(content_hits_total)},
    {metrics::StatKind::kCounter, "moneta_cache_lookups_total", "Catalog cache lookups by kind and result.", {"kind", "content", "result", "miss"}, MONETA_STAT(content_misses_total)},
    {metrics::StatKind::kCounter, "moneta_cache_redis_errors_total", "Cache reads/writes that failed in Redis (served from the internal API).", {}, MONETA_STAT(redis_errors_total)},
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "stale_account"}, MONETA_STAT(account_stale_served_total)},
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "stale_content"}, MONETA_STAT(content_stale_served_total)},
    {metrics::StatKind::kCounter, "moneta_fallbacks_total", "Fallbacks taken instead of failing, by kind.", {"kind", "local_catalog"}, MONETA_STAT(local_served_total)},
    {metrics::StatKind::kCounter, "moneta_cache_refreshes_total", "Background refreshes of stale cache entries, by result.", {"result", "started"}, MONETA_STAT(refreshes_started_total)},
    {metrics::StatKind::kCounter, "moneta_cache_refreshes_total", "Background refreshes of stale cache entries, by result.", {"result", "failed"}, MONETA_STAT(refreshes_failed_total)},
    {metrics::StatKind::kCounter, "moneta_cache_refreshes_total", "Background refreshes of stale cache entries, by result.", {"result", "skipped_open"}, MONETA_STAT(refreshes_skipped_total)},
};

/// Null members: the internal API does not know that id (or it was not asked for). Shared and
/// immutable: a warm read hands out the worker's decoded copy (no parse, no allocation).
struct StartCatalog {
    std::shared_ptr<const domain::Account> account;
    std::shared_ptr<const domain::Content> content;
    /// Replies to the caller's extra commands, in order; empty when Redis failed.
    redis::Replies extra;
    /// Set by async_read: documents neither cached nor known missing, which async_fill fetches.
    bool account_miss = false;
    bool content_miss = false;
    /// Why the Redis read failed (the documents then come from local copies or the internal
    /// API); empty when Redis answered.
    boost::system::error_code redis_error;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread). Stats: any thread.
class CatalogCache {
public:
    /// @param coalescer process-wide singleflight for misses (may be null: no coalescing).
    /// @param executor the worker's event loop, where background refreshes run.
    CatalogCache(redis::Commands& redis, upstream::InternalApi& api, upstream::FetchCoalescer* coalescer,
                 boost::asio::any_io_executor executor, const core::Clock& clock, CacheSettings settings,
                 CacheStats& stats);

    /// Account and content for a start, in one Redis pipeline together with @p extra (the
    /// caller's own reads, e.g. the resume position and the rate-limit counter: still one round
    /// trip); misses are fetched from the internal API and written back. A Redis failure is not
    /// fatal here (the internal API is asked instead); an internal-API failure on a miss is
    /// (kTimeout, kUnavailable, ...). An empty @p content_id loads the account only.
    boost::asio::awaitable<core::Result<StartCatalog>> async_load(std::string_view account_id,
                                                                  std::string_view content_id,
                                                                  const core::RequestContext& ctx,
                                                                  const redis::Pipeline* extra = nullptr);

    /// async_load in two steps, so the caller can judge its extra replies (a rate-limit counter)
    /// BEFORE any internal-API call is made for it: async_read is the one Redis round trip (never
    /// fails: a Redis failure leaves `extra` empty and the misses set), async_fill fetches what it
    /// marked missing (nothing on a warm read).
    boost::asio::awaitable<StartCatalog> async_read(std::string_view account_id, std::string_view content_id,
                                                    const core::RequestContext& ctx,
                                                    const redis::Pipeline* extra = nullptr);
    boost::asio::awaitable<core::Result<void>> async_fill(StartCatalog& catalog, std::string_view account_id,
                                                          std::string_view content_id, const core::RequestContext& ctx);

    /// Re-reads a document from the internal API and caches it, in the background (a stale hit,
    /// or a heartbeat that found its entitlement missing or past the soft TTL: the next heartbeat
    /// then sees revocations). At most one refresh per key per worker at a time; errors are only
    /// counted.
    /// @return true when a refresh was started (false: one is running, or the breaker is open).
    bool refresh_in_background(upstream::Resource resource, std::string_view id);

    const CacheSettings& settings() const noexcept { return settings_; }

private:
    void serve_local_copies(StartCatalog& out, std::string_view account_id, std::string_view content_id,
                            std::int64_t now_ms);
    static std::size_t build_read(redis::Pipeline& read, std::string_view account_id, std::string_view content_id,
                                  const redis::Pipeline* extra);
    boost::asio::awaitable<core::Result<std::optional<std::string>>> async_fetch(
        upstream::Resource resource, std::string_view id, const core::RequestContext& ctx);
    /// Decides a cached envelope: the document's JSON when servable (counting a stale serve and
    /// starting a refresh past the soft TTL), nullopt when absent/garbled/past the hard bound.
    std::optional<std::string_view> servable(upstream::Resource resource, std::string_view id,
                                             std::string_view stored, std::int64_t now_ms);
    boost::asio::awaitable<void> async_refresh(upstream::Resource resource, std::string id);
    /// "SET key value PX ttl" args for a fetched document (the hard bound, jittered for content).
    std::string redis_ttl_ms(upstream::Resource resource) const;
    /// Keeps @p envelope (an encode_cached value) as this worker's last good copy.
    void remember(upstream::Resource resource, std::string_view id, const std::string& envelope);
    /// The last good copy's JSON when Redis failed, if still within the hard bound.
    std::optional<std::string_view> local_copy(upstream::Resource resource, std::string_view id, std::int64_t now_ms);

    redis::Commands& redis_;
    upstream::InternalApi& api_;
    upstream::FetchCoalescer* coalescer_;
    boost::asio::any_io_executor executor_;
    const core::Clock& clock_;
    CacheSettings settings_;
    CacheStats& stats_;
    std::unordered_set<std::string> refreshing_;  ///< "a:<id>" / "c:<id>" being refreshed now
    /// "a:<id>" / "c:<id>" → envelope, from this worker's own fetches (bounded; Redis outages).
    std::unordered_map<std::string, std::string> local_;
    domain::DecodedCache<domain::Account> accounts_;  ///< decoded account per cached value
    domain::DecodedCache<domain::Content> contents_;  ///< decoded content per cached value
};

}  // namespace moneta::store
