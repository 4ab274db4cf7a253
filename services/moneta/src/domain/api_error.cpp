#include "domain/api_error.hpp"

#include <array>

#include "domain/json_writer.hpp"

namespace moneta::domain {
namespace {

// Order must follow the enum; checked by a static_assert below and a unit test.
constexpr std::array<ApiErrorInfo, 32> kTable{{
    {400, "INVALID_REQUEST", "The request is malformed.", false},
    {401, "TOKEN_MISSING", "Sign in to continue.", false},
    {401, "TOKEN_EXPIRED", "Your session has expired. Sign in again.", false},
    {401, "TOKEN_INVALID", "Sign in to continue.", false},
    {403, "SUBSCRIPTION_REQUIRED", "An active subscription is required to play this title.", false},
    {403, "PLAN_NOT_ELIGIBLE", "Your plan does not include this title.", false},
    {403, "GEO_BLOCKED", "This title is not available in your country.", false},
    {403, "NOT_AVAILABLE_YET", "This title is not available yet.", false},
    {403, "NO_LONGER_AVAILABLE", "This title is no longer available.", false},
    {403, "PARENTAL_CONTROL", "This title is blocked by this profile's parental controls.", false},
    {403, "PROFILE_NOT_IN_ACCOUNT", "This profile does not belong to your account.", false},
    {403, "STREAM_LIMIT_REACHED", "Too many devices are playing on your account right now.", false},
    {403, "NOT_OWNER", "This session belongs to another account.", false},
    {404, "CONTENT_NOT_FOUND", "This title does not exist.", false},
    {404, "SESSION_NOT_FOUND", "This playback session has ended.", false},
    {404, "NOT_FOUND", "Not found.", false},
    {405, "METHOD_NOT_ALLOWED", "Method not allowed.", false},
    {406, "NO_COMPATIBLE_STREAM", "This device cannot play this title.", false},
    {409, "SESSION_EVICTED", "Playback was stopped from another device.", false},
    {409, "IDEMPOTENCY_CONFLICT", "This request conflicts with an earlier one.", false},
    {409, "STALE_WRITE", "A newer position is already saved.", false},
    {413, "PAYLOAD_TOO_LARGE", "The request body is too large.", false},
    {415, "UNSUPPORTED_MEDIA_TYPE", "The request body must be application/json.", false},
    {408, "REQUEST_TIMEOUT", "The request took too long to arrive.", true},
    {414, "URI_TOO_LONG", "The request URI is too long.", false},
    {431, "HEADERS_TOO_LARGE", "The request headers are too large.", false},
    {429, "RATE_LIMITED", "Too many requests. Try again shortly.", true},
    {502, "UPSTREAM_ERROR", "Something went wrong. Try again shortly.", true},
    {503, "UPSTREAM_UNAVAILABLE", "Playback is temporarily unavailable. Try again shortly.", true},
    {503, "OVERLOADED", "Playback is temporarily unavailable. Try again shortly.", true},
    {504, "UPSTREAM_TIMEOUT", "Playback is temporarily unavailable. Try again shortly.", true},
    {500, "INTERNAL", "Something went wrong. Try again shortly.", true},
}};
static_assert(kTable.size() == static_cast<std::size_t>(ApiError::kInternal) + 1);

}  // namespace

const ApiErrorInfo& info(ApiError e) noexcept { return kTable[static_cast<std::size_t>(e)]; }

std::string error_body(ApiError e, std::int64_t server_time_ms, std::string_view details_json) {
    const ApiErrorInfo& row = info(e);
    JsonWriter w;
    w.begin_object();
    w.key("error").begin_object();
    w.key("code").string(row.code);
    w.key("message").string(row.message);
    w.key("retryable").boolean(row.retryable);
    w.key("details").raw(details_json);
    w.end_object();
    w.key("server_time_ms").integer(server_time_ms);
    w.end_object();
    return std::move(w).take();
}

}  // namespace moneta::domain
