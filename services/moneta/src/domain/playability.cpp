#include "domain/playability.hpp"

#include <algorithm>

namespace moneta::domain {

std::optional<ApiError> check_entitlement(const Account& account, std::string_view profile_id,
                                          std::int64_t now_ms) noexcept {
    if (account.status != "active" || account.paid_until_ms <= now_ms) {
        return ApiError::kSubscriptionRequired;
    }
    if (account.find_profile(profile_id) == nullptr) {
        return ApiError::kProfileNotInAccount;
    }
    return std::nullopt;
}

std::optional<ApiError> check_content(const Account& account, const Profile& profile,
                                      const Content& content, std::string_view viewer_country,
                                      const PlanRanks& ranks, std::int64_t now_ms) noexcept {
    // Window is half-open: [start, end).
    if (now_ms < content.window_start_ms) {
        return ApiError::kNotAvailableYet;
    }
    if (content.window_end_ms && now_ms >= *content.window_end_ms) {
        return ApiError::kNoLongerAvailable;
    }
    if (content.geo_allow) {
        const auto& allow = *content.geo_allow;
        if (std::find(allow.begin(), allow.end(), viewer_country) == allow.end()) {
            return ApiError::kGeoBlocked;
        }
    }
    const auto min_rank = ranks.find(content.min_plan);
    if (min_rank == ranks.end() || account.plan.rank < min_rank->second) {
        return ApiError::kPlanNotEligible;
    }
    if (content.age_rating > profile.max_age_rating) {
        return ApiError::kParentalControl;
    }
    return std::nullopt;
}

}  // namespace moneta::domain
