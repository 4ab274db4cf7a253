/// @file services/moneta/src/progress/share_out.hpp
/// @brief How one take, claim or read of the flusher splits its room (markers it may still hold)
/// over the partitions' streams and due indexes, and whose turn it is next.
#pragma once

#include <cstddef>
#include <vector>

#include "store/keys.hpp"

namespace moneta::progress {

/// Partition @p partition's part of @p room split over every partition: room / kPartitions
/// each, and one more for the room % kPartitions partitions from @p first on (wrapping). When the
/// room is smaller than the partitions (a batch nearly full), only those are read: the caller
/// moves @p first on by the room each time, so every partition gets its turn.
std::size_t share_of(std::size_t room, int partition, int first) noexcept;

/// One take, claim or read: the partitions that get a share of the room (share_of() from
/// `first`), each with its share, in partition order, and which of them came back full.
/// plan() refills it in place: the flusher keeps one and re-plans it ten times a second, so its
/// vectors are allocated once, not per poll.
class ShareOut {
public:
    void plan(std::size_t room, int first);

    const std::vector<int>& partitions() const noexcept { return partitions_; }
    const std::vector<std::size_t>& shares() const noexcept { return shares_; }
    /// Marks partitions()[i]'s share as filled: it has more, so it keeps the head of the line.
    void set_full(std::size_t i) noexcept { full_[i] = 1; }

    /// Where the next share-out starts: the first partition (in turn order from `first`) whose
    /// share came back full, else the turn moves on by the room.
    int next_first() const noexcept;

private:
    std::size_t room_ = 0;
    int first_ = 0;
    std::vector<int> partitions_;
    std::vector<std::size_t> shares_;
    std::vector<char> full_;  ///< per entry of partitions_
};

}  // namespace moneta::progress
