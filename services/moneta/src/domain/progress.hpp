/// @file services/moneta/src/domain/progress.hpp
/// @brief Watch progress (api.md §5.7, §6 "Progress is never lost or rolled back"): the stored
/// record, its Redis text form, the completion rule and the resume rule. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/requests.hpp"

namespace moneta::domain {

/// One (profile, content) position as stored and as returned to clients.
struct ProgressRecord {
    std::string content_id;
    double position_sec = 0;
    double duration_sec = 0;
    std::int64_t updated_at_ms = 0;
    std::int64_t seq = 0;
    bool completed = false;
};

/// Position from which a title counts as watched: max(credits_start, 95 % of the duration).
/// A title without a known duration never completes by position (only by `reason=ended`).
double completion_threshold_sec(double duration_sec, std::optional<double> credits_start_sec) noexcept;

/// Redis value of one position: "pos|dur|updated_at_ms|seq|completed|session_id". The writing
/// session id lets the guard order writes of one session by `seq` alone (a retried heartbeat
/// arrives later but is older); writes of different sessions or offline writes are ordered by
/// (updated_at_ms, seq). Read and written by the Lua guard in store/progress_lua.cpp.
std::string encode_progress_value(const ProgressRecord& r, std::string_view session_id);
/// nullopt for anything that is not exactly that form (including the "-" known-absent marker),
/// and for values no writer produces: a position or duration that is negative or not finite, a
/// negative updated_at_ms or seq.
std::optional<ProgressRecord> decode_progress_value(std::string_view content_id, std::string_view v);

/// The hash value that records "the system of record has no position for this title".
inline constexpr std::string_view kNoProgress = "-";

/// api.md §5.1: `auto` resumes at the stored position unless the title was completed;
/// `start_over` starts at 0.
double resume_position(const std::optional<ProgressRecord>& stored, ResumeMode mode) noexcept;

/// Shortest text of a double that parses back to the same value ("1902.5", "0"): exactly what
/// std::to_chars(double) writes (write_double(), json_writer.hpp).
std::string format_seconds(double v);


/// `content_ids=a,b,c` (1..100 valid ids, no duplicates) of GET /v1/me/progress.
Parsed<std::vector<std::string>> parse_content_ids_query(std::string_view query);
/// `limit=N` (1..100, default 20) of GET /v1/me/continue-watching; nothing else accepted.
Parsed<int> parse_limit_query(std::string_view query);

/// {"items":[{content_id,position_sec,duration_sec,completed,updated_at_ms}],"server_time_ms"}.
/// Written into @p buffer, its capacity reused (a connection's recycled response buffer).
std::string progress_items_response(const std::vector<ProgressRecord>& items, std::int64_t now_ms,
                                    std::string buffer = {});

/// Items of the internal API's GET /internal/v1/profiles/{id}/progress body (strictly checked;
/// nullopt when the body is not that shape, or when a position or duration is negative or not
/// finite, or an updated_at_ms or seq is negative).
std::optional<std::vector<ProgressRecord>> decode_upstream_progress(std::string_view body);

/// One item of POST /internal/v1/progress:batchUpsert.
struct ProgressUpsert {
    std::string profile_id;
    ProgressRecord record;
};
std::string batch_upsert_body(const std::vector<ProgressUpsert>& items);

}  // namespace moneta::domain
