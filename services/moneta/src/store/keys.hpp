/// @file services/moneta/src/store/keys.hpp
/// @brief Redis key names (docs/data.md). Built into a caller-owned buffer: no heap allocation
/// per request for keys.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace moneta::store {

/// Up to eight keys written back to back into one fixed buffer. Ids are ≤ 64 chars (validated
/// before they get here), so 8 × 96 bytes always fits.
class KeyBuffer {
public:
    /// Appends prefix + "{" + tag + id + "}" + suffix and returns a view of it.
    std::string_view add(std::string_view prefix, std::string_view tag, std::string_view id,
                         std::string_view suffix = {}) noexcept;
    std::string_view operator[](std::size_t i) const noexcept { return keys_[i]; }
    std::size_t size() const noexcept { return count_; }
    const std::string_view* data() const noexcept { return keys_.data(); }

private:
    std::array<char, 8 * 96> buf_{};
    std::array<std::string_view, 8> keys_{};
    std::size_t used_ = 0;
    std::size_t count_ = 0;
};

/// The four lease keys of one account, in the order the lease scripts expect (KEYS[1..4]).
void lease_keys(KeyBuffer& kb, std::string_view account_id) noexcept;

/// `ent:{a:<id>}`: the cached account (entitlement) JSON.
std::string_view account_key(KeyBuffer& kb, std::string_view account_id) noexcept;
/// `content:{c:<id>}`: the cached content JSON.
std::string_view content_key(KeyBuffer& kb, std::string_view content_id) noexcept;
/// `content:nf:{c:<id>}`: negative cache for a content the internal API does not know.
std::string_view content_missing_key(KeyBuffer& kb, std::string_view content_id) noexcept;

}  // namespace moneta::store
