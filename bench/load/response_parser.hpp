// Incremental HTTP/1.1 response framing for the load generator: finds where one response ends in
// a connection's read buffer (Content-Length or chunked), its status and whether the server
// closes. Only what a benchmark needs; the body is handed back as a view.
#pragma once

#include <cstddef>
#include <string_view>

namespace moneta::bench {

struct ParsedResponse {
    int status = 0;
    std::size_t size = 0;      // bytes of the whole response (head + body)
    std::string_view body;     // for Content-Length bodies; empty when chunked
    bool close = false;        // "Connection: close"
};

enum class ParseStatus { kIncomplete, kComplete, kInvalid };

/// Parses the response at the start of `data`. kComplete fills `out`.
ParseStatus parse_response(std::string_view data, ParsedResponse& out);

}  // namespace moneta::bench
