/// @file services/moneta/src/handlers/rate_limit.hpp
/// @brief Per-account fixed-window request limits (starts; progress routes), counted in Redis by
/// commands added to the request's FIRST pipeline (usecases::StoreCatalogReader::
/// async_read_admission): no extra round trip, and judged before any internal-API call is made
/// on the request's behalf (CatalogCache::async_read / async_fill).
/// The key is the account from the verified token, never an address: viewers behind one CDN
/// edge or NAT do not share a budget, and one account cannot spend another's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/redis/pipeline.hpp"
#include "moneta/redis/reply.hpp"
#include "store/keys.hpp"

namespace moneta::handlers {

class AccountRateLimit {
public:
    static constexpr std::int64_t kWindowMs = 60'000;

    enum class Kind : std::uint8_t { kStart, kProgress };  ///< rl: / rlp: keys (store/keys.hpp)

    /// @param per_min 0 = off.
    constexpr AccountRateLimit(Kind kind, int per_min) noexcept : kind_(kind), per_min_(per_min) {}

    bool enabled() const noexcept { return per_min_ > 0; }

    /// Appends `INCR key` + `PEXPIRE key 2×window` of the current window to @p p (nothing when
    /// off). @p window_text must outlive the pipeline's use (the key is a view into @p kb).
    void add_to(redis::Pipeline& p, store::KeyBuffer& kb, std::string_view account_id, std::int64_t now_ms,
                std::string& window_text) const;

    /// Retry-After seconds (until the window ends) when the INCR reply at @p extra[index] is over
    /// the limit; nullopt when allowed, when off, or when Redis did not answer (fail open: a
    /// counter outage must not stop playback).
    std::optional<int> exceeded(const redis::Replies& extra, std::size_t index,
                                std::int64_t now_ms) const noexcept;

private:
    Kind kind_;
    int per_min_;
};

}  // namespace moneta::handlers
