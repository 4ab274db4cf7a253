/// @file moneta/jwt/token_cache.hpp
/// @brief A worker's memory of the tokens it verified: each distinct token is verified (base64,
/// JSON, signature, claims) once, and a later request with the same bytes only re-checks the
/// time rules. Bounded in entries, and so in bytes; nothing is shared between workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include "moneta/jwt/claims.hpp"
#include "moneta/jwt/verifier.hpp"

namespace moneta::jwt {

struct TokenCacheConfig {
    /// Entries (rounded up to a power of two); 0 turns the cache off (every token verified).
    /// Each costs TokenCache::kEntryBytes + 8 bytes, allocated once at construction (pages are
    /// touched as entries fill).
    std::size_t max_entries = 8192;
    /// A second bound on the same memory: fewer entries when entries × (kEntryBytes + 8) would
    /// pass it; below one entry the cache is off.
    std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
    /// Longer tokens are verified every time (a typical HS256 token is 200-400 bytes). A token
    /// whose bytes and string claims do not fit one entry is verified every time too.
    std::size_t max_token_bytes = 2048;
};

/// Two-choice set-associative: a token may live in one of kWays entries of either of two sets
/// (picked from its hash) and goes to the emptier one, so a cache 3/4 full still keeps nearly
/// every token (a direct-mapped one loses ~40 % of them to collisions). The key is the token's
/// full bytes (compared on every hit, so a token altered in one byte never hits), the value the
/// claims it verified to, stored in fixed-size entries of one arena: neither a hit nor a miss
/// allocates. Only tokens that verified are remembered, so input that fails costs what it cost
/// without a cache and cannot displace anything.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker thread).
class TokenCache {
public:
    static constexpr std::size_t kWays = 8;
    /// One entry: a small header, the token's bytes and its string claims.
    static constexpr std::size_t kEntryBytes = 512;

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
        std::uint64_t not_cached = 0;   ///< verified but too long for an entry / cache off
    };
    const Stats& stats() const noexcept { return stats_; }
    std::size_t entries() const noexcept { return entries_; }
    /// Bytes of the entries in use (the arena is capacity() × kEntryBytes, touched as it fills).
    std::size_t bytes() const noexcept { return entries_ * (kEntryBytes + sizeof(std::uint64_t)); }
    std::size_t capacity() const noexcept { return tags_.size(); }

private:
    std::size_t find(std::uint64_t tag, std::string_view token, std::size_t set) const noexcept;
    std::size_t pick_slot(std::size_t set_a, std::size_t set_b) noexcept;
    bool store(std::size_t slot, std::string_view token, const Claims& c) noexcept;
    void load(std::size_t slot, Claims& c) const;
    char* entry(std::size_t slot) const noexcept { return arena_.get() + slot * kEntryBytes; }

    const Verifier& verifier_;
    TokenCacheConfig config_;
    std::vector<std::uint64_t> tags_;  ///< the token's hash per slot (never 0); 0: empty
    std::unique_ptr<char[]> arena_;    ///< capacity() × kEntryBytes, not zeroed
    std::size_t ways_ = 0;
    std::size_t set_mask_ = 0;
    std::size_t entries_ = 0;
    std::uint64_t victim_state_ = 0x9E3779B97F4A7C15ULL;  ///< xorshift: which way a full set gives up
    Claims scratch_;  ///< the claims handed out (a hit copies its entry here)
    Stats stats_;
};

}  // namespace moneta::jwt
