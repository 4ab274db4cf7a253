/// @file moneta/resilience/bulkhead.hpp
/// @brief Concurrency cap per dependency: a move-only Permit held until the I/O really ends, a
/// bounded budget for abandoned (timed-out but still running) work, and a bounded FIFO of
/// deadline-aware waiters driven by the caller's event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"

namespace moneta::resilience {

/// Limits of one bulkhead. Real in-flight I/O never exceeds max_active + max_abandoned.
struct BulkheadConfig {
    std::uint32_t max_active = 64;     ///< calls a caller is still waiting for
    std::uint32_t max_waiters = 0;     ///< queued callers; 0 = reject immediately when full
    std::uint32_t max_abandoned = 16;  ///< calls whose caller gave up but whose I/O still runs

    /// kInvalidArgument when max_active is 0.
    core::Result<void> validate() const noexcept;
};

/// Gauges and counters, read together under the lock so they are mutually consistent.
struct BulkheadStats {
    std::uint32_t active = 0;
    std::uint32_t abandoned = 0;
    std::uint32_t waiting = 0;
    std::uint64_t admitted_total = 0;   ///< permits handed out (directly or to a waiter)
    std::uint64_t rejected_total = 0;   ///< try_acquire/enqueue answered kOverloaded
    std::uint64_t expired_total = 0;    ///< waiters whose deadline passed
    std::uint64_t abandoned_total = 0;  ///< successful abandon() calls
};

class Bulkhead;

/// Proof that one call occupies a slot. Move-only; releasing twice is impossible because a
/// moved-from or released Permit is empty and every operation on an empty Permit is a no-op.
/// The destructor releases, so the slot frees exactly when the object owning the I/O dies.
/// Must not outlive its Bulkhead.
class Permit {
public:
    Permit() noexcept = default;
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    /// True while this Permit still holds a slot (active or abandoned).
    bool held() const noexcept { return owner_ != nullptr; }
    explicit operator bool() const noexcept { return held(); }
    /// True after a successful abandon().
    bool abandoned() const noexcept { return abandoned_; }

    /// The I/O completed or was cancelled: free the slot (active or abandoned).
    void release() noexcept;

    /// The caller stopped waiting (timeout) but the I/O keeps running. Moves the slot from the
    /// active count to the abandoned budget, so a new caller may proceed; the abandoned slot is
    /// freed by release()/destruction when the I/O really ends.
    /// @return false (and the Permit stays active, still counted) when the abandoned budget is
    /// full or the Permit is empty/already abandoned. Never lets in-flight work exceed the cap.
    bool abandon() noexcept;

private:
    friend class Bulkhead;
    explicit Permit(Bulkhead* owner) noexcept : owner_(owner) {}

    Bulkhead* owner_ = nullptr;
    bool abandoned_ = false;
};

/// The outcome delivered to a waiter: a Permit, or kDeadlineExceeded.
using WaiterCallback = std::function<void(core::Result<Permit>)>;

/// Handle to a queued waiter. Move-only; destroying it while still queued cancels the wait
/// (without invoking the callback). Must not outlive its Bulkhead.
class Ticket {
public:
    Ticket() noexcept = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    /// Leaves the queue. @return true if the waiter was still queued (its callback will never
    /// run); false if it had already been granted, expired or cancelled.
    bool cancel() noexcept;

private:
    friend class Bulkhead;
    Ticket(Bulkhead* owner, std::uint64_t id) noexcept : owner_(owner), id_(id) {}

    Bulkhead* owner_ = nullptr;
    std::uint64_t id_ = 0;
};

/// Semaphore-style bulkhead with an explicit waiter queue.
///
/// The library does no I/O: the caller's event loop arms a timer for next_deadline() and calls
/// expire() when it fires. Waiter callbacks run on the thread that freed the slot (release,
/// abandon's slot hand-off) or called expire(), never under the internal lock; an Asio caller
/// posts to its own executor from the callback.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (one small mutex; see docs/resilience.md).
class Bulkhead {
public:
    Bulkhead(const core::Clock& clock, BulkheadConfig config) noexcept;
    Bulkhead(const Bulkhead&) = delete;
    Bulkhead& operator=(const Bulkhead&) = delete;
    ~Bulkhead();

    /// Non-blocking admission. kOverloaded when all active slots are taken, when callers are
    /// already queued (no barging past them), or when the abandoned budget is full (the
    /// dependency is black-holing calls: shed new ones fast).
    core::Result<Permit> try_acquire() noexcept;

    /// Waits for a slot until @p deadline. Fast path: if a slot is free now the callback runs
    /// immediately (before enqueue returns) with a Permit and an empty Ticket is returned.
    /// @return kDeadlineExceeded if @p deadline already passed; kOverloaded when the queue or the
    /// abandoned budget is full; kInvalidArgument for an empty callback. On error the callback
    /// is not invoked. The callback must not throw.
    core::Result<Ticket> enqueue(core::SteadyTime deadline, WaiterCallback callback);

    /// Fails every waiter whose deadline is <= now with kDeadlineExceeded.
    /// @return how many expired.
    std::size_t expire() noexcept;

    /// Earliest deadline among queued waiters, for the caller's timer.
    std::optional<core::SteadyTime> next_deadline() const noexcept;

    BulkheadStats stats() const noexcept;
    const BulkheadConfig& config() const noexcept { return config_; }

private:
    friend class Permit;
    friend class Ticket;

    struct Waiter {
        core::SteadyTime deadline;
        WaiterCallback callback;
    };
    /// A decided outcome, delivered after the lock is dropped.
    struct Delivery {
        WaiterCallback callback;
        bool granted;
    };
    using Deliveries = std::vector<Delivery>;

    bool abandoned_budget_left_locked() const noexcept;
    bool admissible_locked() const noexcept;
    void dispatch_locked(Deliveries& out);
    void deliver(Deliveries& out) noexcept;
    /// Frees an abandoned (@p abandoned) or active slot and hands it to the oldest live waiter.
    void release(bool abandoned) noexcept;
    bool try_abandon() noexcept;
    bool cancel_waiter(std::uint64_t id) noexcept;

    const core::Clock& clock_;
    const BulkheadConfig config_;
    mutable std::mutex mu_;
    std::uint32_t active_ = 0;                    // guarded by mu_
    std::uint32_t abandoned_ = 0;                 // guarded by mu_
    std::uint64_t next_id_ = 1;                   // guarded by mu_
    std::map<std::uint64_t, Waiter> waiters_;     // guarded by mu_; key order = FIFO order
    BulkheadStats counters_;                      // guarded by mu_ (gauge fields unused)
};

}  // namespace moneta::resilience
