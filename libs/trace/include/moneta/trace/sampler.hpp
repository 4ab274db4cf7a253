/// @file moneta/trace/sampler.hpp
/// @brief Head sampling (parent-based, else trace-id ratio) and the tail rule that always keeps
/// errors and slow requests.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "moneta/core/clock.hpp"
#include "moneta/core/trace_context.hpp"

namespace moneta::trace {

struct SamplerConfig {
    double ratio = 0.01;  ///< share of new traces (no inbound parent) sampled at the head, [0, 1]
    core::Duration slow_threshold = std::chrono::milliseconds(500);  ///< slower requests are kept
};

/// @par Thread safety
/// Immutable after construction: safe to share.
class Sampler {
public:
    explicit Sampler(SamplerConfig config) noexcept;

    /// The head decision: the caller's sampled flag when it sent a parent (parent-based), else
    /// ratio_sampled(trace id). It becomes the sampled flag of our span and of every outbound
    /// traceparent, so downstream services follow it.
    bool head(const core::TraceContext& trace, const std::optional<core::TraceContext>& parent) const noexcept {
        return parent ? parent->sampled() : ratio_sampled(trace.trace_id);
    }

    /// Trace-id ratio: the trace id's last 8 bytes (big-endian; random in W3C ids) below
    /// ratio × 2^64. Deterministic per trace id, so every service with the same ratio agrees.
    bool ratio_sampled(const std::array<std::uint8_t, 16>& trace_id) const noexcept;

    /// The export decision at the end of the request: head-sampled, or a server error (5xx), or
    /// slower than the threshold.
    bool keep(bool head_sampled, int http_status, core::Duration duration) const noexcept {
        return head_sampled || http_status >= 500 || duration > config_.slow_threshold;
    }

    const SamplerConfig& config() const noexcept { return config_; }

private:
    SamplerConfig config_;
    bool all_ = false;
    std::uint64_t bound_ = 0;
};

}  // namespace moneta::trace
