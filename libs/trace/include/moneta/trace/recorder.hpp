/// @file moneta/trace/recorder.hpp
/// @brief A worker's span recorder: client spans of a request are held in a small fixed table
/// until the request ends, then the sampler's end decision (head-sampled, 5xx, slow) pushes
/// them with the server span into the worker's ring, or drops them. No lock, no allocation.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <cstdint>

#include "moneta/core/clock.hpp"
#include "moneta/core/trace_context.hpp"
#include "moneta/trace/sampler.hpp"
#include "moneta/trace/span_ring.hpp"

namespace moneta::trace {

/// @par Thread safety
/// One per worker thread, used only on that thread (its ring's single producer). The counters
/// may be read from any thread.
class Recorder {
public:
    static constexpr std::size_t kPending = 64;      ///< requests with held client spans
    static constexpr std::size_t kMaxChildren = 8;   ///< client spans held per request

    /// @param ring this worker's ring, or nullptr: export off (every call returns at once).
    Recorder(SpanRing* ring, const Sampler& sampler, const core::Clock& clock);

    bool enabled() const noexcept { return ring_ != nullptr; }
    const Sampler& sampler() const noexcept { return sampler_; }

    /// The steady clock span times are taken from.
    core::SteadyTime now() const noexcept { return clock_.steady_now(); }

    /// Unix-epoch nanoseconds of a steady-clock instant (wall clock anchored once at
    /// construction, so span times are monotonic within the process).
    std::int64_t unix_ns(core::SteadyTime t) const noexcept {
        return anchor_unix_ns_ + std::chrono::duration_cast<std::chrono::nanoseconds>(t - anchor_steady_).count();
    }

    /// A finished client span whose parent is the request's server span (@p s.parent_span_id).
    /// Head-sampled (flag set): straight to the ring. Otherwise held until finish_server decides.
    void add_client(const SpanRecord& s) noexcept;

    /// The request's server span, finished: kept when the sampler says so (the held client
    /// spans go with it), else dropped with them. @return whether it was kept.
    bool finish_server(const SpanRecord& server, core::Duration duration) noexcept;

    /// server.address / server.port of this worker's Redis spans (client_span.hpp).
    void set_redis_peer(std::string_view address, std::uint16_t port) noexcept {
        redis_address_.assign(address);
        redis_port_ = port;
    }
    std::string_view redis_address() const noexcept { return redis_address_.view(); }
    std::uint16_t redis_port() const noexcept { return redis_port_; }

    std::uint64_t kept() const noexcept { return kept_.load(std::memory_order_relaxed); }
    /// Client spans lost because the pending table or a request's slot was full.
    std::uint64_t overflowed() const noexcept { return overflowed_.load(std::memory_order_relaxed); }

private:
    struct Pending {
        std::uint8_t count = 0;
        std::array<SpanRecord, kMaxChildren> spans;
    };

    static std::uint64_t key_of(const std::array<std::uint8_t, 8>& id) noexcept;
    void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    SpanRing* ring_;
    const Sampler& sampler_;
    const core::Clock& clock_;
    std::int64_t anchor_unix_ns_;
    core::SteadyTime anchor_steady_;
    // Pending requests: keys_[i] == 0 is free. Keys are random span ids, never 0 (W3C).
    std::array<std::uint64_t, kPending> keys_{};
    std::array<std::uint64_t, kPending> ages_{};  ///< insertion counter: the oldest is evicted
    std::uint64_t clock_tick_ = 0;
    std::unique_ptr<std::array<Pending, kPending>> pending_;
    FixedText<64> redis_address_;
    std::uint16_t redis_port_ = 0;
    std::atomic<std::uint64_t> kept_{0};
    std::atomic<std::uint64_t> overflowed_{0};
};

}  // namespace moneta::trace
