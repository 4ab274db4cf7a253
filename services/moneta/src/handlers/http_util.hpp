/// @file services/moneta/src/handlers/http_util.hpp
/// @brief Building HTTP responses from domain results (the one place ApiError becomes HTTP).
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/api_error.hpp"
#include "domain/requests.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"

namespace moneta::handlers {

/// A JSON response with @p status.
http::Response json(int status, std::string body);

/// The api.md error body for @p e; 429, 503 and 504 answers carry `Retry-After` (the HTTP server
/// also adds `Retry-After: 1` to any 503/504 that lacks one).
http::Response error(domain::ApiError e, std::int64_t now_ms, std::string_view details_json = "{}",
                     int retry_after_sec = 1);

/// 204 No Content.
http::Response no_content();

/// Transport failures of the internal API → UPSTREAM_TIMEOUT / UPSTREAM_ERROR / UPSTREAM_UNAVAILABLE.
domain::ApiError upstream_error(const boost::system::error_code& ec) noexcept;
/// Redis failures: it answers or it is unavailable; never "bad gateway".
domain::ApiError store_error(const boost::system::error_code& ec) noexcept;

/// The `{id}` path parameter when it is a valid id; nullopt otherwise (answer INVALID_REQUEST).
std::optional<std::string_view> id_param(const http::Request& req, std::size_t index = 0) noexcept;

/// INVALID_REQUEST for a bad `{id}` path parameter.
http::Response bad_id(std::int64_t now_ms);

/// INVALID_REQUEST with the field-level reason of a rejected body or query in `details`.
http::Response invalid_request(const domain::FieldError& e, std::int64_t now_ms);
template <class T>
http::Response invalid_request(const domain::Parsed<T>& rejected, std::int64_t now_ms) {
    return invalid_request(std::get<domain::FieldError>(rejected), now_ms);
}

/// True when the request declares a JSON body (`application/json`, optional parameters).
bool has_json_content_type(const http::Request& req) noexcept;

}  // namespace moneta::handlers
