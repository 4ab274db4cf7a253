/// @file services/moneta/src/domain/lease.hpp
/// @brief Concurrent-stream lease outcomes (api.md §6 "Stream limit"), independent of storage.
#pragma once

#include <boost/static_string/static_string.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "domain/requests.hpp"

namespace moneta::domain {

/// What a lease remembers about its session (stored with the lease; listed to the account).
struct SessionInfo {
    std::string session_id;
    std::string device_id;
    std::string device_type;
    std::string device_name;
    std::string content_id;
    std::string profile_id;
    std::int64_t started_at_ms = 0;
};

/// Serialized form kept in Redis (JSON, read back by the Lua scripts with cjson for device_id).
/// @p extra_capacity: bytes more to reserve, for what the caller appends after it.
std::string encode_session_info(const SessionInfo& s, std::size_t extra_capacity = 0);
/// Lenient decode for listing: a field that is missing stays empty.
SessionInfo decode_session_info(std::string_view json);

struct LeaseGranted {
    std::int64_t expires_at_ms = 0;
    int active_streams = 0;            ///< including the new one
    /// Empty unless a same-device/explicit replacement happened. Inline (ids are ≤ 64 characters,
    /// domain::is_valid_id): every start from a device that played before replaces a session, and
    /// that must not cost an allocation.
    boost::static_string<kMaxIdLength> replaced_session_id;
};

struct ActiveSession {
    SessionInfo info;
    std::int64_t last_seen_ms = 0;
};

struct LeaseDenied {
    std::vector<ActiveSession> active;
};

using LeaseOutcome = std::variant<LeaseGranted, LeaseDenied>;

enum class HeartbeatStatus : std::uint8_t {
    kRenewed,   ///< lease extended
    kNotFound,  ///< unknown or expired: SESSION_NOT_FOUND
    kEvicted,   ///< replaced by another start or killed by the user: SESSION_EVICTED
};

struct HeartbeatOutcome {
    HeartbeatStatus status = HeartbeatStatus::kNotFound;
    std::int64_t expires_at_ms = 0;
};

/// `details` of STREAM_LIMIT_REACHED: {"active_sessions":[{session_id,device_type,content_id,last_seen_ms}]}.
std::string stream_limit_details(const LeaseDenied& denied);

}  // namespace moneta::domain
