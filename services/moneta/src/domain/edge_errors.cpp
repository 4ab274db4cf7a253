#include "domain/edge_errors.hpp"

#include <array>

namespace moneta::domain {
namespace {

constexpr std::array<EdgeError, 15> kEdgeErrors{{
    {400, ApiError::kInvalidRequest, 400},
    {403, ApiError::kNotFound, 403},  // a denied path says no more than an unknown one
    {404, ApiError::kNotFound, 404},
    {405, ApiError::kMethodNotAllowed, 405},
    {408, ApiError::kRequestTimeout, 408},
    {413, ApiError::kPayloadTooLarge, 413},
    {414, ApiError::kUriTooLong, 414},
    {429, ApiError::kRateLimited, 429},
    {494, ApiError::kHeadersTooLarge, 431},  // nginx's internal "header too large"
    {500, ApiError::kInternal, 500},
    {501, ApiError::kInvalidRequest, 501},  // unknown Transfer-Encoding: a malformed request
    {502, ApiError::kUpstreamError, 502},
    {503, ApiError::kUpstreamUnavailable, 503},
    {504, ApiError::kUpstreamTimeout, 504},
    {505, ApiError::kInvalidRequest, 505},  // e.g. "HTTP/2.0" on an HTTP/1 connection
}};

/// The JSON body, in an nginx single-quoted string: the table's texts hold no quote or backslash
/// (checked by the unit test), so they need no escaping here.
std::string body(const ApiErrorInfo& row) {
    std::string out = R"({"error":{"code":")";
    out += row.code;
    out += R"(","message":")";
    out += row.message;
    out += R"(","retryable":)";
    out += row.retryable ? "true" : "false";
    out += R"(,"details":{}},"server_time_ms":$msec_ms})";
    return out;
}

}  // namespace

std::span<const EdgeError> edge_errors() noexcept { return kEdgeErrors; }

const EdgeError* edge_error_answering(int answer_status) noexcept {
    for (const EdgeError& e : kEdgeErrors) {
        if (e.answer_status == answer_status) {
            return &e;
        }
    }
    return nullptr;
}

std::string nginx_edge_errors_conf() {
    std::string out =
        "# GENERATED from services/moneta/src/domain/api_error.cpp by tools/edge_errors: do not edit.\n"
        "# The edge's own errors in the api.md error model; included in nginx's server block.\n";
    for (const EdgeError& e : kEdgeErrors) {
        // `=status` sets the answer's status explicitly: without it nginx turns its internal 494
        // into a 400 whatever the page returns (HEADERS_TOO_LARGE would then differ by hop).
        const int shown = e.status == 494 ? 431 : e.status;
        out += "error_page " + std::to_string(e.status) + (e.status == 494 ? " =431" : "") + " /_edge_error/" +
               std::to_string(shown) + ";\n";
    }
    out += "location ^~ /_edge_error/ {\n    internal;\n    add_header X-Request-Id $request_id always;\n";
    for (const EdgeError& e : kEdgeErrors) {
        const ApiErrorInfo& row = info(e.error);
        const int shown = e.status == 494 ? 431 : e.status;
        out += "    location = /_edge_error/" + std::to_string(shown) + " { ";
        // add_header in a nested location replaces the outer ones: repeat X-Request-Id.
        if (row.retryable && (e.answer_status == 429 || e.answer_status == 503 || e.answer_status == 504)) {
            out += "add_header Retry-After 1 always; add_header X-Request-Id $request_id always; ";
        }
        out += "return " + std::to_string(e.answer_status) + " '" + body(row) + "'; }\n";
    }
    out += "}\n";
    return out;
}

}  // namespace moneta::domain
