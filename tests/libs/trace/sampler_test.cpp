#include "moneta/trace/sampler.hpp"

#include <gtest/gtest.h>

#include <chrono>

using moneta::core::TraceContext;
using moneta::trace::Sampler;
using moneta::trace::SamplerConfig;
using namespace std::chrono_literals;

namespace {

/// A trace id whose last 8 bytes (the sampled part) are @p low, big-endian.
std::array<std::uint8_t, 16> id_with_low(std::uint64_t low) {
    std::array<std::uint8_t, 16> id{};
    id[0] = 0xab;
    for (int i = 0; i < 8; ++i) {
        id[15 - i] = static_cast<std::uint8_t>(low >> (8 * i));
    }
    return id;
}

TraceContext ctx_with_low(std::uint64_t low, bool sampled = false) {
    TraceContext t;
    t.trace_id = id_with_low(low);
    t.span_id = {1, 2, 3, 4, 5, 6, 7, 8};
    t.flags = sampled ? 1 : 0;
    return t;
}

}  // namespace

TEST(SamplerTest, RatioBoundsAreExact) {
    const Sampler half(SamplerConfig{0.5, 500ms});
    EXPECT_TRUE(half.ratio_sampled(id_with_low(0)));
    EXPECT_TRUE(half.ratio_sampled(id_with_low(0x7fffffffffffffffULL)));
    EXPECT_FALSE(half.ratio_sampled(id_with_low(0x8000000000000000ULL)));
    EXPECT_FALSE(half.ratio_sampled(id_with_low(~0ULL)));

    const Sampler one_percent(SamplerConfig{0.01, 500ms});
    const auto bound = static_cast<std::uint64_t>(0.01 * 18446744073709551616.0);
    EXPECT_TRUE(one_percent.ratio_sampled(id_with_low(bound - 1)));
    EXPECT_FALSE(one_percent.ratio_sampled(id_with_low(bound + 1)));
}

TEST(SamplerTest, ZeroAndOneAndOutOfRange) {
    const Sampler never(SamplerConfig{0.0, 500ms});
    const Sampler always(SamplerConfig{1.0, 500ms});
    const Sampler negative(SamplerConfig{-3.0, 500ms});
    const Sampler above(SamplerConfig{7.0, 500ms});
    for (std::uint64_t low : {0ULL, 1ULL, 0x123456789ULL, ~0ULL}) {
        EXPECT_FALSE(never.ratio_sampled(id_with_low(low)));
        EXPECT_FALSE(negative.ratio_sampled(id_with_low(low)));
        EXPECT_TRUE(always.ratio_sampled(id_with_low(low)));
        EXPECT_TRUE(above.ratio_sampled(id_with_low(low)));
    }
}

TEST(SamplerTest, ShareOfRandomIdsIsNearTheRatio) {
    const Sampler s(SamplerConfig{0.01, 500ms});
    int sampled = 0;
    constexpr int kN = 200000;
    for (int i = 0; i < kN; ++i) {
        sampled += s.ratio_sampled(TraceContext::new_root(false).trace_id) ? 1 : 0;
    }
    // 2000 expected; ±5 sigma (sigma ≈ 44.5).
    EXPECT_GT(sampled, 1777);
    EXPECT_LT(sampled, 2223);
}

TEST(SamplerTest, ParentFlagWinsOverTheRatio) {
    const Sampler never(SamplerConfig{0.0, 500ms});
    const Sampler always(SamplerConfig{1.0, 500ms});
    const TraceContext ours = ctx_with_low(5);
    EXPECT_TRUE(never.head(ours, ctx_with_low(5, true)));
    EXPECT_FALSE(always.head(ours, ctx_with_low(5, false)));
    // No parent: the ratio decides.
    EXPECT_FALSE(never.head(ours, std::nullopt));
    EXPECT_TRUE(always.head(ours, std::nullopt));
}

TEST(SamplerTest, ErrorsAndSlowRequestsAreAlwaysKept) {
    const Sampler s(SamplerConfig{0.0, 250ms});
    EXPECT_FALSE(s.keep(false, 200, 10ms));
    EXPECT_FALSE(s.keep(false, 404, 10ms));
    EXPECT_FALSE(s.keep(false, 499, 250ms));  // at the threshold: not slow
    EXPECT_TRUE(s.keep(false, 500, 1ms));
    EXPECT_TRUE(s.keep(false, 503, 1ms));
    EXPECT_TRUE(s.keep(false, 200, 251ms));
    EXPECT_TRUE(s.keep(true, 200, 1ms));
}
