#include "moneta/jwt/token_cache.hpp"

#include <cstdint>
#include <cstring>
#include <functional>

namespace moneta::jwt {
namespace {

constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);
constexpr std::size_t kStrings = 7;  // sub, pid, iss, jti, kid, aud[0], aud[1]

/// An entry's fixed part; the token's bytes and then the string claims follow it.
struct Head {
    std::int64_t exp_s;
    std::int64_t nbf_s;
    std::int64_t iat_s;
    std::uint16_t token_len;
    std::uint8_t lens[kStrings];
    std::uint8_t flags;  // kHasNbf | kHasIat | aud count << 2
};
constexpr std::uint8_t kHasNbf = 1;
constexpr std::uint8_t kHasIat = 2;
constexpr std::size_t kPayload = TokenCache::kEntryBytes - sizeof(Head);

std::size_t round_up_pow2(std::size_t n) noexcept {
    std::size_t p = 1;
    while (p < n) {
        p *= 2;
    }
    return p;
}

/// Where a token lives in the cache, from its last 16 bytes: a JWT ends in its signature, which
/// for every token the cache holds (only verified ones are stored) is a MAC or signature output,
/// as evenly spread as any hash of the whole token, and two distinct verified tokens never share
/// it. std::hash over all ~300 bytes cost ~400 instructions per request. Lookups of made-up
/// tokens that copy a cached token's tail land in its sets and are told apart by the full-byte
/// compare (find()), like any collision; they are never stored, so they displace nothing.
std::uint64_t token_hash(std::string_view token) noexcept {
    if (token.size() < 16) {
        return std::hash<std::string_view>{}(token);
    }
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, token.data() + token.size() - 16, 8);
    std::memcpy(&b, token.data() + token.size() - 8, 8);
    // Two multiply-xorshift rounds (splitmix64's finaliser) over both words and the length.
    std::uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ b ^ token.size();
    h = (h ^ (h >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27U)) * 0x94D049BB133111EBULL;
    return h ^ (h >> 31U);
}

}  // namespace

TokenCache::TokenCache(const Verifier& verifier, TokenCacheConfig config) : verifier_(verifier), config_(config) {
    std::size_t n = config_.max_entries == 0 ? 0 : round_up_pow2(config_.max_entries);
    const std::size_t per_entry = kEntryBytes + sizeof(std::uint64_t);
    while (n > 0 && n > config_.max_bytes / per_entry) {
        n /= 2;  // stays a power of two
    }
    if (n == 0) {
        return;
    }
    ways_ = n < kWays ? n : kWays;
    set_mask_ = n / ways_ - 1;
    tags_.assign(n, 0);
    // Not value-initialised: the kernel hands pages over as entries first touch them.
    arena_ = std::make_unique_for_overwrite<char[]>(n * kEntryBytes);
}

TokenCache::~TokenCache() = default;

std::size_t TokenCache::find(std::uint64_t tag, std::string_view token, std::size_t set) const noexcept {
    const std::size_t first = set * ways_;
    for (std::size_t i = first; i < first + ways_; ++i) {
        if (tags_[i] != tag) {
            continue;
        }
        Head h;
        std::memcpy(&h, entry(i), sizeof h);
        if (h.token_len == token.size() && std::memcmp(entry(i) + sizeof(Head), token.data(), token.size()) == 0) {
            return i;
        }
    }
    return kNoSlot;
}

std::size_t TokenCache::pick_slot(std::size_t set_a, std::size_t set_b) noexcept {
    std::size_t free_a = kNoSlot;
    std::size_t free_b = kNoSlot;
    std::size_t used_a = 0;
    std::size_t used_b = 0;
    for (std::size_t w = 0; w < ways_; ++w) {
        if (tags_[set_a * ways_ + w] != 0) {
            ++used_a;
        } else if (free_a == kNoSlot) {
            free_a = set_a * ways_ + w;
        }
        if (tags_[set_b * ways_ + w] != 0) {
            ++used_b;
        } else if (free_b == kNoSlot) {
            free_b = set_b * ways_ + w;
        }
    }
    if (free_a != kNoSlot || free_b != kNoSlot) {
        return (free_b == kNoSlot || (free_a != kNoSlot && used_a <= used_b)) ? free_a : free_b;
    }
    // Both full: a pseudo-random victim (LRU loses every token of an overfull set in a cyclic
    // access pattern such as heartbeats; a random victim keeps most of them).
    victim_state_ ^= victim_state_ << 13U;
    victim_state_ ^= victim_state_ >> 7U;
    victim_state_ ^= victim_state_ << 17U;
    const std::size_t set = (victim_state_ & 1U) != 0 ? set_a : set_b;
    return set * ways_ + static_cast<std::size_t>((victim_state_ >> 1U) % ways_);
}

