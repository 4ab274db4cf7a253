#include "moneta/trace/recorder.hpp"

#include <cstring>

namespace moneta::trace {

Recorder::Recorder(SpanRing* ring, const Sampler& sampler, const core::Clock& clock)
    : ring_(ring),
      sampler_(sampler),
      clock_(clock),
      anchor_unix_ns_(clock.wall_ms() * 1'000'000),
      anchor_steady_(clock.steady_now()),
      pending_(ring != nullptr ? std::make_unique<std::array<Pending, kPending>>() : nullptr) {}

std::uint64_t Recorder::key_of(const std::array<std::uint8_t, 8>& id) noexcept {
    std::uint64_t k = 0;
    std::memcpy(&k, id.data(), sizeof(k));
    return k;
}

void Recorder::add_client(const SpanRecord& s) noexcept {
    if (ring_ == nullptr) {
        return;
    }
    if ((s.flags & 1U) != 0) {
        (void)ring_->try_push(s);  // a full ring counts the drop
        return;
    }
    const std::uint64_t key = key_of(s.parent_span_id);
    if (key == 0) {
        return;
    }
    std::size_t slot = kPending;
    std::size_t free_slot = kPending;
    std::size_t oldest = 0;
    for (std::size_t i = 0; i < kPending; ++i) {
        if (keys_[i] == key) {
            slot = i;
            break;
        }
        if (keys_[i] == 0 && free_slot == kPending) {
            free_slot = i;
        }
        if (ages_[i] < ages_[oldest]) {
            oldest = i;
        }
    }
    if (slot == kPending) {
        if (free_slot == kPending) {
            // Every slot holds a live request (or one that never finished: a dropped
            // connection): evict the oldest.
            bump(overflowed_, (*pending_)[oldest].count);
            free_slot = oldest;
        }
        slot = free_slot;
        keys_[slot] = key;
        ages_[slot] = ++clock_tick_;
        (*pending_)[slot].count = 0;
    }
    Pending& p = (*pending_)[slot];
    if (p.count == kMaxChildren) {
        bump(overflowed_);
        return;
    }
    p.spans[p.count++] = s;
}

bool Recorder::finish_server(const SpanRecord& server, core::Duration duration) noexcept {
    if (ring_ == nullptr) {
        return false;
    }
    const bool head = (server.flags & 1U) != 0;
    const bool keep = sampler_.keep(head, server.http_status, duration);
    if (!head) {
        // Unsampled at the head: its client spans (if any) wait in the table.
        const std::uint64_t key = key_of(server.span_id);
        for (std::size_t i = 0; i < kPending; ++i) {
            if (keys_[i] != key) {
                continue;
            }
            Pending& p = (*pending_)[i];
            if (keep) {
                for (std::uint8_t c = 0; c < p.count; ++c) {
                    (void)ring_->try_push(p.spans[c]);
                }
            }
            keys_[i] = 0;
            ages_[i] = 0;
            p.count = 0;
            break;
        }
    }
    if (!keep) {
        return false;
    }
    (void)ring_->try_push(server);
    bump(kept_);
    return true;
}

}  // namespace moneta::trace
