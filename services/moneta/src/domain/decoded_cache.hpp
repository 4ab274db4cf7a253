/// @file services/moneta/src/domain/decoded_cache.hpp
/// @brief A worker's decoded catalog documents, keyed by id and by the exact cached value they
/// were decoded from, so a warm start does not parse the same account or content JSON again
/// (docs/data.md "Decoded documents"). When the value in Redis changes (a refresh writes a new
/// fetched_at and body), the bytes differ and the next read decodes the new value: there is no
/// invalidation to get wrong.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/result.hpp"

namespace moneta::domain {

struct DecodedCacheLimits {
    std::size_t max_entries = 4096;            ///< slots (a power of two); 0 = off
    std::size_t max_bytes = 16 * 1024 * 1024;  ///< estimated bytes held (see footprint)
    std::size_t max_value_bytes = 64 * 1024;   ///< larger values are decoded every time
};

/// Two-way set associative by the id's hash: an id lives in one of a pair of slots, and a new id
/// takes over the one of the pair used least recently. (Direct-mapped, two hot ids hashing to
/// one slot evicted each other on every read: with 1,000 titles in 4,096 slots about one title
/// in five shared its slot with another.) A hit compares the id and the whole stored value (the envelope
/// with its fetched_at, then the JSON) byte for byte and hands out a shared_ptr: no parse, no
/// allocation. Objects handed out stay valid as long as their holder keeps them, even when the
/// slot is reused.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread).
template <typename T>
class DecodedCache {
public:
    using Decode = core::Result<T> (*)(std::string_view json);
    using Ptr = std::shared_ptr<const T>;

    DecodedCache(Decode decode, DecodedCacheLimits limits) : decode_(decode), limits_(limits) {
        if (limits_.max_entries > 0) {
            std::size_t n = 2;  // whole pairs
            while (n < limits_.max_entries) {
                n *= 2;
            }
            slots_.resize(n);
        }
    }

    /// The object @p json decodes to, where @p stored is the whole cached value holding it (the
    /// identity compared on a hit). nullptr when @p json does not decode (never cached).
    Ptr get(std::string_view id, std::string_view stored, std::string_view json) {
        Slot* slot = find(id);
        if (slot != nullptr && slot->value && slot->id == id && slot->stored.size() == stored.size() &&
            std::memcmp(slot->stored.data(), stored.data(), stored.size()) == 0) {
            ++hits_;
            slot->used = ++uses_;
            return slot->value;
        }
        ++misses_;
        auto decoded = decode_(json);
        if (!decoded) {
            return nullptr;
        }
        Ptr value = std::make_shared<const T>(std::move(*decoded));
        put(slot, id, stored, value);
        return value;
    }

    /// Remembers an object decoded elsewhere (the miss path that fetched and wrote @p stored).
    void put(std::string_view id, std::string_view stored, Ptr value) { put(find(id), id, stored, std::move(value)); }

    std::uint64_t hits() const noexcept { return hits_; }
    std::uint64_t misses() const noexcept { return misses_; }
    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t entries() const noexcept { return entries_; }

private:
    struct Slot {
        std::string id;
        std::string stored;
        Ptr value;
        std::uint64_t used = 0;  ///< uses_ at its last hit or fill: the pair's older one goes first
    };

    /// The slot of the id's pair that holds @p id, else the one to fill: an empty one, else the
    /// one used least recently. nullptr when the cache is off.
    Slot* find(std::string_view id) noexcept {
        if (slots_.empty()) {
            return nullptr;
        }
        Slot* a = &slots_[std::hash<std::string_view>{}(id) & (slots_.size() - 1) & ~std::size_t{1}];
        Slot* b = a + 1;
        if (a->value && a->id == id) {
            return a;
        }
        if (b->value && b->id == id) {
            return b;
        }
        if (!a->value) {
            return a;
        }
        if (!b->value) {
            return b;
        }
        return a->used <= b->used ? a : b;
    }

    /// An estimate: the value's bytes twice (the decoded object holds about what its JSON says).
    static std::size_t footprint(std::size_t id_bytes, std::size_t stored_bytes) noexcept {
        return sizeof(T) + id_bytes + 3 * stored_bytes;
    }

    void put(Slot* slot, std::string_view id, std::string_view stored, Ptr value) {
        if (slot == nullptr || !value || stored.size() > limits_.max_value_bytes) {
            return;
        }
        const std::size_t before = slot->value ? footprint(slot->id.capacity(), slot->stored.capacity()) : 0;
        const std::size_t after = footprint(std::max(id.size(), slot->id.capacity()),
                                            std::max(stored.size(), slot->stored.capacity()));
        if (bytes_ - before + after > limits_.max_bytes) {
            return;  // over the budget: decoded, served, not kept
        }
        if (!slot->value) {
            ++entries_;
        }
        slot->id.assign(id.data(), id.size());
        slot->stored.assign(stored.data(), stored.size());
        slot->value = std::move(value);
        slot->used = ++uses_;
        bytes_ = bytes_ - before + footprint(slot->id.capacity(), slot->stored.capacity());
    }

    Decode decode_;
    DecodedCacheLimits limits_;
    std::vector<Slot> slots_;
    std::size_t bytes_ = 0;
    std::size_t entries_ = 0;
    std::uint64_t uses_ = 0;
    std::uint64_t hits_ = 0;
    std::uint64_t misses_ = 0;
};

}  // namespace moneta::domain
