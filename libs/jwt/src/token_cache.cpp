#include "moneta/jwt/token_cache.hpp"

#include <cstring>
#include <algorithm>
#include <functional>

namespace moneta::jwt {

TokenCache::TokenCache(const Verifier& verifier, TokenCacheConfig config) : verifier_(verifier), config_(config) {
    if (config_.max_entries > 0) {
        std::size_t n = 1;
        while (n < config_.max_entries) {
            n *= 2;
        }
        slots_.resize(n);
        mask_ = n - 1;
    }
}

TokenCache::~TokenCache() = default;

std::size_t TokenCache::footprint(const Entry& e) noexcept {
    return sizeof(Entry) + e.token.capacity() + e.claims.heap_bytes();
}

std::variant<const Claims*, Failure> TokenCache::verify(std::string_view token, std::int64_t now_ms) {
    const bool cacheable = !slots_.empty() && token.size() <= config_.max_token_bytes;
    const std::uint64_t hash = cacheable ? std::hash<std::string_view>{}(token) : 0;
    std::unique_ptr<Entry>* slot = cacheable ? &slots_[hash & mask_] : nullptr;
    if (slot != nullptr && *slot != nullptr && (*slot)->hash == hash && (*slot)->token.size() == token.size() &&
        std::memcmp((*slot)->token.data(), token.data(), token.size()) == 0) {
        ++stats_.hits;
        if (auto failure = verifier_.check_time((*slot)->claims, now_ms)) {
            if (*failure == Failure::kExpired) {  // never good again: give the slot back
                bytes_ -= footprint(**slot);
                --entries_;
                slot->reset();
            }
            return *failure;
        }
        return &(*slot)->claims;
    }
    ++stats_.misses;
    if (auto failure = verifier_.verify_into(token, now_ms, scratch_)) {
        return *failure;  // failures are not remembered: they displace nothing
    }
    if (slot == nullptr) {
        ++stats_.not_cached;
        return &scratch_;
    }
    Entry* e = slot->get();
    const std::size_t before = e != nullptr ? footprint(*e) : 0;
    // Worst case after the write: the token may need a larger buffer, and claims longer than
    // their inline storage (they come from the token) as much again.
    const std::size_t after_bound = sizeof(Entry) + std::max(token.size(), e != nullptr ? e->token.capacity() : 0) +
                                    scratch_.heap_bytes() + (e != nullptr ? e->claims.heap_bytes() : 0);
    if (bytes_ - before + after_bound > config_.max_bytes) {
        ++stats_.not_cached;
        return &scratch_;
    }
    if (e == nullptr) {
        *slot = std::make_unique<Entry>();
        e = slot->get();
        ++entries_;
    } else {
        ++stats_.evictions;
    }
    e->hash = hash;
    e->token.assign(token.data(), token.size());
    e->claims = scratch_;
    bytes_ = bytes_ - before + footprint(*e);
    return &e->claims;
}

}  // namespace moneta::jwt
