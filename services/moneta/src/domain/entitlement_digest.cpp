#include "domain/entitlement_digest.hpp"

#include <charconv>

namespace moneta::domain {
namespace {

/// Parses a decimal int64 at the front of @p s up to @p stop (which it consumes); false if none.
bool take_int(std::string_view& s, char stop, std::int64_t& out) noexcept {
    const auto end = s.find(stop);
    if (end == std::string_view::npos || end == 0) {
        return false;
    }
    const auto r = std::from_chars(s.data(), s.data() + end, out);
    if (r.ec != std::errc() || r.ptr != s.data() + end) {
        return false;
    }
    s.remove_prefix(end + 1);
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
