/// @file services/moneta/src/store/progress_stream.hpp
/// @brief Retention and write-behind settings of watch progress, and the write-behind stream
/// markers (docs/data.md: a marker names an account whose `dirty:` hash has work).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "moneta/redis/pipeline.hpp"

namespace moneta::store {

struct ProgressSettings {
    std::chrono::milliseconds ttl{std::chrono::hours(24 * 90)};  ///< idle profiles expire
    int continue_watching_max = 200;                              ///< per profile
    /// Per-account bounds (docs/security.md). A profile's progress hash holds at most this many
    /// titles; a new one evicts the oldest clean (already flushed) title of a sample.
    int max_titles_per_profile = 5000;
    /// An account's write-behind dirty hash holds at most this many entries between flushes;
    /// writes of further titles are refused until the flusher catches up.
    int max_dirty_per_account = 2000;
    /// Negative cache of titles without a position (`pnf:`): lifetime from its creation, size.
    std::chrono::milliseconds missing_ttl{std::chrono::minutes(5)};
    int missing_max = 512;
    /// Markers kept per partition stream (`XADD … MAXLEN ~ n`): the stream cannot grow without bound
    /// while the flusher is down or behind. A trimmed marker loses nothing: its write is still in
    /// the account's `dirty:` hash and its due index (`progdue:`), where the flusher finds it
    /// (docs/data.md "Due index").
    std::int64_t stream_max_len = 10'000;  ///< × kPartitions streams
    /// A write finding its title already dirty and announced (a marker on its way to the
    /// flusher) writes neither; past this age it writes a new version and marker anyway, which
    /// recovers a marker lost to MAXLEN trimming while the account keeps writing (docs/data.md).
    std::chrono::milliseconds announce{60'000};
    /// An announced entry still dirty this long after its announcement had its marker lost
    /// (trimmed, or deleted by a consumer that died): the flusher takes its account from the due
    /// index then (docs/data.md "Due index").
    std::chrono::milliseconds marker_lost{60'000};
    /// Write-behind hold of a title still playing: a heartbeat's position reaches the system of
    /// record at most this long after the title first became dirty (plus one heartbeat interval
    /// and one flush), not at every heartbeat; stops, PUTs and finished titles are not held.
    /// Positions are served from Redis meanwhile (docs/data.md "Write-behind hold"). 0: no hold.
    std::chrono::milliseconds flush_hold{120'000};
};

/// `progq:quarantine`: positions the internal API refused item by item (4xx), kept for an
/// operator to inspect and replay (docs/data.md "Quarantine"). Not partitioned (written by the
/// flusher with a plain XADD, never inside an account's script): it only grows on refusals, and
/// it is capped (`XADD … MAXLEN ~`).
inline constexpr std::string_view kQuarantineStreamKey = "progq:quarantine";

}  // namespace moneta::store
