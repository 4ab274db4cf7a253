#include "parse.hpp"

#include <algorithm>
#include <cstring>
#include "moneta/core/hex.hpp"

namespace moneta::http::detail {
namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

/// qdtext / the byte after a backslash in a quoted-pair (RFC 9110 §5.6.4).
bool is_qdtext(unsigned char c) noexcept {
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}
bool is_quotable(unsigned char c) noexcept { return c == '\t' || (c >= 0x20 && c != 0x7F); }

/// Consumes a token at @p i; false when there is none.
bool token(std::string_view s, std::size_t& i) noexcept {
    const std::size_t start = i;
    while (i < s.size() && is_tchar(static_cast<unsigned char>(s[i]))) {
        ++i;
    }
    return i > start;
}

/// Consumes a quoted-string at @p i (which holds '"'); false when it is malformed.
bool quoted(std::string_view s, std::size_t& i) noexcept {
    ++i;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"') {
            ++i;
            return true;
        }
        if (c == '\\') {
            if (i + 1 >= s.size() || !is_quotable(static_cast<unsigned char>(s[i + 1]))) {
                return false;
            }
            i += 2;
        } else if (is_qdtext(c)) {
            ++i;
        } else {
            return false;
        }
    }
    return false;
}

void skip_ws(std::string_view s, std::size_t& i) noexcept {
    while (i < s.size() && is_ws(s[i])) {
        ++i;
    }
}

/// chunk-ext from @p i to the end of @p s (the line without its CRLF).
bool extensions(std::string_view s, std::size_t i) noexcept {
    while (i < s.size()) {
        skip_ws(s, i);
        if (i >= s.size() || s[i] != ';') {
            return false;  // also trailing whitespace before the CRLF
        }
        ++i;
        skip_ws(s, i);
        if (!token(s, i)) {
            return false;
        }
        std::size_t j = i;
        skip_ws(s, j);
        if (j < s.size() && s[j] == '=') {
            ++j;
            skip_ws(s, j);
            if (j < s.size() && s[j] == '"') {
                if (!quoted(s, j)) {
                    return false;
                }
            } else if (!token(s, j)) {
                return false;
            }
            i = j;
        }
    }
    return true;
}

}  // namespace

std::size_t read_buffer_initial(const ServerLimits& limits) noexcept {
    return limits.header_bytes + kReadSlack;
}

std::size_t read_buffer_max(const ServerLimits& limits) noexcept {
    return limits.header_bytes + limits.body_bytes + kReadSlack + ChunkedDecoder::kMaxLine;
}

HeadScan scan_head(std::string_view data, std::size_t& searched) noexcept {
    // Tolerate CRLFs before a request line (RFC 9112 §2.2).
    std::size_t lead = 0;
    while (lead + 1 < data.size() && data[lead] == '\r' && data[lead + 1] == '\n' && lead < 8) {
        lead += 2;
    }
    if (lead > 0) {
        return {lead, 0};
    }
    const auto end = data.find("\r\n\r\n", searched > 3 ? searched - 3 : 0);
    if (end != std::string_view::npos) {
        return {0, end + 4};
    }
    searched = data.size();
    return {};
}

HeadVerdict parse_head(std::string_view head, const ServerLimits& limits, HeadFacts& facts,
                       std::vector<Header>& fields, KnownHeaderIndex* known) {
    const HeadVerdict verdict =
        check_head(head, {limits.uri_bytes, limits.header_count}, &facts, &fields, known);
    if (verdict.status != 0) {
        return verdict;
    }
    if (facts.has_content_length && facts.content_length > limits.body_bytes) {
        return {413, "PAYLOAD_TOO_LARGE", "The request body is too large."};
    }
    // A path without '%' and '.' breaks no rule (it begins with '/': check_head saw to that).
    if (!facts.path_plain && !is_safe_path(facts.target.substr(0, facts.path_len))) {
        return {400, "INVALID_REQUEST", "The request path is not allowed."};
    }
    return {};
}

std::size_t parse_whole_head(std::string_view data, const ServerLimits& limits, HeadFacts& facts,
                             std::vector<Header>& fields, KnownHeaderIndex* known) {
    std::size_t head_len = 0;
    const HeadVerdict verdict =
        check_head(data, {limits.uri_bytes, limits.header_count}, &facts, &fields, known, &head_len);
    if (verdict.status != 0 || head_len == 0 || head_len > limits.header_bytes) {
        return 0;
    }
    if (facts.has_content_length && facts.content_length > limits.body_bytes) {
        return 0;
    }
    if (!facts.path_plain && !is_safe_path(facts.target.substr(0, facts.path_len))) {
        return 0;
    }
    return head_len;
}

ChunkedDecoder::Status ChunkedDecoder::size_line(std::string_view line) noexcept {
    std::size_t i = 0;
    std::uint64_t size = 0;
    while (i < line.size()) {
        const int d = core::hex_value(line[i]);
        if (d < 0) {
            break;
        }
        size = size * 16 + static_cast<std::uint64_t>(d);
        if (size > limit_) {
            return Status::kTooLarge;  // also stops the value from overflowing
        }
        ++i;
    }
    if (i == 0 || !extensions(line, i)) {
        return Status::kMalformed;
    }
    if (size > limit_ - decoded_) {
        return Status::kTooLarge;
    }
    remaining_ = size;
    last_ = size == 0;
    state_ = last_ ? State::kTrailer : State::kData;
    return Status::kNeedMore;
}

ChunkedDecoder::Status ChunkedDecoder::feed(char* base, std::size_t& len) noexcept {
    std::size_t pos = decoded_;  // first undecoded byte
    Status status = Status::kNeedMore;
    while (status == Status::kNeedMore && state_ != State::kDone) {
        const std::string_view rest(base + pos, len - pos);
        if (state_ == State::kSize) {
            const auto lf = rest.substr(0, kMaxLine + 2).find('\n');
            if (lf == std::string_view::npos) {
                if (rest.size() >= kMaxLine + 2) {
                    status = Status::kMalformed;
                }
                break;
            }
            if (lf == 0 || rest[lf - 1] != '\r') {
                status = Status::kMalformed;  // bare LF
                break;
            }
            status = size_line(rest.substr(0, lf - 1));
            pos += lf + 1;
        } else if (state_ == State::kData) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
            if (n == 0) {
                break;
            }
            std::memmove(base + decoded_, base + pos, n);
            decoded_ += n;
            pos += n;
            remaining_ -= n;
            if (remaining_ == 0) {
                state_ = State::kDataEnd;
            }
        } else {  // kDataEnd, kTrailer: exactly CRLF
            if (rest.empty()) {
                break;
            }
            if (rest[0] != '\r') {
                status = Status::kMalformed;  // after the last chunk: a trailer field
                break;
            }
            if (rest.size() < 2) {
                break;
            }
            if (rest[1] != '\n') {
                status = Status::kMalformed;
                break;
            }
            pos += 2;
            state_ = state_ == State::kTrailer ? State::kDone : State::kSize;
        }
    }
    // Move what is left (a partial line, or the next request) down behind the decoded body.
    if (pos != decoded_) {
        std::memmove(base + decoded_, base + pos, len - pos);
        len -= pos - decoded_;
    }
    if (status == Status::kNeedMore && state_ == State::kDone) {
        status = Status::kDone;
    }
    return status;
}

}  // namespace moneta::http::detail
