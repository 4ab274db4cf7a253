/// @file services/moneta/src/handlers/server_errors.hpp
/// @brief The bodies of the errors libs/http_server makes itself (malformed, oversized or
/// unroutable requests, a handler that threw), taken from the one error table.
#pragma once

#include <cstdint>
#include <string_view>

#include "moneta/http/response.hpp"

namespace moneta::handlers {

/// moneta's http::ErrorPage (ServerConfig::error_page, Router::set_error_page). The status is
/// kept; code, message and retryable are those nginx answers the same status with
/// (domain::edge_error_answering: one table for both hops); the library's own @p message, which
/// says what exactly was wrong ("Unsupported Transfer-Encoding."), goes into
/// `details.reason`. A status the table does not know answers 500 INTERNAL.
http::Response server_error_page(int status, std::string_view code, std::string_view message,
                                 std::int64_t server_time_ms);

}  // namespace moneta::handlers
