#include "moneta/log/access_ring.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace moneta::log {
namespace {

/// Copies at most @p max bytes of @p s to @p dst; returns the count.
std::uint16_t put(char* dst, std::string_view s, std::size_t max) noexcept {
    const std::size_t n = std::min(s.size(), max);
    std::memcpy(dst, s.data(), n);
    return static_cast<std::uint16_t>(n);
}

}  // namespace

AccessRing::AccessRing(std::size_t capacity, std::atomic<bool>* wake, std::condition_variable* cv)
    : mask_(std::bit_ceil(std::max<std::size_t>(capacity, 2)) - 1), wake_(wake), cv_(cv) {
    slots_ = std::make_unique<AccessSlot[]>(mask_ + 1);
}

bool AccessRing::try_push(const AccessEntry& e) noexcept {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ > mask_) {
        tail_cache_ = tail_.load(std::memory_order_acquire);  // only read tail_ when it looks full
        if (head - tail_cache_ > mask_) {
            // Single writer: a plain load + store is enough and costs no locked instruction.
            dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            return false;
        }
    }
    AccessSlot& s = slots_[head & mask_];
    s.wall_ms = e.wall_ms;
    s.duration_ns = e.duration_ns;
    s.response_bytes = e.response_bytes;
    s.status = e.status;
    s.route = e.route.data();
    s.route_len = static_cast<std::uint16_t>(std::min<std::size_t>(e.route.size(), 0xFFFF));
    s.has_context = e.context != nullptr;
    char* p = s.text;
    if (e.context != nullptr) {
        s.trace_id = e.context->trace.trace_id;
        s.span_id = e.context->trace.span_id;
        s.request_id_len = put(p, e.context->request_id, AccessSlot::kMaxRequestId);
    } else {
        s.request_id_len = 0;
    }
    p += s.request_id_len;
    s.method_len = put(p, e.method, AccessSlot::kMaxMethod);
    p += s.method_len;
    s.ip_len = put(p, e.remote_ip, AccessSlot::kMaxIp);
    p += s.ip_len;
    s.user_agent_len = put(p, e.user_agent, AccessSlot::kMaxUserAgent);
    p += s.user_agent_len;
    s.path_len = put(p, e.path, static_cast<std::size_t>(s.text + AccessSlot::kTextBytes - p));
    head_.store(head + 1, std::memory_order_release);
    // Wake the consumer early when the ring is really half full. The cached tail only ever
    // overstates the fill, so it is re-read (one acquire load) only when it says "half": at
    // most once per half a ring of records, never per record.
    const std::uint64_t half = (mask_ + 1) / 2;
    if (wake_ != nullptr && head + 1 - tail_cache_ == half) {
        tail_cache_ = tail_.load(std::memory_order_acquire);
        if (head + 1 - tail_cache_ >= half) {
            wake_->store(true, std::memory_order_relaxed);
            cv_->notify_one();
        }
    }
    return true;
}

}  // namespace moneta::log
