/// @file services/moneta/src/domain/entitlement_digest.hpp
/// @brief What a heartbeat needs of the cached account to tell "keep playing" from "stop"
/// (api.md §5.2), in a few bytes: written next to the cached account (`entd:{a:..}`) whenever
/// the account cache is filled, read by the heartbeat script instead of the whole account JSON.
///
/// Format: "<fetched_at_ms>|<playable_until_ms>|<len>:<profile id><len>:<profile id>..." where
/// playable_until_ms is `paid_until_ms` of an active account and 0 of any other status, so the
/// judgement below is exactly domain::check_entitlement's. Profile ids are length-prefixed: the
/// internal API's ids may contain any byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/api_error.hpp"
#include "domain/catalog.hpp"

namespace moneta::domain {

struct EntitlementDigest {
    std::int64_t fetched_at_ms = 0;
    std::int64_t playable_until_ms = 0;  ///< 0: not active
    std::string_view profiles;           ///< view into the stored value ("<len>:<id>"...)
};

std::string encode_entitlement_digest(const Account& account, std::int64_t fetched_at_ms);

/// nullopt for anything encode_entitlement_digest did not produce (treated as "no news").
std::optional<EntitlementDigest> decode_entitlement_digest(std::string_view stored) noexcept;

/// The same answer as check_entitlement(account, profile_id, now_ms) for the account the
/// digest was made of: kSubscriptionRequired, kProfileNotInAccount or nullopt (entitled).
std::optional<ApiError> check_entitlement(const EntitlementDigest& digest, std::string_view profile_id,
                                          std::int64_t now_ms) noexcept;

}  // namespace moneta::domain
