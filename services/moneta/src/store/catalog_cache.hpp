/// @file services/moneta/src/store/catalog_cache.hpp
/// @brief Read-through cache of accounts (entitlements) and contents: Redis first, the internal
/// API on a miss, then cached. A warm lookup is ONE Redis round trip and zero internal-API calls.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "domain/catalog.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/commands.hpp"
#include "upstream/internal_api.hpp"

namespace moneta::store {

struct CacheSettings {
    std::chrono::milliseconds account_ttl{600'000};       ///< data.md: hard 10 min
    std::chrono::milliseconds content_ttl{1'800'000};     ///< 30 min, ±10 % jitter
    std::chrono::milliseconds content_missing_ttl{30'000};///< negative cache for unknown titles
};

struct CacheStats {
    std::atomic<std::uint64_t> account_hits_total{0};
    std::atomic<std::uint64_t> account_misses_total{0};
    std::atomic<std::uint64_t> content_hits_total{0};
    std::atomic<std::uint64_t> content_misses_total{0};
    std::atomic<std::uint64_t> redis_errors_total{0};  ///< cache read/write failed: served from the API
};

/// nullopt members: the internal API does not know that id (or it was not asked for).
struct StartCatalog {
    std::optional<domain::Account> account;
    std::optional<domain::Content> content;
    /// Replies to the caller's extra commands, in order; empty when Redis failed.
    std::vector<redis::Reply> extra;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread). Stats: any thread.
class CatalogCache {
public:
    CatalogCache(redis::Commands& redis, upstream::InternalApi& api, const core::Clock& clock,
                 CacheSettings settings, CacheStats& stats);

    /// Account and content for a start, in one Redis pipeline together with @p extra (the
    /// caller's own reads, e.g. the resume position and the rate-limit counter: still one round
    /// trip); misses are fetched from the internal API and written back. A Redis failure is not
    /// fatal here (the internal API is asked instead); an internal-API failure on a miss is
    /// (kTimeout, kUnavailable, ...). An empty @p content_id loads the account only.
    boost::asio::awaitable<core::Result<StartCatalog>> async_load(std::string_view account_id,
                                                                  std::string_view content_id,
                                                                  const core::RequestContext& ctx,
                                                                  const redis::Pipeline* extra = nullptr);

    /// Re-reads the account from the internal API and caches it (a heartbeat found no cached
    /// entitlement: the next heartbeat then sees revocations). Errors are only counted.
    boost::asio::awaitable<void> async_refresh_account(std::string account_id);

private:
    enum class Slot : std::uint8_t { kHit, kMiss, kKnownMissing };

    boost::asio::awaitable<core::Result<std::optional<std::string>>> async_fetch(
        upstream::Resource resource, std::string_view id, const core::RequestContext& ctx);

    redis::Commands& redis_;
    upstream::InternalApi& api_;
    const core::Clock& clock_;
    CacheSettings settings_;
    CacheStats& stats_;
};

}  // namespace moneta::store
