/// @file services/moneta/src/store/scripts/script_settings.hpp
/// @brief The settings that never change while the process runs, baked into the source of the
/// scripts that write progress (heartbeat, stop, progress_put): they are part of each script's
/// SHA1 instead of ~10 arguments re-sent (and converted by Redis) on every call.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "store/progress_stream.hpp"

namespace moneta::store {

struct ScriptSettings {
    std::int64_t lease_ms = 0;        ///< LeaseSettings::lease (0: scripts without leases)
    std::int64_t tombstone_ms = 0;    ///< LeaseSettings::tombstone
    std::int64_t meta_ttl_ms = 0;     ///< LeaseSettings::meta (session meta lifetime)
    std::int64_t meta_refresh_ms = 0; ///< how often a session's heartbeats renew its keys' TTLs
    ProgressSettings progress;
};

/// `local S = {...}`: the Lua table the progress prelude reads its settings from (session_lua.cpp).
/// Every value is an integer literal, so the text (and the SHA1) is a pure function of @p s.
std::string settings_lua(const ScriptSettings& s);

}  // namespace moneta::store
