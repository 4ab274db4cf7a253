/// @file services/moneta/src/progress/chunked_pipeline.hpp
/// @brief A batch of Redis commands built in trips of at most N commands (FlusherSettings::
/// commands_per_trip): the flusher's big batches must not stall Redis for everyone else.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "moneta/redis/pipeline.hpp"

namespace moneta::progress {

/// Add each command to next(); send parts() one after the other, in order.
class ChunkedPipeline {
public:
    explicit ChunkedPipeline(std::size_t per_trip) : per_trip_(std::max<std::size_t>(1, per_trip)) {}

    /// The pipeline the next command goes into (a new one once the current holds per_trip).
    redis::Pipeline& next() {
        if (parts_.empty() || parts_.back().size() >= per_trip_) {
            parts_.emplace_back();
        }
        return parts_.back();
    }
    bool empty() const noexcept { return parts_.empty(); }
    std::vector<redis::Pipeline>& parts() noexcept { return parts_; }

private:
    std::size_t per_trip_;
    std::vector<redis::Pipeline> parts_;
};

}  // namespace moneta::progress
