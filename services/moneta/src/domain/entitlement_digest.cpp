#include "domain/entitlement_digest.hpp"

#include <array>
#include <cstdint>
#include <limits>

#include "moneta/core/decimal.hpp"
#include "moneta/core/swar.hpp"

namespace moneta::domain {
namespace {

/// 10^k: what the first eight digits are worth when k more follow.
constexpr std::array<std::uint64_t, 9> kPow10{1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000};

/// Parses a decimal int64 at the front of @p s up to @p stop (which it consumes); false if none.
/// What std::from_chars accepts (an optional '-', then digits; leading zeros; no '+'), in one
/// pass that stops at the first non-digit: find + from_chars cost ~210 instructions per field on
/// every heartbeat (entitlement_digest_test compares the two on random inputs). The digest's own
/// shapes take a direct path: a one-digit profile length, and the two 13-digit times in two
/// eight-byte loads (~200 instructions each a digit at a time). A general eight-bytes-per-step
/// loop measured slower than the digit loop (the cost is per call, not per digit: docs/
/// performance.md, thirteenth round), so every other number goes a digit at a time.
bool take_int(std::string_view& s, char stop, std::int64_t& out) noexcept {
    const char* p = s.data();
    const char* const end = p + s.size();
    const bool negative = p != end && *p == '-';
    p += negative ? 1 : 0;
    const char* const digits = p;
    std::uint64_t v = 0;
    bool at_non_digit = false;
    if (end - p >= 2 && static_cast<unsigned char>(*p - '0') < 10 && p[1] == stop) {
        // One digit: the profile lengths of most digests ("9:p_00001_1"), cheaper than a chunk.
        v = static_cast<unsigned>(*p - '0');
        ++p;
        at_non_digit = true;
    }
    if (!at_non_digit && end - p >= 16) {
        // Nine to fifteen digits (a time in ms until the year 33658) in two loads and no loop;
        // no overflow is possible below sixteen digits.
        const std::uint64_t w1 = core::swar::load8(p);
        const std::uint64_t w2 = core::swar::load8(p + 8);
        const std::uint64_t nd2 = core::non_digits(w2);
        if (core::non_digits(w1) == 0 && nd2 != 0) {
            const unsigned k2 = static_cast<unsigned>(__builtin_ctzll(nd2)) / 8;
            v = core::digits_value(w1, 8) * kPow10[k2] + (k2 != 0 ? core::digits_value(w2, k2) : 0);
            p += 8 + k2;
            at_non_digit = true;
        }
    }
    if (!at_non_digit) {
        // Any other shape (two-digit lengths, a string's last few bytes, long numbers) a digit at
        // a time: eighteen digits cannot overflow, only a longer number pays for the checks.
        const char* const unchecked_end = end - p > 18 ? p + 18 : end;
        for (; p != unchecked_end && static_cast<unsigned char>(*p - '0') < 10; ++p) {
            v = v * 10 + static_cast<unsigned>(*p - '0');
        }
        for (; p != end && static_cast<unsigned char>(*p - '0') < 10; ++p) {
            if (__builtin_mul_overflow(v, 10U, &v) || __builtin_add_overflow(v, static_cast<unsigned>(*p - '0'), &v)) {
                return false;
            }
        }
    }
    constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (p == digits || p == end || *p != stop || v > kMax + (negative ? 1U : 0U)) {
        return false;
    }
    out = negative ? static_cast<std::int64_t>(0U - v) : static_cast<std::int64_t>(v);
    s.remove_prefix(static_cast<std::size_t>(p - s.data()) + 1);
    return true;
}

}  // namespace

std::string encode_entitlement_digest(const Account& account, std::int64_t fetched_at_ms) {
    std::string out = std::to_string(fetched_at_ms);
    out += '|';
    out += std::to_string(account.status == "active" ? account.paid_until_ms : 0);
    out += '|';
    for (const Profile& p : account.profiles) {
        out += std::to_string(p.id.size());
        out += ':';
        out += p.id;
    }
    return out;
}

std::optional<EntitlementDigest> decode_entitlement_digest(std::string_view stored) noexcept {
    EntitlementDigest d;
    if (!take_int(stored, '|', d.fetched_at_ms) || !take_int(stored, '|', d.playable_until_ms)) {
        return std::nullopt;
    }
    // Validate the whole profile list once, so check_entitlement can walk it without checks.
    std::string_view rest = stored;
    while (!rest.empty()) {
        std::int64_t len = 0;
        if (!take_int(rest, ':', len) || len < 0 || static_cast<std::uint64_t>(len) > rest.size()) {
            return std::nullopt;
        }
        rest.remove_prefix(static_cast<std::size_t>(len));
    }
    d.profiles = stored;
    return d;
}

std::optional<ApiError> check_entitlement(const EntitlementDigest& digest, std::string_view profile_id,
                                          std::int64_t now_ms) noexcept {
    if (digest.playable_until_ms <= now_ms) {
        return ApiError::kSubscriptionRequired;
    }
    std::string_view rest = digest.profiles;
    while (!rest.empty()) {
        std::int64_t len = 0;
        if (!take_int(rest, ':', len) || len < 0 || static_cast<std::uint64_t>(len) > rest.size()) {
            break;  // not from decode_entitlement_digest: no such profile
        }
        if (rest.substr(0, static_cast<std::size_t>(len)) == profile_id) {
            return std::nullopt;
        }
        rest.remove_prefix(static_cast<std::size_t>(len));
    }
    return ApiError::kProfileNotInAccount;
}

}  // namespace moneta::domain
