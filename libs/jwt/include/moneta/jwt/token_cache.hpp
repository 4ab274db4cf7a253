/// @file moneta/jwt/token_cache.hpp
/// @brief A worker's memory of the tokens it verified: each distinct token is verified (base64,
/// JSON, signature, claims) once, and a later request with the same bytes only re-checks the
/// time rules. Bounded in entries and bytes; nothing is shared between workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "moneta/jwt/claims.hpp"
#include "moneta/jwt/verifier.hpp"

namespace moneta::jwt {

struct TokenCacheConfig {
    /// Slots (rounded up to a power of two); 0 turns the cache off (every token verified).
    std::size_t max_entries = 8192;
    /// Bytes held by the entries (~1.1 KiB each for a 300-byte token: inline claims, the token
    /// bytes, heap parts of long claims); a token that would pass it is verified, not remembered.
    std::size_t max_bytes = 12 * 1024 * 1024;
    /// Longer tokens are verified every time (a typical HS256 token is 200-400 bytes).
    std::size_t max_token_bytes = 2048;
};

/// Direct-mapped: a token's slot is its hash; a new token takes the slot over. The key is the
/// token's full bytes (compared on every hit, so a token altered in one byte never hits), the
/// value the claims it verified to. Only tokens that verified are remembered, so input that
/// fails costs what it cost without a cache and cannot displace anything.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread).
class TokenCache {
public:
    /// @param verifier outlives the cache (shared by every worker: it is immutable).
    explicit TokenCache(const Verifier& verifier, TokenCacheConfig config = {});
    ~TokenCache();
    TokenCache(const TokenCache&) = delete;
    TokenCache& operator=(const TokenCache&) = delete;

    /// Verifier::verify with memory: the claims of @p token at @p now_ms (exp, nbf and iat
    /// re-checked against @p now_ms on a hit), or why not.
    /// @return a pointer valid until the next call on this cache (copy what you keep).
    std::variant<const Claims*, Failure> verify(std::string_view token, std::int64_t now_ms);

    struct Stats {
        std::uint64_t hits = 0;
        std::uint64_t misses = 0;       ///< verified in full (including those that failed)
        std::uint64_t evictions = 0;    ///< a good entry replaced by another token
        std::uint64_t not_cached = 0;   ///< verified but too long / over the byte budget
    };
    const Stats& stats() const noexcept { return stats_; }
    std::size_t entries() const noexcept { return entries_; }
    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t capacity() const noexcept { return slots_.size(); }

private:
    struct Entry {
        std::uint64_t hash = 0;
        std::string token;
        Claims claims;
    };
    static std::size_t footprint(const Entry& e) noexcept;

    const Verifier& verifier_;
    TokenCacheConfig config_;
    std::vector<std::unique_ptr<Entry>> slots_;  ///< allocated on first use of a slot
    std::size_t mask_ = 0;
    std::size_t entries_ = 0;
    std::size_t bytes_ = 0;
    Claims scratch_;  ///< a token verified but not remembered
    Stats stats_;
};

}  // namespace moneta::jwt
