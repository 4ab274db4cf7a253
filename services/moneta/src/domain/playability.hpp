/// @file services/moneta/src/domain/playability.hpp
/// @brief The start checks of api.md §5.1, in the contract's order, as pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "domain/api_error.hpp"
#include "domain/catalog.hpp"

namespace moneta::domain {

/// Plan id → rank, to compare a content's `min_plan` with the account's plan. Comes from config
/// (the internal API sends the account's plan with its rank but only the id of `min_plan`).
using PlanRanks = std::map<std::string, int, std::less<>>;

/// Subscription and profile: SUBSCRIPTION_REQUIRED when the status is not "active" or
/// `paid_until_ms` has passed; PROFILE_NOT_IN_ACCOUNT when @p profile_id is not on the account.
std::optional<ApiError> check_entitlement(const Account& account, std::string_view profile_id,
                                          std::int64_t now_ms) noexcept;

/// Window, geo, plan and parental checks, in that order, for content that exists.
/// @param viewer_country the edge's X-Viewer-Country, or the account's country when absent.
/// An unknown `min_plan` fails closed (PLAN_NOT_ELIGIBLE): a typo in the catalogue must not
/// open a premium title to every plan.
std::optional<ApiError> check_content(const Account& account, const Profile& profile,
                                      const Content& content, std::string_view viewer_country,
                                      const PlanRanks& ranks, std::int64_t now_ms) noexcept;

}  // namespace moneta::domain
