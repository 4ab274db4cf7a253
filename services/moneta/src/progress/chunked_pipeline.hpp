/// @file services/moneta/src/progress/chunked_pipeline.hpp
/// @brief A batch of Redis commands built in trips of at most N commands (FlusherSettings::
/// commands_per_trip): the flusher's big batches must not stall Redis for everyone else.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "moneta/redis/pipeline.hpp"

namespace moneta::progress {

/// Add each command to next(); send parts() one after the other, in order. clear() empties it
/// for the next batch but keeps its pipelines and their buffers: the flusher builds two such
/// batches per flush, and reusing them is what keeps a flush of hundreds of accounts from
/// allocating per trip.
class ChunkedPipeline {
public:
    explicit ChunkedPipeline(std::size_t per_trip) : per_trip_(std::max<std::size_t>(1, per_trip)) {}

    /// The pipeline the next command goes into (the following one once the current holds
    /// per_trip).
    redis::Pipeline& next() {
        if (used_ == 0 || parts_[used_ - 1].size() >= per_trip_) {
            if (used_ == parts_.size()) {
                parts_.emplace_back();
            }
            ++used_;
        }
        return parts_[used_ - 1];
    }
    bool empty() const noexcept { return used_ == 0; }
    std::span<redis::Pipeline> parts() noexcept { return {parts_.data(), used_}; }
    /// Empty again; the pipelines (and the capacity of their buffers) are kept.
    void clear() noexcept {
        for (std::size_t i = 0; i < used_; ++i) {
            parts_[i].clear();
        }
        used_ = 0;
    }

private:
    std::size_t per_trip_;
    std::vector<redis::Pipeline> parts_;  ///< [0, used_) hold this batch; the rest wait cleared
    std::size_t used_ = 0;
};

}  // namespace moneta::progress
