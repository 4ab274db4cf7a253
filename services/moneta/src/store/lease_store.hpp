/// @file services/moneta/src/store/lease_store.hpp
/// @brief Concurrent-stream leases in Redis: one Lua script (one round trip) per operation.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string_view>

#include "domain/lease.hpp"
#include "moneta/core/deadline.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/commands.hpp"
#include "moneta/redis/script.hpp"

namespace moneta::store {

struct LeaseSettings {
    std::chrono::milliseconds lease{90'000};      ///< MONETA_LEASE_SEC
    std::chrono::milliseconds tombstone{600'000}; ///< how long an evicted session answers 409
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread, like its redis client).
class LeaseStore {
public:
    LeaseStore(redis::Commands& redis, LeaseSettings settings);

    /// Atomic check-and-add of a lease for @p info on @p account_id (api.md §6 stream limit):
    /// prunes expired leases, replaces this device's own lease and/or @p replace_session_id,
    /// then grants if fewer than @p max_streams remain, else lists the live ones.
    boost::asio::awaitable<core::Result<domain::LeaseOutcome>> async_acquire(
        std::string_view account_id, int max_streams, const domain::SessionInfo& info,
        std::string_view replace_session_id, std::int64_t now_ms, core::Deadline deadline);

    /// Extends a live lease; tells NOT_FOUND from EVICTED.
    boost::asio::awaitable<core::Result<domain::HeartbeatOutcome>> async_renew(
        std::string_view account_id, std::string_view session_id, std::int64_t now_ms,
        core::Deadline deadline);

    /// Releases a lease (idempotent). @return true when a live lease was released.
    boost::asio::awaitable<core::Result<bool>> async_release(std::string_view account_id,
                                                             std::string_view session_id,
                                                             std::int64_t now_ms,
                                                             core::Deadline deadline);

    const LeaseSettings& settings() const noexcept { return settings_; }

private:
    redis::Commands& redis_;
    LeaseSettings settings_;
    redis::Script start_script_;
    redis::Script heartbeat_script_;
    redis::Script stop_script_;
};

}  // namespace moneta::store
