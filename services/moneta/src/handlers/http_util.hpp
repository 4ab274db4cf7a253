/// @file services/moneta/src/handlers/http_util.hpp
/// @brief Building HTTP responses from domain results (the one place ApiError becomes HTTP).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/api_error.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"

namespace moneta::handlers {

/// A JSON response with @p status.
http::Response json(int status, std::string body);

/// The api.md error body for @p e; retryable 429/503 answers carry `Retry-After`.
http::Response error(domain::ApiError e, std::int64_t now_ms, std::string_view details_json = "{}",
                     int retry_after_sec = 1);

/// True when the request declares a JSON body (`application/json`, optional parameters).
bool has_json_content_type(const http::Request& req) noexcept;

}  // namespace moneta::handlers
