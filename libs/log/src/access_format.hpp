/// @file libs/log/src/access_format.hpp
/// @brief Formats one AccessSlot into the access log's ECS JSON line (on the logger's thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "moneta/log/access_ring.hpp"

namespace moneta::log::detail {

/// RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS.mmmZ"; gmtime_r runs once per second
/// of log time, not once per line.
class TimestampFormatter {
public:
    /// Bytes write() writes at most: the timestamp and the closing quote.
    static constexpr std::size_t kMaxBytes = 32;

    /// Writes the timestamp and its closing quote at @p out (kMaxBytes of room); returns their end.
    char* write(char* out, std::int64_t wall_ms);

private:
    std::int64_t second_ = -1;
    char prefix_[24] = {};  // "YYYY-MM-DDTHH:MM:SS"
    std::size_t prefix_len_ = 0;
};

/// Appends the line (with its '\n') for @p s. @p service_json is the service name already
/// escaped as a JSON string, quotes included. Allocates only if @p out must grow.
void append_access_line(std::string& out, const AccessSlot& s, std::string_view service_json,
                        TimestampFormatter& ts);

}  // namespace moneta::log::detail
