/// @file services/moneta/src/store/lease_scripts.hpp
/// @brief Lua sources of the lease operations (one atomic script per operation).
///
/// Keys of one account share the `{a:<account_id>}` hash tag, so they live in one Redis Cluster
/// slot and every script declares all the keys it touches:
///   KEYS[1] lease:{a:ID}   ZSET  session_id → lease expiry (ms)
///   KEYS[2] sess:{a:ID}    HASH  session_id → session info JSON (device_id, content, ...)
///   KEYS[3] dev:{a:ID}     HASH  device_id  → session_id (a restarting app replaces its lease)
///   KEYS[4] evict:{a:ID}   ZSET  session_id → tombstone expiry (ms): replaced/kicked sessions,
///                                so their next heartbeat is SESSION_EVICTED, not NOT_FOUND
/// data.md proposed one `sess:` key per session and a `dev:` key per device; fixed per-account
/// hashes let the scripts declare every key (cluster-correct) and prune with no key scans.
#pragma once

#include <string>

namespace moneta::store {

/// ARGV: now_ms, lease_ms, max_streams, session_id, device_id, info_json, replace_session_id
/// (or ""), tombstone_ms.
/// Returns {1, expires_at_ms, active_count, replaced_session_id} when granted, or
/// {0, sid1, info1, expiry1, sid2, ...} listing the live leases when the limit is reached.
std::string lease_start_script();

/// ARGV: now_ms, lease_ms, session_id, tombstone_ms.
/// Returns {1, expires_at_ms} renewed, {0} not found (unknown/expired), {2} evicted.
std::string lease_heartbeat_script();

/// ARGV: now_ms, session_id. Returns 1 when a live lease was released, 0 otherwise.
std::string lease_stop_script();

}  // namespace moneta::store
