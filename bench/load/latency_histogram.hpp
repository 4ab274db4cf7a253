// A log-linear latency histogram (HdrHistogram's layout, 64 sub-buckets per power of two: values
// are kept within ~1.6 %) from 1 µs to ~1 hour, fixed memory, no allocation when recording.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace moneta::bench {

class LatencyHistogram {
public:
    void record(std::uint64_t micros);
    void merge(const LatencyHistogram& other);
    /// The smallest recorded value v such that at least `quantile` (0..1] of samples are <= v
    /// (the bucket's upper bound); 0 when empty.
    std::uint64_t percentile(double quantile) const;
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }

private:
    static constexpr int kSubBits = 6;  // 64 sub-buckets
    static constexpr int kMagnitudes = 32;
    static constexpr std::size_t kBuckets = std::size_t{kMagnitudes + 1} << kSubBits;
    static std::size_t index_of(std::uint64_t v);
    static std::uint64_t upper_bound_of(std::size_t index);

    std::array<std::uint64_t, kBuckets> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace moneta::bench
