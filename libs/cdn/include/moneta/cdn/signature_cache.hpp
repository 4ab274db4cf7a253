/// @file moneta/cdn/signature_cache.hpp
/// @brief Bounded cache of signed values keyed by (resource, expiry), one per worker thread.
///
/// Signed URLs and cookies do not depend on the user, so everyone who asks for the same resource
/// in the same expiry bucket (see delivery.hpp) gets the same signed value. An RSA signature costs
/// about a millisecond; a hit costs a hash lookup and a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace moneta::cdn {

/// NOTE: eviction is FIFO (insertion order), not LRU: within one bucket every entry was signed
/// for the same expiry, so the oldest insertion is as good a victim as any, and FIFO needs no
/// bookkeeping on hits. Inserting a later expiry first drops every entry of earlier buckets,
/// because requests always compute the current bucket's expiry and would never ask for them.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe. The service is thread-per-core: each worker
/// thread owns its own cache, so there are no locks or atomics here, and the hit/miss counters
/// are plain integers read by that same thread.
template <class Value>
class SignatureCache {
public:
    /// @param max_entries upper bound on entries held (0 is treated as 1).
    explicit SignatureCache(std::size_t max_entries)
        : max_entries_(max_entries == 0 ? 1 : max_entries) {}

    SignatureCache(const SignatureCache&) = delete;
    SignatureCache& operator=(const SignatureCache&) = delete;

    /// @return the value cached for (resource, expires_s), or nullptr. Counts a hit or a miss.
    const Value* find(std::string_view resource, std::int64_t expires_s) {
        const auto it = map_.find(KeyView{resource, expires_s});
        if (it == map_.end()) {
            ++misses_;
            return nullptr;
        }
        ++hits_;
        return &it->second;
    }

    /// Stores @p value (replacing an existing one for the same key) and returns it.
    const Value& insert(std::string_view resource, std::int64_t expires_s, Value value) {
        const auto existing = map_.find(KeyView{resource, expires_s});
        if (existing != map_.end()) {
            existing->second = std::move(value);
            return existing->second;
        }
        while (!order_.empty() &&
               (order_.front()->expires_s < expires_s || map_.size() >= max_entries_)) {
            const auto victim =
                map_.find(KeyView{order_.front()->resource, order_.front()->expires_s});
            order_.pop_front();
            map_.erase(victim);
        }
        const auto it = map_.emplace(Key{std::string(resource), expires_s}, std::move(value)).first;
        order_.push_back(&it->first);  // node-based map: the key's address is stable
        return it->second;
    }

    std::uint64_t hits() const noexcept { return hits_; }
    std::uint64_t misses() const noexcept { return misses_; }
    std::size_t size() const noexcept { return map_.size(); }
    std::size_t max_entries() const noexcept { return max_entries_; }

private:
    struct Key {
        std::string resource;
        std::int64_t expires_s = 0;
    };
    struct KeyView {
        std::string_view resource;
        std::int64_t expires_s = 0;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(const Key& k) const noexcept {
            return (*this)(KeyView{k.resource, k.expires_s});
        }
        std::size_t operator()(const KeyView& k) const noexcept {
            const std::size_t h = std::hash<std::string_view>{}(k.resource);
            return h ^ (static_cast<std::size_t>(k.expires_s) * 0x9E3779B97F4A7C15ULL);
        }
    };
    struct Equal {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            return a.expires_s == b.expires_s &&
                   std::string_view(a.resource) == std::string_view(b.resource);
        }
    };

    std::unordered_map<Key, Value, Hash, Equal> map_;
    std::deque<const Key*> order_;  // insertion order, oldest first
    std::size_t max_entries_;
    std::uint64_t hits_ = 0;
    std::uint64_t misses_ = 0;
};

}  // namespace moneta::cdn
