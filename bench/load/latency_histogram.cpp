#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace moneta::bench {

// Values below 64 are exact (magnitude 0); above, magnitude m holds [64·2^(m-1), 64·2^m) in 64
// equal steps.
std::size_t LatencyHistogram::index_of(std::uint64_t v) {
    constexpr std::uint64_t kSub = 1ULL << kSubBits;
    if (v < kSub) return static_cast<std::size_t>(v);
    const int magnitude = std::bit_width(v) - kSubBits;  // >= 1
    const int clamped = std::min(magnitude, kMagnitudes);
    if (clamped != magnitude) return kBuckets - 1;
    const std::uint64_t sub = (v >> (magnitude - 1)) - kSub;  // 0..63
    return static_cast<std::size_t>(magnitude) * kSub + static_cast<std::size_t>(sub);
}

std::uint64_t LatencyHistogram::upper_bound_of(std::size_t index) {
    constexpr std::uint64_t kSub = 1ULL << kSubBits;
    const std::uint64_t magnitude = index >> kSubBits;
    const std::uint64_t sub = index & (kSub - 1);
    if (magnitude == 0) return sub;
    return ((kSub + sub + 1) << (magnitude - 1)) - 1;
}

void LatencyHistogram::record(std::uint64_t micros) {
    ++buckets_[index_of(micros)];
    ++count_;
    max_ = std::max(max_, micros);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
}

std::uint64_t LatencyHistogram::percentile(double quantile) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(quantile * static_cast<double>(count_)));
    const std::uint64_t target = std::max<std::uint64_t>(1, rank);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= target) return std::min(upper_bound_of(i), max_);
    }
    return max_;
}

}  // namespace moneta::bench
