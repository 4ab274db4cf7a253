#include "moneta/trace/sampler.hpp"

#include <cmath>

namespace moneta::trace {

Sampler::Sampler(SamplerConfig config) noexcept : config_(config) {
    const double r = std::isnan(config.ratio) ? 0.0 : config.ratio;
    if (r >= 1.0) {
        all_ = true;
    } else if (r > 0.0) {
        // r < 1, so r × 2^64 < 2^64 fits; ldexp is exact for the power of two.
        bound_ = static_cast<std::uint64_t>(std::ldexp(r, 64));
    }
}

bool Sampler::ratio_sampled(const std::array<std::uint8_t, 16>& trace_id) const noexcept {
    if (all_) {
        return true;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 8; i < 16; ++i) {
        v = (v << 8U) | trace_id[i];
    }
    return v < bound_;
}

}  // namespace moneta::trace