bool TokenCache::store(std::size_t slot, std::string_view token, const Claims& c) noexcept {
    const std::string_view strings[kStrings] = {c.sub.view(), c.pid.view(), c.iss.view(), c.jti.view(), c.kid.view(),
                                                c.aud.size() > 0 ? c.aud[0] : std::string_view{},
                                                c.aud.size() > 1 ? c.aud[1] : std::string_view{}};
    if (c.aud.size() > 2 || !c.groups.empty()) {
        return false;  // an entry holds 7 short strings; tokens with groups (the SSH CA's) are not cached
    }
    std::size_t total = token.size();
    for (const std::string_view s : strings) {
        if (s.size() > 255) {
            return false;
        }
        total += s.size();
    }
    if (total > kPayload) {
        return false;
    }
    Head h{};
    h.exp_s = c.exp_s;
    h.nbf_s = c.nbf_s.value_or(0);
    h.iat_s = c.iat_s.value_or(0);
    h.token_len = static_cast<std::uint16_t>(token.size());
    h.flags = static_cast<std::uint8_t>((c.nbf_s ? kHasNbf : 0U) | (c.iat_s ? kHasIat : 0U) | (c.aud.size() << 2U));
    char* p = entry(slot);
    char* out = p + sizeof(Head);
    std::memcpy(out, token.data(), token.size());
    out += token.size();
    for (std::size_t i = 0; i < kStrings; ++i) {
        h.lens[i] = static_cast<std::uint8_t>(strings[i].size());
        if (!strings[i].empty()) {
            std::memcpy(out, strings[i].data(), strings[i].size());
        }
        out += strings[i].size();
    }
    std::memcpy(p, &h, sizeof h);
    return true;
}

void TokenCache::load(std::size_t slot, Claims& c) const {
    Head h;
    const char* p = entry(slot);
    std::memcpy(&h, p, sizeof h);
    const char* in = p + sizeof(Head) + h.token_len;
    std::string_view s[kStrings];
    for (std::size_t i = 0; i < kStrings; ++i) {
        s[i] = std::string_view(in, h.lens[i]);
        in += h.lens[i];
    }
    c.sub = s[0];
    c.pid = s[1];
    c.iss = s[2];
    c.jti = s[3];
    c.kid = s[4];
    c.exp_s = h.exp_s;
    c.nbf_s = (h.flags & kHasNbf) != 0 ? std::optional<std::int64_t>(h.nbf_s) : std::nullopt;
    c.iat_s = (h.flags & kHasIat) != 0 ? std::optional<std::int64_t>(h.iat_s) : std::nullopt;
    c.aud.clear();
    c.groups.clear();  // never stored (store()); the scratch may hold the last uncached token's
    const unsigned auds = static_cast<unsigned>(h.flags) >> 2U;
    for (unsigned i = 0; i < auds; ++i) {
        c.aud.push_back(s[5 + i]);
    }
}

std::variant<const Claims*, Failure> TokenCache::verify(std::string_view token, std::int64_t now_ms) {
    const bool cacheable = !tags_.empty() && token.size() <= config_.max_token_bytes && token.size() <= kPayload;
    const std::uint64_t hash = cacheable ? token_hash(token) : 0;
    const std::uint64_t tag = hash | 1U;  // 0 marks an empty slot
    const std::size_t set_a = hash & set_mask_;
    const std::size_t set_b = ((hash >> 32U) ^ (hash * 0x9E3779B97F4A7C15ULL >> 40U)) & set_mask_;
    if (cacheable) {
        std::size_t slot = find(tag, token, set_a);
        if (slot == kNoSlot && set_b != set_a) {
            slot = find(tag, token, set_b);
        }
        if (slot != kNoSlot) {
            ++stats_.hits;
            load(slot, scratch_);
            if (auto failure = verifier_.check_time(scratch_, now_ms)) {
                if (*failure == Failure::kExpired) {  // never good again: give the slot back
                    tags_[slot] = 0;
                    --entries_;
                }
                return *failure;
            }
            return &scratch_;
        }
    }
    ++stats_.misses;
    if (auto failure = verifier_.verify_into(token, now_ms, scratch_)) {
        return *failure;  // failures are not remembered: they displace nothing
    }
    if (!cacheable) {
        ++stats_.not_cached;
        return &scratch_;
    }
    const std::size_t slot = pick_slot(set_a, set_b);
    const bool evicting = tags_[slot] != 0;
    if (!store(slot, token, scratch_)) {
        ++stats_.not_cached;  // the slot's old entry, if any, is untouched: store writes nothing then
        return &scratch_;
    }
    if (evicting) {
        ++stats_.evictions;
    } else {
        ++entries_;
    }
    tags_[slot] = tag;
    return &scratch_;
}

}  // namespace moneta::jwt
