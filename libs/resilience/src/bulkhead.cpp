// NOTE: deliberate simplifications
//  * One std::mutex guards counts and the waiter map. A lock-free fast path (atomic CAS on the
//    active count, like Envoy's ResourceManagerImpl) cannot atomically check "no one is queued"
//    and "abandoned budget not full" together with the increment; the uncontended lock costs
//    tens of nanoseconds, far below the I/O it guards.
//  * expire() scans all waiters: the queue is bounded by max_waiters and deadlines are not
//    ordered by arrival, so a second index would cost more than it saves.
//  * Waiter callbacks must not throw (they run from noexcept release paths).
#include "moneta/resilience/bulkhead.hpp"

#include <utility>

#include "moneta/core/assert.hpp"

namespace moneta::resilience {

using core::Errc;
using core::make_error;

core::Result<void> BulkheadConfig::validate() const noexcept {
    if (max_active == 0) {
        return make_error(Errc::kInvalidArgument);
    }
    return {};
}

// ---- Permit ----

Permit::Permit(Permit&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), abandoned_(std::exchange(other.abandoned_, false)) {}

Permit& Permit::operator=(Permit&& other) noexcept {
    if (this != &other) {
        release();
        owner_ = std::exchange(other.owner_, nullptr);
        abandoned_ = std::exchange(other.abandoned_, false);
    }
    return *this;
}

Permit::~Permit() { release(); }

void Permit::release() noexcept {
    Bulkhead* owner = std::exchange(owner_, nullptr);
    if (owner == nullptr) {
        return;
    }
    owner->release(std::exchange(abandoned_, false));
}

bool Permit::abandon() noexcept {
    if (owner_ == nullptr || abandoned_) {
        return false;
    }
    abandoned_ = owner_->try_abandon();
    return abandoned_;
}

// ---- Ticket ----

Ticket::Ticket(Ticket&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), id_(std::exchange(other.id_, 0)) {}

Ticket& Ticket::operator=(Ticket&& other) noexcept {
    if (this != &other) {
        cancel();
        owner_ = std::exchange(other.owner_, nullptr);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

Ticket::~Ticket() { cancel(); }

bool Ticket::cancel() noexcept {
    Bulkhead* owner = std::exchange(owner_, nullptr);
    return owner != nullptr && owner->cancel_waiter(id_);
}

// ---- Bulkhead ----

Bulkhead::Bulkhead(const core::Clock& clock, BulkheadConfig config) noexcept
    : clock_(clock), config_(config) {}

Bulkhead::~Bulkhead() {
    // Permits and Tickets hold a raw pointer back to us; outliving the bulkhead is a bug.
    MONETA_ASSERT(active_ == 0 && abandoned_ == 0, "Bulkhead destroyed with permits outstanding");
}

bool Bulkhead::abandoned_budget_left_locked() const noexcept {
    // With max_abandoned == 0 nothing can ever be abandoned, so the budget never gates admission.
    return config_.max_abandoned == 0 || abandoned_ < config_.max_abandoned;
}

bool Bulkhead::admissible_locked() const noexcept {
    return active_ < config_.max_active && abandoned_budget_left_locked();
}

core::Result<Permit> Bulkhead::try_acquire() noexcept {
    std::lock_guard lock(mu_);
    if (!waiters_.empty() || !admissible_locked()) {
        ++counters_.rejected_total;
        return make_error(Errc::kOverloaded);
    }
    ++active_;
    ++counters_.admitted_total;
    return Permit(this);
}

core::Result<Ticket> Bulkhead::enqueue(core::SteadyTime deadline, WaiterCallback callback) {
    Deliveries out;
    core::Result<Ticket> result = Ticket{};
    if (!callback) {
        return make_error(Errc::kInvalidArgument);
    }
    {
        std::lock_guard lock(mu_);
        if (deadline <= clock_.steady_now()) {
            ++counters_.expired_total;
            return make_error(Errc::kDeadlineExceeded);
        }
        if (waiters_.empty() && admissible_locked()) {
            ++active_;
            ++counters_.admitted_total;
            out.push_back(Delivery{std::move(callback), true});
        } else if (waiters_.size() >= config_.max_waiters || !abandoned_budget_left_locked()) {
            ++counters_.rejected_total;
            return make_error(Errc::kOverloaded);
        } else {
            const std::uint64_t id = next_id_++;
            waiters_.emplace(id, Waiter{deadline, std::move(callback)});
            result = Ticket(this, id);
        }
    }
    deliver(out);
    return result;
}

std::size_t Bulkhead::expire() noexcept {
    Deliveries out;
    {
        std::lock_guard lock(mu_);
        const auto now = clock_.steady_now();
        for (auto it = waiters_.begin(); it != waiters_.end();) {
            if (it->second.deadline <= now) {
                out.push_back(Delivery{std::move(it->second.callback), false});
                ++counters_.expired_total;
                it = waiters_.erase(it);
            } else {
                ++it;
            }
        }
    }
    const std::size_t n = out.size();
    deliver(out);
    return n;
}

std::optional<core::SteadyTime> Bulkhead::next_deadline() const noexcept {
    std::lock_guard lock(mu_);
    std::optional<core::SteadyTime> earliest;
    for (const auto& [id, w] : waiters_) {
        if (!earliest || w.deadline < *earliest) {
            earliest = w.deadline;
        }
    }
    return earliest;
}

BulkheadStats Bulkhead::stats() const noexcept {
    std::lock_guard lock(mu_);
    BulkheadStats s = counters_;
    s.active = active_;
    s.abandoned = abandoned_;
    s.waiting = static_cast<std::uint32_t>(waiters_.size());
    return s;
}

void Bulkhead::dispatch_locked(Deliveries& out) {
    // Hand free slots to the oldest waiters; waiters already past their deadline are failed
    // instead (a caller who gave up must not get a slot it will never use).
    const auto now = clock_.steady_now();
    while (!waiters_.empty()) {
        auto it = waiters_.begin();
        if (it->second.deadline <= now) {
            out.push_back(Delivery{std::move(it->second.callback), false});
            ++counters_.expired_total;
            waiters_.erase(it);
            continue;
        }
        if (!admissible_locked()) {
            break;
        }
        ++active_;
        ++counters_.admitted_total;
        out.push_back(Delivery{std::move(it->second.callback), true});
        waiters_.erase(it);
    }
}

void Bulkhead::deliver(Deliveries& out) noexcept {
    for (auto& d : out) {
        if (d.granted) {
            d.callback(Permit(this));
        } else {
            d.callback(make_error(Errc::kDeadlineExceeded));
        }
    }
}

void Bulkhead::release(bool abandoned) noexcept {
    Deliveries out;
    {
        std::lock_guard lock(mu_);
        std::uint32_t& count = abandoned ? abandoned_ : active_;
        MONETA_ASSERT(count > 0, "permit count underflow");
        --count;
        dispatch_locked(out);
    }
    deliver(out);
}

bool Bulkhead::try_abandon() noexcept {
    Deliveries out;
    {
        std::lock_guard lock(mu_);
        if (abandoned_ >= config_.max_abandoned) {
            return false;
        }
        --active_;
        ++abandoned_;
        ++counters_.abandoned_total;
        dispatch_locked(out);
    }
    deliver(out);
    return true;
}

bool Bulkhead::cancel_waiter(std::uint64_t id) noexcept {
    std::lock_guard lock(mu_);
    return waiters_.erase(id) > 0;
}

}  // namespace moneta::resilience
