/// @file services/moneta/src/store/session_lua.hpp
/// @brief The Lua shared by the scripts behind sessions (leases) and progress. Every operation
/// that must be atomic is one script, i.e. one round trip (api.md §6).
///
/// Every key of one account shares its partition's hash tag `{p<n>}` (store/keys.hpp), and so
/// do the partition's write-behind stream `progq:{p<n>}` and due index `progdue:{p<n>}` that the
/// progress-writing scripts append to: one slot, so Redis Cluster runs them (docs/data.md
/// "Cluster"). Those scripts derive the per-profile keys (`prog:{p<n>}:<account>:<pid>`,
/// `cw:…`) from the declared dirty key and the session's profile, which the caller cannot know
/// before the script reads the session, and `keep_hseq` derives another session's
/// `sm:{p<n>}:<account>:<sid>` from the progress key: all in the declared keys' slot by
/// construction.
#pragma once

#include <string>
#include <string_view>

#include "store/scripts/script_settings.hpp"

namespace moneta::store {

/// The scripts that write progress (heartbeat, stop, progress_put) carry their settings in
/// their source (ScriptSettings, settings_lua): per call they get the account id as their last
/// argument, and derive the profile keys' prefixes from it.
///
/// Each script is typed in store/scripts/<name>_script.hpp (argument struct, keys and ARGV,
/// its own Lua body after these preludes, reply decoder); this file holds only the Lua they
/// share.

/// Lua shared by the lease scripts (drop, prune, touch, append_leases).
std::string_view lease_prelude() noexcept;
/// The dirty-entry time parser (dirty_times), part of the progress prelude; the flush snapshot
/// and clear scripts, which have no other prelude, start with it.
std::string_view dirty_times_lua() noexcept;
/// The settings table (kNoSettings defaults when @p settings is null) and the progress guard
/// (configure, put_progress, session_progress, ...).
std::string progress_prelude(const ScriptSettings* settings);

}  // namespace moneta::store
