/// @file moneta/trace/span_ring.hpp
/// @brief Single-producer/single-consumer ring of SpanRecords: a worker pushes finished spans,
/// the exporter's thread drains them. A full ring drops and counts; the worker never waits.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "moneta/trace/span.hpp"

namespace moneta::trace {

/// @par Thread safety
/// try_push from ONE thread (the owning worker); drain/size from one other thread (the
/// exporter's). dropped() from any thread.
class SpanRing {
public:
    /// @param capacity slots, rounded up to a power of two (at least 2). Allocated once here.
    explicit SpanRing(std::size_t capacity);

    /// Copies @p s into the next slot; false (and counted in dropped()) when full.
    bool try_push(const SpanRecord& s) noexcept {
        const std::uint64_t head = head_.load(std::memory_order_relaxed);
        if (head - tail_cache_ > mask_) {
            tail_cache_ = tail_.load(std::memory_order_acquire);
            if (head - tail_cache_ > mask_) {
                dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                return false;
            }
        }
        slots_[head & mask_] = s;
        head_.store(head + 1, std::memory_order_release);
        return true;
    }

    /// Consumer: calls @p fn(const SpanRecord&) for at most @p max records in push order.
    /// @return the number consumed.
    template <class Fn>
    std::size_t drain(Fn&& fn, std::size_t max) {
        const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
        const std::uint64_t head = head_.load(std::memory_order_acquire);
        std::uint64_t end = head - tail > max ? tail + max : head;
        for (std::uint64_t i = tail; i != end; ++i) {
            fn(slots_[i & mask_]);
        }
        tail_.store(end, std::memory_order_release);
        return static_cast<std::size_t>(end - tail);
    }

    std::size_t size() const noexcept {
        return static_cast<std::size_t>(head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire));
    }
    std::size_t capacity() const noexcept { return mask_ + 1; }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

private:
    std::unique_ptr<SpanRecord[]> slots_;
    std::size_t mask_;
    alignas(64) std::atomic<std::uint64_t> head_{0};  // producer only
    std::uint64_t tail_cache_ = 0;                    // producer's last view of tail_
    std::atomic<std::uint64_t> dropped_{0};           // producer only (single writer)
    alignas(64) std::atomic<std::uint64_t> tail_{0};  // consumer only
    char pad_[64 - sizeof(std::atomic<std::uint64_t>)] = {};
};

}  // namespace moneta::trace
