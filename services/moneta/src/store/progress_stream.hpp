/// @file services/moneta/src/store/progress_stream.hpp
/// @brief Retention and write-behind settings of watch progress, and the write-behind stream
/// markers (docs/data.md: a marker names an account whose `dirty:` hash has work).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "moneta/redis/pipeline.hpp"

namespace moneta::store {

struct ProgressSettings {
    std::chrono::milliseconds ttl{std::chrono::hours(24 * 90)};  ///< idle profiles expire
    int continue_watching_max = 200;                              ///< per profile
    int stream_shards = 4;                                        ///< progq:{q0..n-1}
    /// Per-account bounds (docs/security.md). A profile's progress hash holds at most this many
    /// titles; a new one evicts the oldest clean (already flushed) title of a sample.
    int max_titles_per_profile = 5000;
    /// An account's write-behind dirty hash holds at most this many entries between flushes;
    /// writes of further titles are refused until the flusher catches up.
    int max_dirty_per_account = 2000;
    /// Negative cache of titles without a position (`pnf:`): lifetime from its creation, size.
    std::chrono::milliseconds missing_ttl{std::chrono::minutes(5)};
    int missing_max = 512;
};

/// The write-behind shard of an account (FNV-1a of the id, stable across processes).
int progress_shard(std::string_view account_id, int shards) noexcept;

/// Appends `XADD progq:{q<shard>} * a <account_id>` to @p p. Callers put it right AFTER the
/// write it announces, in the same pipeline: once the flusher can see the marker, the write has
/// executed (Redis runs one connection's commands in order), so the flusher's snapshot sees it.
/// (Marker first would race: the flusher could read, snapshot and ack the marker between the two
/// commands and leave the write without a marker.) A crash between the two leaves a dirty entry
/// without a marker; the flusher's startup sweep (flusher.cpp) re-announces those.
void add_progress_marker(redis::Pipeline& p, std::string_view account_id, int shards);

}  // namespace moneta::store
