/// @file services/moneta/src/store/session_lua.hpp
/// @brief The Lua scripts behind sessions (leases) and progress. Every operation that must be
/// atomic is one script, i.e. one round trip (api.md §6).
///
/// Every key of one account shares the `{a:<account_id>}` hash tag. The scripts that write
/// progress also append the write-behind marker to a `progq:{q<n>}` stream shard (a declared
/// key of another slot: standalone Redis only, like libs/redis; docs/data.md "Cluster").
/// Scripts that write progress derive the per-profile keys (`prog:{a:..}:<pid>`,
/// `cw:{a:..}:<pid>`) from the account id argument and the session's profile, which the caller
/// cannot know before the script reads the session, and `keep_hseq` derives another session's
/// `sm:{a:..}:<sid>` from the progress key: all in the declared keys' slot by construction
/// (same tag), which Redis Cluster accepts. docs/data.md.
#pragma once

#include <string>
#include <string_view>

#include "store/scripts/script_settings.hpp"

namespace moneta::store {

/// The scripts that write progress (heartbeat, stop, progress_put) carry their settings in
/// their source (ScriptSettings, settings_lua): per call they get the account id as their last
/// argument, and derive the profile keys' prefixes from it.

/// Lua shared by the lease scripts (drop, prune, touch, append_leases).
std::string_view lease_prelude() noexcept;
/// The settings table (kNoSettings defaults when @p settings is null) and the progress guard
/// (configure, put_progress, session_progress, ...).
std::string progress_prelude(const ScriptSettings* settings);

/// KEYS lease, sess, dev, evict, meta(new sid), idem. ARGV now, lease_ms, max_streams, sid,
/// device_id, info_json, replace_sid, tombstone_ms, idem_value ("" = none), idem_ttl_ms,
/// meta_ttl_ms, replayed grant's started_at ("" = live start), meta value (one string).
/// → {1, expires, active, replaced_sid} | {0, sid, info, expiry, ...} | {3, idem_value} | {4, sid}
std::string session_start_lua();

// The scripts with settings in their source, typed (argument struct, keys, Lua body, reply
// decoder): store/scripts/heartbeat_script.hpp, stop_script.hpp, progress_put_script.hpp.

/// KEYS lease, sess, dev, evict. ARGV now. → {sid, info, expiry, ...} of the live leases.
std::string session_list_lua();

/// KEYS lease, sess, dev, evict. ARGV now, sid, tombstone_ms. → 1 kicked | 0 no live lease.
std::string session_kick_lua();

/// KEYS prog, cw. ARGV progress_ttl_ms, cw_max, marker ("" or "~cw"), n, n × (cid, pos, dur,
/// updated_at, seq, completed), then content ids known to have no position. Loads what the
/// system of record returned, through the same guard, without marking anything dirty.
std::string progress_load_lua();

/// KEYS prog, cw. ARGV limit. → {has "~cw" marker 0/1, cid, value, ...} newest first.
std::string continue_watching_lua();

/// KEYS dirty. ARGV prog_prefix. → {field "pid/cid", version, value or "", ...}; marks the
/// returned entries as snapshotted (the version returned is the marked one).
std::string flush_snapshot_lua();

/// KEYS dirty, progdue shard. ARGV account, now, marker_lost_ms, field, version, ... → deletes each
/// field still at that version; re-scores (or removes) the account in the due index.
std::string flush_clear_lua();

/// KEYS progdue shard. ARGV max score, claim-until score, count → accounts due (and claimed).
std::string due_take_lua();

}  // namespace moneta::store
