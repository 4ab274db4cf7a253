#include "progress/share_out.hpp"

namespace moneta::progress {

std::size_t share_of(std::size_t room, int partition, int first) noexcept {
    constexpr auto n = static_cast<std::size_t>(store::kPartitions);
    const auto from_first = static_cast<std::size_t>((partition - first + store::kPartitions) % store::kPartitions);
    return room / n + (from_first < room % n ? 1 : 0);
}

void ShareOut::plan(std::size_t room, int first) {
    room_ = room;
    first_ = first;
    partitions_.clear();
    shares_.clear();
    partitions_.reserve(store::kPartitions);
    shares_.reserve(store::kPartitions);
    for (int partition = 0; partition < store::kPartitions; ++partition) {
        if (const std::size_t share = share_of(room, partition, first); share > 0) {
            partitions_.push_back(partition);
            shares_.push_back(share);
        }
    }
    full_.assign(partitions_.size(), 0);
}

int ShareOut::next_first() const noexcept {
    int best = -1;
    int best_distance = store::kPartitions;
    for (std::size_t i = 0; i < partitions_.size(); ++i) {
        const int distance = (partitions_[i] - first_ + store::kPartitions) % store::kPartitions;
        if (full_[i] != 0 && distance < best_distance) {
            best = partitions_[i];
            best_distance = distance;
        }
    }
    return best >= 0 ? best : static_cast<int>((static_cast<std::size_t>(first_) + room_) % store::kPartitions);
}

}  // namespace moneta::progress
