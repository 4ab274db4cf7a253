/// @file services/moneta/src/domain/cache_envelope.hpp
/// @brief How a cached internal-API document is stored in Redis: "<fetched_at_ms>|<json>".
/// The fetch time travels with the value so a soft TTL (refresh) and a hard staleness bound can
/// be judged at read time, independently of the key's Redis TTL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moneta::domain {

struct CachedDocument {
    std::int64_t fetched_at_ms = 0;
    std::string_view json;  ///< view into the stored value
};

std::string encode_cached(std::int64_t fetched_at_ms, std::string_view json);

/// nullopt for anything not produced by encode_cached (treated as a miss).
std::optional<CachedDocument> decode_cached(std::string_view stored) noexcept;

}  // namespace moneta::domain
