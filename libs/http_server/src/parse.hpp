/// @file libs/http_server/src/parse.hpp
/// @brief The pure steps of reading one request that server.cpp runs between socket reads:
/// find the end of the head, parse it strictly in one pass into fixed slots, then frame the body
/// (Content-Length, or a strict chunked decoder working in place in the read buffer). No I/O and
/// no allocation here, so fuzz/http_request_fuzz.cpp drives exactly the code the server runs
/// (docs/fuzzing.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "moneta/http/request.hpp"
#include "moneta/http/server.hpp"
#include "read_buffer.hpp"
#include "strict.hpp"

namespace moneta::http::detail {

/// Where the request head ends in the bytes buffered so far.
struct HeadScan {
    std::size_t skip = 0;      ///< leading CRLFs to discard, then scan again (RFC 9112 §2.2)
    std::size_t head_len = 0;  ///< bytes through the CRLFCRLF; 0 while the head is incomplete
};

/// @param searched bytes of @p data already searched without a match; updated when none is
/// found, so a slow client's head is not rescanned from the start at every read.
HeadScan scan_head(std::string_view data, std::size_t& searched) noexcept;

/// check_head over @p head (exactly the bytes through CRLFCRLF), filling @p facts, @p fields
/// and @p known (views into @p head; give @p fields capacity for limits.header_count and nothing
/// allocates),
/// then the body limit (a Content-Length over it is 413 before any body byte is read) and the
/// path rules (is_safe_path).
/// @return status 0 when the head is acceptable (the body, if any, is still to be framed), else
/// the error to answer before closing: 400, 413, 414, 431, 501 or 505.
HeadVerdict parse_head(std::string_view head, const ServerLimits& limits, HeadFacts& facts,
                       std::vector<Header>& fields, KnownHeaderIndex* known = nullptr);

/// The usual request in one pass: when @p data (the bytes buffered) begins with a whole head
/// that parse_head accepts, within limits.header_bytes, returns that head's length with
/// @p facts, @p fields and @p known filled exactly as scan_head and parse_head would fill them;
/// else 0, deciding nothing: the caller then goes the long way (scan_head, the limits,
/// parse_head), which gives every other head its verdict. Saves the search for CRLFCRLF: in a
/// head the strict pass accepts, a CR only ends a line, so its first empty line is where that
/// search stops.
std::size_t parse_whole_head(std::string_view data, const ServerLimits& limits, HeadFacts& facts,
                             std::vector<Header>& fields, KnownHeaderIndex* known = nullptr);

/// Bytes a connection keeps free after the head for a body and pipelined requests.
inline constexpr std::size_t kReadSlack = 4096;

/// A connection's read buffer: a head and kReadSlack at first (12 KiB with the defaults, small
/// JSON bodies fit), growing for a larger body up to what the largest request needs.
std::size_t read_buffer_initial(const ServerLimits& limits) noexcept;
std::size_t read_buffer_max(const ServerLimits& limits) noexcept;

/// A strict decoder of a chunked request body (RFC 9112 §7.1), in place: chunk data is moved
/// down over the framing so the decoded body ends up contiguous where the encoded one began.
///   chunk      = 1*HEXDIG *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ) CRLF
///                data CRLF
///   last-chunk = 1*"0" [ext] CRLF, then CRLF: trailer fields are refused (a smuggling vector:
///                a second Host, or an Authorization the head never had).
/// Stricter than RFC 9112 on purpose: no whitespace before CRLF, a chunk line of at most
/// kMaxLine bytes, no bare LF.
class ChunkedDecoder {
public:
    enum class Status : std::uint8_t { kNeedMore, kDone, kMalformed, kTooLarge };
    static constexpr std::size_t kMaxLine = 1024;

    explicit ChunkedDecoder(std::size_t body_limit) noexcept : limit_(body_limit) {}

    /// @param base where the body begins in the buffer; [base, base + len) holds the decoded body
    /// so far followed by the bytes not decoded yet. On return @p len is the decoded size plus the
    /// undecoded rest, moved down to follow the decoded body (so the next read appends to it).
    /// kDone: the body is [base, base + decoded()); [base + decoded(), base + len) is the next
    /// request's. kNeedMore: read more bytes after base + len and call again.
    Status feed(char* base, std::size_t& len) noexcept;

    std::size_t decoded() const noexcept { return decoded_; }

private:
    enum class State : std::uint8_t { kSize, kData, kDataEnd, kTrailer, kDone };
    Status size_line(std::string_view line) noexcept;

    std::size_t limit_;
    std::size_t decoded_ = 0;
    std::uint64_t remaining_ = 0;  ///< data bytes left in the current chunk
    State state_ = State::kSize;
    bool last_ = false;
};

}  // namespace moneta::http::detail
