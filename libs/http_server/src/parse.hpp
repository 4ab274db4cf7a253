/// @file libs/http_server/src/parse.hpp
/// @brief The pure steps of reading one request that server.cpp runs between socket reads:
/// find the end of the head, then check it strictly and let Beast parse it. No I/O here, so
/// fuzz/http_request_fuzz.cpp drives exactly the code the server runs (docs/fuzzing.md).
#pragma once

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <string_view>

#include "moneta/http/server.hpp"
#include "strict.hpp"

namespace moneta::http::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// Where the request head ends in the bytes buffered so far.
struct HeadScan {
    std::size_t skip = 0;      ///< leading CRLFs to discard, then scan again (RFC 9112 §2.2)
    std::size_t head_len = 0;  ///< bytes through the CRLFCRLF; 0 while the head is incomplete
};

/// @param searched bytes of @p data already searched without a match; updated when none is
/// found, so a slow client's head is not rescanned from the start at every read.
HeadScan scan_head(std::string_view data, std::size_t& searched) noexcept;

/// check_head, then Beast parses @p head (exactly the bytes through CRLFCRLF) into @p parser with
/// the header and body limits, then the path rules (is_safe_path).
/// @return status 0 when the head is acceptable (the body, if any, is still to be read), else
/// the error to answer before closing: 400, 413, 414, 431, 501 or 505.
HeadVerdict parse_head(std::string_view head, const ServerLimits& limits, RequestParser& parser);

/// Number of fields @p parser holds (after parse_head: the head's; put_body compares).
std::size_t field_count(const RequestParser& parser) noexcept;

/// Feeds the buffered body bytes to @p parser (after parse_head), as Beast's http::read does,
/// with two differences:
/// - A chunked body is fed only once at least 5 bytes are buffered. Beast 1.81 asserts `n >= 5`
///   when the last chunk arrives in pieces ("0\r\n", then "0\r\n\r") and a debug build aborts
///   (boostorg/beast#2861, fixed in Boost 1.86). A valid chunked body never ends with fewer
///   than 5 bytes left (the last chunk is "0\r\n\r\n"), so waiting costs nothing.
/// - Trailer fields are refused (bad_field). Beast merges them into the header fields, past
///   check_head: a second Host, or an Authorization or X-Request-Timeout-Ms the head never had.
/// @param head_fields field_count() right after parse_head.
/// @return the bytes consumed; @p ec is need_more when more bytes must be read first, another
/// error when the body is malformed or too large (body_limit), success once parser.is_done().
std::size_t put_body(RequestParser& parser,
                     std::string_view buffered,
                     std::size_t head_fields,
                     boost::system::error_code& ec);

}  // namespace moneta::http::detail
