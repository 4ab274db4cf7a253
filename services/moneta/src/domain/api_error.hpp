/// @file services/moneta/src/domain/api_error.hpp
/// @brief The api.md §4 error codes and their one mapping to HTTP status (userver HandlerErrorCode).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace moneta::domain {

/// Every client-visible failure of the playback API. The HTTP status, wire code, user-displayable
/// message and retryable flag of each live in one table (api_error.cpp).
enum class ApiError : std::uint8_t {
    kInvalidRequest,
    kTokenMissing,
    kTokenExpired,
    kTokenInvalid,
    kSubscriptionRequired,
    kPlanNotEligible,
    kGeoBlocked,
    kNotAvailableYet,
    kNoLongerAvailable,
    kParentalControl,
    kProfileNotInAccount,
    kStreamLimitReached,
    kNotOwner,
    kContentNotFound,
    kSessionNotFound,
    kNotFound,
    kMethodNotAllowed,
    kNoCompatibleStream,
    kSessionEvicted,
    kIdempotencyConflict,
    kStaleWrite,
    kPayloadTooLarge,
    kUnsupportedMediaType,
    kRequestTimeout,   ///< the edge's / HTTP server's own answers from here to kHeadersTooLarge
    kUriTooLong,
    kHeadersTooLarge,
    kRateLimited,
    kUpstreamError,
    kUpstreamUnavailable,
    kOverloaded,
    kUpstreamTimeout,
    kInternal,
};

struct ApiErrorInfo {
    int status;
    std::string_view code;
    std::string_view message;
    bool retryable;
};

/// The table row for @p e.
const ApiErrorInfo& info(ApiError e) noexcept;

/// The api.md error body: {"error":{code,message,retryable,details},"server_time_ms":...}.
/// @param details_json a JSON object text (already serialized), "{}" when there is nothing to add.
std::string error_body(ApiError e, std::int64_t server_time_ms, std::string_view details_json = "{}");

}  // namespace moneta::domain
