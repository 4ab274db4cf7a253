/// @file moneta/core/json_escape.hpp
/// @brief The one JSON string escaper, shared by response bodies (domain::JsonWriter) and log
/// lines (libs/log): whatever bytes a client sends, the output is valid JSON and valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace moneta::core {

/// Appends @p s to @p out as a JSON string literal, quotes included:
/// - `"` and `\` are backslash-escaped; `\n`, `\r`, `\t` use their short forms;
/// - other control bytes (0x00-0x1F) and DEL (0x7F) become `\u00XX` (lower-case hex);
/// - well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) is
///   copied as is;
/// - every byte that does not start a well-formed sequence becomes U+FFFD (EF BF BD) and the
///   scan resumes at the next byte, so one bad byte costs one replacement character.
/// Allocation: only when @p out must grow (callers reuse a buffer with capacity to stay at zero).
void append_json_string(std::string& out, std::string_view s);

/// True when @p s is printable ASCII other than `"` and `\` — text append_json_string writes
/// unchanged between its quotes (so does well-formed UTF-8, which this does not look into). A
/// caller that builds a line in its own buffer copies such a string itself and calls
/// append_json_string only for the rest.
bool is_json_plain(std::string_view s) noexcept;

/// Length of the well-formed UTF-8 sequence starting at @p s[0] (1-4), or 0 when the bytes
/// there are not one (a stray continuation byte, an overlong form, a surrogate, a cut sequence).
std::size_t utf8_sequence_length(std::string_view s) noexcept;

}  // namespace moneta::core
