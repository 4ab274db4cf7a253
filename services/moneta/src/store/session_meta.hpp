/// @file services/moneta/src/store/session_meta.hpp
/// @brief What a session is, beyond its lease, and how it is stored: one string value at
/// `sm:{p<n>}:<account>:<sid>` (docs/data.md), read and rewritten by the heartbeat/stop scripts
/// (session_lua.cpp `read_meta`/`session_progress`, which parse the same layout).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moneta::store {

/// Written at start, read by heartbeat/stop (progress) and refresh (delivery).
struct SessionMeta {
    std::string profile_id;
    std::string content_id;
    double duration_sec = 0;
    double completion_sec = 0;      ///< domain::completion_threshold_sec
    bool start_over = false;        ///< zero positions of this session may replace non-zero ones
    std::optional<std::int64_t> window_end_ms;
    std::string selection;          ///< encoded StreamSelection (delivery/selection_codec)
};

/// "2|<hseq>|<refresh_due_ms>|<pid>|<cid>|<dur>|<done_at>|<so>|<wend>|<sel>": hseq (the highest
/// heartbeat seq applied, empty at start) and the time the session's key TTLs are next renewed
/// are rewritten by the scripts; the rest is fixed at start. `sel` is last: the only field that
/// may contain '|'. Ids are validated ([A-Za-z0-9_-]) before they get here.
std::string encode_session_meta(const SessionMeta& meta, std::int64_t refresh_due_ms);
/// The same text appended to @p out (a start writes it after the session info, in one buffer).
void append_session_meta(std::string& out, const SessionMeta& meta, std::int64_t refresh_due_ms);
/// At least the bytes append_session_meta writes (to reserve them once).
std::size_t session_meta_size_bound(const SessionMeta& meta) noexcept;

/// The fields a refresh needs; nullopt for anything encode_session_meta did not produce.
struct StoredSessionMeta {
    std::string_view profile_id;
    std::string_view content_id;
    std::string_view selection;
};
std::optional<StoredSessionMeta> decode_session_meta(std::string_view stored) noexcept;

}  // namespace moneta::store
