/// @file libs/http_server/src/response_writer.hpp
/// @brief A response's status line and headers serialized into the connection's reused buffer
/// (the body is sent from the Response itself, in the same writev), and the Date value each
/// worker formats once a second.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "moneta/http/response.hpp"

namespace moneta::http::detail {

/// RFC 9110 IMF-fixdate, formatted at most once per second; one per worker (not shared).
class DateCache {
public:
    std::string_view now() noexcept;

private:
    std::time_t second_ = 0;
    char buf_[40] = {};
    std::size_t len_ = 0;
};

struct HeadOptions {
    std::string_view date;
    std::string_view request_id;  ///< echoed as X-Request-Id when not empty
    bool head_method = false;     ///< HEAD: the GET's headers, no body
    unsigned version = 11;        ///< 10 or 11
    bool keep_alive = true;
};

/// The reason phrase of @p status ("" for a code we never send).
std::string_view reason_phrase(int status) noexcept;

/// Writes the status line and header section of @p r into @p out (cleared, capacity kept):
/// Date, Content-Type (with a body), Content-Length (not on 204/304), X-Request-Id, the handler's
/// headers (a name that is not a token or a value with CR, LF or NUL is dropped: no response
/// splitting), Retry-After: 1 on a 503/504 without one, Connection as RFC 9112 §9.3 asks.
/// @return the body bytes to send after @p out (empty for HEAD, 204 and 304).
std::string_view serialize_head(std::string& out, const Response& r, const HeadOptions& o);

}  // namespace moneta::http::detail
