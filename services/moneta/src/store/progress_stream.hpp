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
};

/// The write-behind shard of an account (FNV-1a of the id, stable across processes).
int progress_shard(std::string_view account_id, int shards) noexcept;

/// Appends `XADD progq:{q<shard>} * a <account_id>` to @p p. Callers put it BEFORE the write
/// it announces: a marker without a write costs one empty flush, a write without a marker would
/// wait for the account's next write.
void add_progress_marker(redis::Pipeline& p, std::string_view account_id, int shards);

}  // namespace moneta::store
