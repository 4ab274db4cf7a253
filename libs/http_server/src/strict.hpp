/// @file libs/http_server/src/strict.hpp
/// @brief The request head in one strict pass: every byte-level rule (smuggling defences,
/// token and value characters, framing, Host, limits) checked while the request line and the
/// header fields are cut into views. Nothing is unfolded, merged or guessed: what a proxy in
/// front could read differently is refused (docs/http_server.md "Strict parsing").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "moneta/http/edge_trust.hpp"
#include "moneta/http/request.hpp"

namespace moneta::http::detail {

struct HeadVerdict {
    int status = 0;  ///< 0 = acceptable
    std::string_view code;
    std::string_view message;
};

struct HeadLimits {
    std::size_t uri_bytes;
    std::size_t header_count;
};

/// What the head says about the request, filled by check_head on success.
struct HeadFacts {
    Method method = Method::kOther;
    std::string_view method_string;
    std::string_view target;
    std::size_t path_len = 0;         ///< target bytes before the first '?' (all without one)
    bool path_plain = false;          ///< the path holds no '%' and no '.': is_safe_path holds
    unsigned version = 11;            ///< 10 or 11
    bool keep_alive = true;           ///< RFC 9112 §9.3 from the version and Connection tokens
    bool chunked = false;             ///< Transfer-Encoding: chunked
    bool has_content_length = false;
    std::uint64_t content_length = 0;
    /// name_length_bit() of every field name, OR-ed: whether the edge-trust step has anything to
    /// look at (edge_name_lengths()).
    std::uint64_t name_lengths = 0;
};

/// Checks @p head (request line + header lines, each ending in CRLF, plus the final CRLF) and,
/// when @p facts / @p fields / @p known are given, fills them in the same pass: the fields in
/// arrival order with OWS-trimmed values (at most limits.header_count are appended; @p fields is
/// cleared first), and the first occurrence of each KnownHeader, with the same value (@p known is
/// reset first). Views point into @p head.
/// @param head_end when given, @p head is the bytes buffered so far, which may go on past the
/// head: the pass stops at the empty line and stores where the head ends (through that line's
/// CRLF); when it reaches no empty line it stores 0 and returns a non-zero status (this verdict
/// is not the request's: the bytes were not a whole head).
HeadVerdict check_head(std::string_view head, const HeadLimits& limits, HeadFacts* facts = nullptr,
                       std::vector<Header>* fields = nullptr, KnownHeaderIndex* known = nullptr,
                       std::size_t* head_end = nullptr);

/// For a head that is incomplete or over the header budget: true when its request target, as far
/// as it has arrived, is longer than @p uri_bytes. Such a request answers 414 URI_TOO_LONG, not
/// 431, whichever limit it reaches first.
bool target_too_long(std::string_view partial_head, std::size_t uri_bytes) noexcept;

/// Path rules: origin-form, no "." or ".." segments, '%' followed by two hex digits, and no
/// encoded '.', '/', '\' or NUL (%2e %2f %5c %00, any case).
bool is_safe_path(std::string_view path) noexcept;

/// Case-insensitive ASCII comparison with @p lower, which must already be lower case.
bool iequals_lower(std::string_view a, std::string_view lower) noexcept;

/// tchar (RFC 9110 §5.6.2).
bool is_tchar(unsigned char c) noexcept;

}  // namespace moneta::http::detail
