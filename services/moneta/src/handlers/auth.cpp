#include "handlers/auth.hpp"

#include "domain/requests.hpp"

namespace moneta::handlers {

std::variant<usecases::Caller, domain::ApiError> authenticate(const http::Request& req, jwt::TokenCache& tokens,
                                                              std::int64_t now_ms, bool require_profile,
                                                              AuthStats& stats) {
    const auto header = req.header(http::KnownHeader::kAuthorization);
    constexpr std::string_view kBearer = "Bearer ";
    if (!header || header->empty()) {
        ++stats.missing_total;
        return domain::ApiError::kTokenMissing;
    }
    // Scheme is case-insensitive (RFC 9110 §11.1); exactly one space before the token.
    const std::string_view h = *header;
    bool bearer = h.size() > kBearer.size() && h[kBearer.size() - 1] == ' ';
    for (std::size_t i = 0; bearer && i + 1 < kBearer.size(); ++i) {
        bearer = (h[i] | 0x20) == (kBearer[i] | 0x20);
    }
    if (!bearer) {
        ++stats.missing_total;
        return domain::ApiError::kTokenMissing;
    }
    const auto verdict = tokens.verify(h.substr(kBearer.size()), now_ms);
    if (auto* failure = std::get_if<jwt::Failure>(&verdict)) {
        const auto idx = static_cast<std::size_t>(*failure);
        if (idx < stats.by_failure.size()) {
            ++stats.by_failure[idx];
        }
        return *failure == jwt::Failure::kExpired ? domain::ApiError::kTokenExpired
                                                  : domain::ApiError::kTokenInvalid;
    }
    const jwt::Claims& claims = *std::get<const jwt::Claims*>(verdict);
    // Ids from the token reach Redis keys and upstream paths: same charset rule as the API's.
    if (!domain::is_valid_id(claims.sub) ||
        (require_profile && !domain::is_valid_id(claims.pid)) ||
        (!claims.pid.empty() && !domain::is_valid_id(claims.pid))) {
        const auto idx = static_cast<std::size_t>(jwt::Failure::kMissingClaim);
        if (idx < stats.by_failure.size()) {
            ++stats.by_failure[idx];
        }
        return domain::ApiError::kTokenInvalid;
    }
    return usecases::Caller{claims.sub, claims.pid};  // inline strings: no allocation
}

}  // namespace moneta::handlers
