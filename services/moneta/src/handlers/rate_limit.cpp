#include "handlers/rate_limit.hpp"

namespace moneta::handlers {

void AccountRateLimit::add_to(redis::Pipeline& p, store::KeyBuffer& kb, std::string_view account_id,
                              std::int64_t now_ms, std::string& window_text) const {
    if (!enabled()) {
        return;
    }
    window_text = std::to_string(now_ms / kWindowMs);
    const std::string_view key = kind_ == Kind::kStart ? store::rate_key(kb, account_id, window_text)
                                                       : store::progress_rate_key(kb, account_id, window_text);
    p.add({"INCR", key}).add({"PEXPIRE", key, "120000"});
}

std::optional<int> AccountRateLimit::exceeded(const redis::Replies& extra, std::size_t index,
                                              std::int64_t now_ms) const noexcept {
    if (!enabled() || index >= extra.size() || extra[index].to_int64().value_or(0) <= per_min_) {
        return std::nullopt;
    }
    return static_cast<int>((kWindowMs - now_ms % kWindowMs + 999) / 1000);
}

}  // namespace moneta::handlers
