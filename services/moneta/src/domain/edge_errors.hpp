/// @file services/moneta/src/domain/edge_errors.hpp
/// @brief nginx's own error answers (deploy/nginx/edge_errors.conf), generated from the one error
/// table (api_error.cpp) so the edge can never drift from the codes and messages moneta sends.
#pragma once

#include <span>
#include <string>

#include "domain/api_error.hpp"

namespace moneta::domain {

/// An HTTP status nginx may produce itself, and the api.md error it answers with.
struct EdgeError {
    int status;          ///< nginx's status (494 = nginx's "request header too large")
    ApiError error;      ///< body: code, message, retryable from the error table
    int answer_status;   ///< the status sent (403 from an allow-list deny is sent as 403 NOT_FOUND)
};

/// Every status the edge maps to a JSON body (order = the generated file's order).
std::span<const EdgeError> edge_errors() noexcept;

/// The row nginx answers @p answer_status with (the first, in table order), or null. moneta's
/// own HTTP server answers its protocol errors by the same rows (handlers/server_errors.hpp), so
/// a malformed request gets the same code and message from either hop.
const EdgeError* edge_error_answering(int answer_status) noexcept;

/// The text of deploy/nginx/edge_errors.conf: `error_page` lines and the internal
/// `/_edge_error/` locations returning the JSON bodies (Retry-After on retryable 429/503/504).
std::string nginx_edge_errors_conf();

}  // namespace moneta::domain
