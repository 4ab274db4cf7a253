/// @file moneta/http/response.hpp
/// @brief What a handler returns, and the api.md §4 error body every server-made error uses.
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moneta::http {

struct Response {
    int status = 200;
    std::string body;
    std::string_view content_type = "application/json";  ///< must point to static storage
    /// Extra headers (Location, Retry-After, Allow, ...). A response carries at most one as a rule
    /// (a 201's Location, a 429's Retry-After): that one is stored inline, not allocated.
    boost::container::small_vector<std::pair<std::string, std::string>, 1> headers;
    bool close = false;  ///< close the connection after writing
    /// Send nothing: reset the connection (RST) instead of answering. Only for fault injection
    /// (the internal API's test-only fault modes); a real handler always answers.
    bool drop = false;
};

/// {"error":{"code","message","retryable","details"},"server_time_ms"}
Response error_response(int status, std::string_view code, std::string_view message,
                        bool retryable, std::int64_t server_time_ms,
                        std::string_view details_json = "{}");

/// The answer to an error the server or the router makes itself (400, 404, 405, 408, 413, 414,
/// 431, 500, 501, 505): @p status, the library's @p code and @p message for it. A service
/// installs its own (ServerConfig::error_page, Router::set_error_page) so that these bodies come
/// from its error table like every other error it sends (moneta: handlers/server_errors.hpp).
/// A plain function pointer: no state, nothing allocated to call it.
using ErrorPage = Response (*)(int status, std::string_view code, std::string_view message,
                               std::int64_t server_time_ms);

/// The library's own page: error_response(status, code, message, retryable = false, ...).
Response default_error_page(int status, std::string_view code, std::string_view message,
                            std::int64_t server_time_ms);

}  // namespace moneta::http
