#include "response_parser.hpp"

#include <cstdint>

namespace moneta::bench {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The chunked body starting at data[pos]: kComplete with `end` past the final CRLF.
ParseStatus parse_chunked(std::string_view data, std::size_t pos, std::size_t& end) {
    for (;;) {
        const auto eol = data.find("\r\n", pos);
        if (eol == std::string_view::npos) return ParseStatus::kIncomplete;
        std::uint64_t size = 0;
        std::size_t digits = 0;
        for (std::size_t i = pos; i < eol && data[i] != ';'; ++i, ++digits) {
            const char c = data[i];
            int v = -1;
            if (c >= '0' && c <= '9') v = c - '0';
            if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
            if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
            if (v < 0 || digits >= 15) return ParseStatus::kInvalid;
            size = size * 16 + static_cast<std::uint64_t>(v);
        }
        if (digits == 0) return ParseStatus::kInvalid;
        pos = eol + 2;
        if (size == 0) {
            // Trailers (none expected) end with an empty line.
            const auto last = data.find("\r\n\r\n", eol);
            if (last == std::string_view::npos) return ParseStatus::kIncomplete;
            end = last + 4;
            return ParseStatus::kComplete;
        }
        if (data.size() < pos + size + 2) return ParseStatus::kIncomplete;
        pos += size + 2;
    }
}

}  // namespace

ParseStatus parse_response(std::string_view data, ParsedResponse& out) {
    const auto head_end = data.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
        return data.size() > 64 * 1024 ? ParseStatus::kInvalid : ParseStatus::kIncomplete;
    }
    const auto head = data.substr(0, head_end + 2);
    // "HTTP/1.x NNN ..."
    if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') return ParseStatus::kInvalid;
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (head[i] < '0' || head[i] > '9') return ParseStatus::kInvalid;
        status = status * 10 + (head[i] - '0');
    }
    out = {};
    out.status = status;
    std::uint64_t content_length = 0;
    bool chunked = false;
    std::size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
        const auto eol = head.find("\r\n", pos);
        const auto line = head.substr(pos, eol - pos);
        pos = eol + 2;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return ParseStatus::kInvalid;
        const auto name = line.substr(0, colon);
        const auto value = trim(line.substr(colon + 1));
        if (iequals(name, "content-length")) {
            content_length = 0;
            if (value.empty() || value.size() > 15) return ParseStatus::kInvalid;
            for (const char c : value) {
                if (c < '0' || c > '9') return ParseStatus::kInvalid;
                content_length = content_length * 10 + static_cast<std::uint64_t>(c - '0');
            }
        } else if (iequals(name, "transfer-encoding")) {
            chunked = iequals(value, "chunked");
        } else if (iequals(name, "connection")) {
            out.close = iequals(value, "close");
        }
    }
    const std::size_t body_start = head_end + 4;
    // 1xx, 204 and 304 carry no body.
    if (status < 200 || status == 204 || status == 304) {
        out.size = body_start;
        return ParseStatus::kComplete;
    }
    if (chunked) {
        std::size_t end = 0;
        const auto st = parse_chunked(data, body_start, end);
        if (st != ParseStatus::kComplete) return st;
        out.size = end;
        return st;
    }
    if (data.size() < body_start + content_length) return ParseStatus::kIncomplete;
    out.size = body_start + content_length;
    out.body = data.substr(body_start, content_length);
    return ParseStatus::kComplete;
}

}  // namespace moneta::bench
