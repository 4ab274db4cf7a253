/// @file libs/http_server/src/strict.hpp
/// @brief Byte-level checks of a request head BEFORE Beast parses it. Beast 1.81 accepts things
/// a server behind a proxy must refuse (obs-fold is unfolded, equal duplicate Content-Length and
/// "3,3" lists are merged, unknown Transfer-Encodings are ignored): each is a smuggling vector.
#pragma once

#include <cstddef>
#include <string_view>

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

/// @param head request line + header lines, each ending in CRLF, plus the final CRLF.
HeadVerdict check_head(std::string_view head, const HeadLimits& limits) noexcept;

/// For a head that is incomplete or over the header budget: true when its request target, as far
/// as it has arrived, is longer than @p uri_bytes. Such a request answers 414 URI_TOO_LONG, not
/// 431, whichever limit it reaches first.
bool target_too_long(std::string_view partial_head, std::size_t uri_bytes) noexcept;

/// Path rules: origin-form, no "." or ".." segments, '%' followed by two hex digits, and no
/// encoded '.', '/', '\' or NUL (%2e %2f %5c %00, any case).
bool is_safe_path(std::string_view path) noexcept;

}  // namespace moneta::http::detail
