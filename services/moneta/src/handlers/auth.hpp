/// @file services/moneta/src/handlers/auth.hpp
/// @brief Bearer-token authentication of /v1/* calls (api.md §3).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <variant>

#include "domain/api_error.hpp"
#include "moneta/http/request.hpp"
#include "moneta/jwt/token_cache.hpp"
#include "moneta/jwt/verifier.hpp"

namespace moneta::handlers {

/// Failures by reason (a bounded label set: moneta_auth_failures_total{reason}).
struct AuthStats {
    std::atomic<std::uint64_t> missing_total{0};
    std::array<std::atomic<std::uint64_t>, 16> by_failure{};  ///< indexed by jwt::Failure
};

/// The verified claims, or TOKEN_MISSING / TOKEN_EXPIRED / TOKEN_INVALID. The reason inside
/// TOKEN_INVALID is only counted, never returned (api.md §3) and the token is never logged.
/// @param tokens the worker's token cache: a token seen before costs a lookup and the time
/// checks, and the claims are copied out without a heap allocation (docs/jwt.md "Token cache").
/// @param require_profile true for calls that act on a profile (start, progress): a token
/// without `pid` is TOKEN_INVALID there.
std::variant<jwt::Claims, domain::ApiError> authenticate(const http::Request& req, jwt::TokenCache& tokens,
                                                         std::int64_t now_ms, bool require_profile,
                                                         AuthStats& stats);

}  // namespace moneta::handlers
