/// @file moneta/log/access_ring.hpp
/// @brief The access log's request-thread side: a single-producer/single-consumer ring of
/// fixed-size binary records, one per worker thread. The worker copies a request's fields into
/// a slot (no formatting, no allocation, no lock, no syscall); the logger's thread formats the
/// slots into ECS JSON lines and writes them in batches. A full ring drops the record and
/// counts it: the request thread never waits for the log.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string_view>

#include "moneta/core/request_context.hpp"

namespace moneta::log {

/// What a worker hands over for one request. Views are copied into the slot before
/// AccessRing::try_push returns, except @ref route, which must outlive the logger (a label
/// from a static table).
struct AccessEntry {
    std::int64_t wall_ms = 0;         ///< @timestamp
    std::int64_t duration_ns = 0;     ///< event.duration
    std::uint64_t response_bytes = 0; ///< http.response.bytes
    int status = 0;                   ///< http.response.status_code
    std::string_view method;          ///< http.request.method (cut at kMaxMethod)
    std::string_view path;            ///< url.path (cut to what fits, see AccessSlot)
    std::string_view route;           ///< http.route: static storage
    std::string_view remote_ip;       ///< client.ip (cut at kMaxIp)
    std::string_view user_agent;      ///< user_agent.original (cut at kMaxUserAgent)
    const core::RequestContext* context = nullptr;  ///< trace.id, transaction.id, http.request.id
};

/// One record as stored in the ring: numbers and ids in binary, strings packed into `text`.
/// 1 KiB of text covers moneta's paths (< 100 bytes) with room to spare; a longer path or
/// User-Agent is cut (a cut inside a UTF-8 sequence shows as U+FFFD in the line).
struct AccessSlot {
    static constexpr std::size_t kTextBytes = 1024;
    static constexpr std::size_t kMaxRequestId = 128;  ///< core::is_valid_request_id's bound
    static constexpr std::size_t kMaxMethod = 16;
    static constexpr std::size_t kMaxIp = 64;
    static constexpr std::size_t kMaxUserAgent = 256;

    std::int64_t wall_ms;
    std::int64_t duration_ns;
    std::uint64_t response_bytes;
    std::int32_t status;
    bool has_context;
    std::array<std::uint8_t, 16> trace_id;
    std::array<std::uint8_t, 8> span_id;
    const char* route;
    std::uint16_t route_len;
    // Lengths of the parts of `text`, in this order.
    std::uint16_t request_id_len;
    std::uint16_t method_len;
    std::uint16_t ip_len;
    std::uint16_t user_agent_len;
    std::uint16_t path_len;
    char text[kTextBytes];
};

/// @par Thread safety
/// try_push from ONE thread (the worker that owns the ring); drain, empty and the counters from
/// any one other thread (the logger's). Head and tail live on their own cache lines.
class AccessRing {
public:
    /// @param capacity slots, rounded up to a power of two (at least 2).
    /// @param wake, cv when the ring reaches half full, try_push sets @p wake and notifies @p cv
    /// (once per crossing, not per record) so the consumer drains before its timer fires.
    explicit AccessRing(std::size_t capacity, std::atomic<bool>* wake = nullptr,
                        std::condition_variable* cv = nullptr);

    /// Copies @p e into the next slot. False when the ring is full: the record is dropped and
    /// counted in dropped(). Never blocks, never allocates.
    bool try_push(const AccessEntry& e) noexcept;

    /// Consumer: calls @p fn(const AccessSlot&) for each record in push order, then frees them.
    /// @return the number of records consumed.
    template <class Fn>
    std::size_t drain(Fn&& fn) {
        const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
        const std::uint64_t head = head_.load(std::memory_order_acquire);
        for (std::uint64_t i = tail; i != head; ++i) {
            fn(slots_[i & mask_]);
        }
        tail_.store(head, std::memory_order_release);
        return static_cast<std::size_t>(head - tail);
    }

    bool empty() const noexcept {
        return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
    }
    std::size_t capacity() const noexcept { return mask_ + 1; }
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

private:
    std::unique_ptr<AccessSlot[]> slots_;
    std::size_t mask_;
    std::atomic<bool>* wake_;
    std::condition_variable* cv_;
    alignas(64) std::atomic<std::uint64_t> head_{0};     // written by the producer only
    std::uint64_t tail_cache_ = 0;                       // producer's last view of tail_
    std::atomic<std::uint64_t> dropped_{0};              // producer only (single writer)
    alignas(64) std::atomic<std::uint64_t> tail_{0};     // written by the consumer only
    char pad_[64 - sizeof(std::atomic<std::uint64_t>)] = {};
};

}  // namespace moneta::log
