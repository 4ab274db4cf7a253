#pragma once

// FIFO of unanswered requests for the redis client: a growable ring buffer addressed by
// sequence numbers. std::deque would also keep references stable, but allocates a node every
// few dozen entries in steady state; this allocates only when the backlog reaches a new high.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "moneta/core/assert.hpp"
#include "moneta/core/clock.hpp"

namespace moneta::redis {

struct Waiter;

/// One FIFO entry: a command or a whole pipeline that is sent (or about to be) and unanswered.
struct PendingSlot {
    Waiter* waiter = nullptr;     ///< null once the caller gave up: its replies are discarded
    std::uint32_t remaining = 0;  ///< replies still expected
    core::SteadyTime sent_at;
};

class PendingQueue {
public:
    /// @return the sequence number of the new entry (never reused).
    std::uint64_t push(const PendingSlot& slot) {
        if (size_ == ring_.size()) {
            grow();
        }
        ring_[(head_ + size_) & (ring_.size() - 1)] = slot;
        ++size_;
        return front_seq_ + size_ - 1;
    }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    PendingSlot& front() noexcept {
        MONETA_ASSERT(size_ > 0, "front() of an empty queue");
        return ring_[head_];
    }
    const PendingSlot& front() const noexcept {
        MONETA_ASSERT(size_ > 0, "front() of an empty queue");
        return ring_[head_];
    }
    void pop_front() noexcept {
        MONETA_ASSERT(size_ > 0, "pop_front() of an empty queue");
        head_ = (head_ + 1) & (ring_.size() - 1);
        --size_;
        ++front_seq_;
    }
    /// The @p i-th entry from the front (0 = front()).
    PendingSlot& at(std::size_t i) noexcept {
        MONETA_ASSERT(i < size_, "at() past the end of the queue");
        return ring_[(head_ + i) & (ring_.size() - 1)];
    }
    /// The entry with sequence number @p seq, or nullptr when it has left the queue.
    PendingSlot* find(std::uint64_t seq) noexcept {
        if (seq < front_seq_ || seq - front_seq_ >= size_) {
            return nullptr;
        }
        return &ring_[(head_ + (seq - front_seq_)) & (ring_.size() - 1)];
    }
    template <class F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < size_; ++i) {
            f(ring_[(head_ + i) & (ring_.size() - 1)]);
        }
    }
    /// Drops every entry; sequence numbers keep increasing, so stale ones never match again.
    void clear() noexcept {
        front_seq_ += size_;
        head_ = 0;
        size_ = 0;
    }

private:
    void grow() {
        std::vector<PendingSlot> bigger(ring_.empty() ? 64 : ring_.size() * 2);  // power of two
        for (std::size_t i = 0; i < size_; ++i) {
            bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
        }
        ring_ = std::move(bigger);
        head_ = 0;
    }

    std::vector<PendingSlot> ring_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    std::uint64_t front_seq_ = 0;
};

}  // namespace moneta::redis
