/// @file services/moneta/src/usecases/ports.hpp
/// @brief The typed store interfaces the use cases run on. Production implementations forward
/// to store::* (usecases/store_adapters.hpp); unit tests implement them with scripted fakes
/// (tests/services/moneta/usecases/fakes.hpp). No Redis commands or reply positions here.
///
/// Each async_* of an implementation should return the store's own awaitable (no coroutine of
/// its own) so that a use case awaits the store directly: one virtual call, no extra frame.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/playback_delivery.hpp"
#include "domain/lease.hpp"
#include "domain/negotiation.hpp"
#include "domain/progress.hpp"
#include "moneta/core/deadline.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/core/result.hpp"
#include "store/catalog_cache.hpp"
#include "store/progress_buffer.hpp"
#include "store/session_store.hpp"

namespace moneta::usecases {

template <class T>
using Async = boost::asio::awaitable<core::Result<T>>;

/// Leases, session meta and the progress heartbeats/stops carry (store::SessionStore).
class SessionLeases {
public:
    virtual ~SessionLeases() = default;
    virtual Async<store::StartOutcome> async_start(const store::StartCommand& cmd, core::Deadline deadline) = 0;
    virtual Async<void> async_save_idempotent(std::string_view account_id, std::string_view key,
                                              std::string_view value, core::Deadline deadline) = 0;
    virtual Async<store::HeartbeatResult> async_heartbeat(std::string_view account_id, std::string_view session_id,
                                                          double position_sec, std::int64_t seq, std::int64_t now_ms,
                                                          core::Deadline deadline) = 0;
    virtual Async<store::StopResult> async_stop(std::string_view account_id, std::string_view session_id,
                                                double position_sec, std::int64_t seq, bool ended, std::int64_t now_ms,
                                                core::Deadline deadline) = 0;
    virtual Async<std::vector<domain::ActiveSession>> async_list(std::string_view account_id, std::int64_t now_ms,
                                                                 core::Deadline deadline) = 0;
    virtual Async<store::KickResult> async_kick(std::string_view account_id, std::string_view session_id,
                                                std::int64_t now_ms, core::Deadline deadline) = 0;
    virtual Async<std::optional<store::LiveSession>> async_live_session(std::string_view account_id,
                                                                        std::string_view session_id,
                                                                        std::int64_t now_ms,
                                                                        core::Deadline deadline) = 0;
    /// How long a lease lasts (a fail-open grant and a held heartbeat presume one this long).
    virtual std::chrono::milliseconds lease() const noexcept = 0;
};

/// Which first round trip: a start (rate limit `rl:` + the cached resume position) or a
/// progress call (rate limit `rlp:` only).
enum class Admission : std::uint8_t { kStart, kProgress };

struct AdmissionQuery {
    Admission kind = Admission::kStart;
    std::string_view account_id;
    std::string_view profile_id;
    std::string_view content_id;  ///< empty: the account only
    int rate_per_min = 0;         ///< 0: no rate limit
    std::int64_t now_ms = 0;      ///< the request's time (the rate window)
};

/// The first round trip of a start or progress call, typed.
struct AdmissionRead {
    /// Account and content as read (misses marked for async_fill), and why Redis failed if it
    /// did. Its `extra` replies are consumed by the reader (empty for the use case).
    store::StartCatalog catalog;
    /// Set: the account's rate limit is exceeded; Retry-After seconds. Unset when allowed, off,
    /// or Redis did not answer (a counter outage must not stop playback).
    std::optional<int> retry_after_sec;
    /// kStart only. `progress_cached`: Redis holds a value for the title (`stored_progress`:
    /// it decoded, else nullopt); `progress_known_absent`: the negative cache says the system of
    /// record has none.
    bool progress_cached = false;
    std::optional<domain::ProgressRecord> stored_progress;
    bool progress_known_absent = false;
};

/// True when @p catalog has a document async_fill must fetch; a warm read skips the call (and
/// its coroutine frame).
inline bool needs_fill(const store::StartCatalog& catalog) noexcept {
    return catalog.account_miss || catalog.content_miss;
}

/// Accounts and contents (store::CatalogCache).
class CatalogReader {
public:
    virtual ~CatalogReader() = default;
    /// One Redis round trip; never fails (a Redis failure leaves the misses set and
    /// `catalog.redis_error`); makes no internal-API call, so the rate limit is judged first.
    virtual boost::asio::awaitable<AdmissionRead> async_read_admission(const AdmissionQuery& query,
                                                                       const core::RequestContext& ctx) = 0;
    /// Fetches what async_read_admission marked missing (nothing on a warm read).
    virtual Async<void> async_fill(store::StartCatalog& catalog, std::string_view account_id,
                                   std::string_view content_id, const core::RequestContext& ctx) = 0;
    /// Read-through load (empty @p content_id: the account only).
    virtual Async<store::StartCatalog> async_load(std::string_view account_id, std::string_view content_id,
                                                  const core::RequestContext& ctx) = 0;
    /// Reloads the account in the background; true when a refresh was started.
    virtual bool refresh_account_in_background(std::string_view account_id) = 0;
    /// The account's soft TTL (older entitlements are refreshed by heartbeats).
    virtual std::chrono::milliseconds account_ttl() const noexcept = 0;
};

/// Watch positions (store::ProgressStore).
class ProgressRecords {
public:
    virtual ~ProgressRecords() = default;
    virtual Async<store::ProgressWrite> async_put(std::string_view account_id, std::string_view profile_id,
                                                  const domain::ProgressRecord& record, std::int64_t now_ms,
                                                  core::Deadline deadline) = 0;
    virtual Async<std::vector<domain::ProgressRecord>> async_get(std::string_view account_id,
                                                                 std::string_view profile_id,
                                                                 std::span<const std::string> content_ids,
                                                                 const core::RequestContext& ctx) = 0;
    virtual Async<std::optional<domain::ProgressRecord>> async_load_one(std::string_view account_id,
                                                                        std::string_view profile_id,
                                                                        std::string_view content_id,
                                                                        const core::RequestContext& ctx) = 0;
    virtual Async<std::vector<domain::ProgressRecord>> async_continue_watching(std::string_view account_id,
                                                                               std::string_view profile_id, int limit,
                                                                               const core::RequestContext& ctx) = 0;
};

/// Writes Redis did not answer, held for replay (store::ProgressBuffer).
class HeldWrites {
public:
    virtual ~HeldWrites() = default;
    [[nodiscard]] virtual store::ProgressBuffer::Push push(store::BufferedWrite&& write) = 0;
    /// A fail-open grant of this session is still held (its heartbeats and stop queue behind it).
    virtual bool has_pending_grant(std::string_view account_id, std::string_view session_id) const = 0;
};

/// The signed stream and DRM blocks (delivery::DeliveryFactory::Worker).
class StreamDelivery {
public:
    virtual ~StreamDelivery() = default;
    virtual core::Result<delivery::Blocks> build(const domain::StreamSelection& selection, std::string_view user_id,
                                                 std::int64_t now_ms) = 0;
};

}  // namespace moneta::usecases
