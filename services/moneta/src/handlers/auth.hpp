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
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/stats_table.hpp"
#include "usecases/outcome.hpp"

namespace moneta::handlers {

/// Failures by reason (a bounded label set: moneta_auth_failures_total{reason}).
struct AuthStats {
    metrics::LocalCounter missing_total;
    std::array<metrics::LocalCounter, 16> by_failure{};  ///< indexed by jwt::Failure
};

inline constexpr std::string_view kAuthFailuresHelp = "Rejected tokens by reason (the response only says TOKEN_*).";
/// What AuthStats exports: by_failure[i] is labelled jwt::failure_name(Failure(i)) (a unit
/// test holds the two in step).
inline constexpr metrics::Stat<AuthStats> kAuthStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "missing"}, MONETA_STAT(missing_total)},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "malformed"}, MONETA_STAT(by_failure[0])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "unsupported_alg"}, MONETA_STAT(by_failure[1])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "unknown_key"}, MONETA_STAT(by_failure[2])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "bad_signature"}, MONETA_STAT(by_failure[3])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "expired"}, MONETA_STAT(by_failure[4])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "not_yet_valid"}, MONETA_STAT(by_failure[5])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "issued_in_future"}, MONETA_STAT(by_failure[6])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "bad_issuer"}, MONETA_STAT(by_failure[7])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "bad_audience"}, MONETA_STAT(by_failure[8])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "too_long"}, MONETA_STAT(by_failure[9])},
    {metrics::StatKind::kCounter, "moneta_auth_failures_total", kAuthFailuresHelp, {"reason", "missing_claim"}, MONETA_STAT(by_failure[10])},
};

/// The caller a verified token names (its `sub` and `pid`: all a use case needs), or
/// TOKEN_MISSING / TOKEN_EXPIRED / TOKEN_INVALID. The reason inside TOKEN_INVALID is only
/// counted, never returned (api.md §3) and the token is never logged.
/// @param tokens the worker's token cache: a token seen before costs a lookup and the time
/// checks (docs/jwt.md "Token cache"); only the two ids are copied out of it, inline (the whole
/// claims, ~450 bytes, were copied twice per request before).
/// @param require_profile true for calls that act on a profile (start, progress): a token
/// without `pid` is TOKEN_INVALID there.
std::variant<usecases::Caller, domain::ApiError> authenticate(const http::Request& req, jwt::TokenCache& tokens,
                                                              std::int64_t now_ms, bool require_profile,
                                                              AuthStats& stats);

}  // namespace moneta::handlers
