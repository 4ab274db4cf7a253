/// @file moneta/http/server_stats.hpp
/// @brief The server's counters: one block per worker, written only by that worker's thread and
/// summed when read (at /metrics scrape). Nothing on the request path is shared between workers:
/// no lock-prefixed read-modify-write, no cache line two workers write.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

namespace moneta::http {

/// One worker's counters. Single writer (the worker thread): bump() is a relaxed load and store,
/// not a fetch_add. Any thread may read them (relaxed). Aligned so no two workers share a line.
struct alignas(64) WorkerServerStats {
    std::atomic<std::uint64_t> connections_accepted_total{0};
    std::atomic<std::int64_t> connections_active{0};
    std::atomic<std::uint64_t> connections_rejected_total{0};
    std::atomic<std::uint64_t> requests_total{0};
    std::atomic<std::int64_t> requests_in_flight{0};
    std::atomic<std::uint64_t> bad_requests_total{0};  ///< malformed: answered 4xx/5xx and closed
    std::atomic<std::uint64_t> timeouts_total{0};
    std::atomic<std::uint64_t> handler_exceptions_total{0};
    std::atomic<std::uint64_t> accept_errors_total{0};         ///< failed accepts (each one backed off)
    std::atomic<std::uint64_t> accept_fd_exhausted_total{0};   ///< of which EMFILE / ENFILE
    std::atomic<std::uint64_t> edge_headers_dropped_total{0};  ///< edge-only headers removed (untrusted)
    std::atomic<std::uint64_t> edge_auth_rejected_total{0};    ///< X-Edge-Auth present but wrong or doubled
};

/// Adds @p n to a counter only its owning thread writes.
template <class T>
inline void bump(std::atomic<T>& counter, T n = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// One field summed over every worker's block, read like an atomic (load()).
template <class T>
class MergedStat {
public:
    using Member = std::atomic<T> WorkerServerStats::*;
    MergedStat(std::span<const WorkerServerStats* const> blocks, Member member) noexcept
        : blocks_(blocks), member_(member) {}
    T load(std::memory_order order = std::memory_order_relaxed) const noexcept {
        T sum{};
        for (const WorkerServerStats* b : blocks_) {
            sum += (b->*member_).load(order);
        }
        return sum;
    }

private:
    std::span<const WorkerServerStats* const> blocks_;
    Member member_;
};

/// The server-wide view /metrics reads (same field names as the per-worker blocks).
struct ServerStats {
    explicit ServerStats(std::span<const WorkerServerStats* const> b) noexcept
        : connections_accepted_total(b, &WorkerServerStats::connections_accepted_total),
          connections_active(b, &WorkerServerStats::connections_active),
          connections_rejected_total(b, &WorkerServerStats::connections_rejected_total),
          requests_total(b, &WorkerServerStats::requests_total),
          requests_in_flight(b, &WorkerServerStats::requests_in_flight),
          bad_requests_total(b, &WorkerServerStats::bad_requests_total),
          timeouts_total(b, &WorkerServerStats::timeouts_total),
          handler_exceptions_total(b, &WorkerServerStats::handler_exceptions_total),
          accept_errors_total(b, &WorkerServerStats::accept_errors_total),
          accept_fd_exhausted_total(b, &WorkerServerStats::accept_fd_exhausted_total),
          edge_headers_dropped_total(b, &WorkerServerStats::edge_headers_dropped_total),
          edge_auth_rejected_total(b, &WorkerServerStats::edge_auth_rejected_total) {}

    MergedStat<std::uint64_t> connections_accepted_total;
    MergedStat<std::int64_t> connections_active;
    MergedStat<std::uint64_t> connections_rejected_total;
    MergedStat<std::uint64_t> requests_total;
    MergedStat<std::int64_t> requests_in_flight;
    MergedStat<std::uint64_t> bad_requests_total;
    MergedStat<std::uint64_t> timeouts_total;
    MergedStat<std::uint64_t> handler_exceptions_total;
    MergedStat<std::uint64_t> accept_errors_total;
    MergedStat<std::uint64_t> accept_fd_exhausted_total;
    MergedStat<std::uint64_t> edge_headers_dropped_total;
    MergedStat<std::uint64_t> edge_auth_rejected_total;
};

}  // namespace moneta::http
