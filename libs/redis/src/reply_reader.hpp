#pragma once

// Our strict RESP2 reader. Why not hiredis's: hiredis 0.14 copies every fed byte into its own
// buffer and mallocs one redisReply per node (plus the string copies), so a reply of an array of
// 6 costs 7+ allocations; here a reply is a few nodes appended to a reused vector and views
// into the read buffer (docs/redis_client.md "Read path").
//
// Strict: anything Redis 6/7 would not send in RESP2 is a protocol error (the client then drops
// the connection): unknown type bytes (RESP3 included: we never send HELLO 3), a CR without LF,
// LF inside a status line, non-decimal or overflowing integers and lengths, a bulk string not
// followed by CRLF. Bounded: nesting depth, elements per array, bulk length, nodes and bytes per
// reply; an announced length never allocates anything before the bytes have arrived.

#include <cstddef>
#include <cstdint>
#include <span>

#include "moneta/redis/reply.hpp"
#include "reply_arena.hpp"

namespace moneta::redis::detail {

struct ReaderLimits {
    /// Nested arrays, the outermost included (hiredis 0.14 stops at 7 as well).
    int max_depth = 7;
    /// Elements one array may announce.
    std::int64_t max_elements = std::int64_t{1} << 20;
    /// Redis's own proto-max-bulk-len default.
    std::int64_t max_bulk = std::int64_t{512} << 20;
    /// Nodes of one reply (16 bytes each).
    std::size_t max_nodes = std::size_t{1} << 22;
    /// Bytes of one reply: the read buffer never grows beyond this.
    std::size_t max_reply_bytes = (std::size_t{512} << 20) + (std::size_t{1} << 20);
    /// Status, error, integer and length lines.
    std::size_t max_line = std::size_t{64} << 10;
};

enum class ParseStatus { kReply, kNeedMore, kError };

/// Parses one reply from @p arena's bytes [arena.consumed, arena.filled), appending its nodes.
/// kReply: @p root is its node, arena.consumed moved past it. kNeedMore: nothing changed;
/// @p need is how many unparsed bytes must be there before trying again is useful. kError:
/// @p error says why (a static string).
ParseStatus parse_reply(ReplyArena& arena, const ReaderLimits& limits, std::uint32_t& root,
                        std::size_t& need, const char*& error) noexcept;

/// The client's per-connection reader: read into prepare(), commit(n), then next() until
/// kNeedMore.
class ReplyReader {
public:
    explicit ReplyReader(ArenaPool& pool, ReaderLimits limits = {});
    ~ReplyReader();
    ReplyReader(const ReplyReader&) = delete;
    ReplyReader& operator=(const ReplyReader&) = delete;

    /// Free room at the end of the buffer (never compacts bytes a Reply can see: moves to a
    /// fresh arena instead). Empty when the reply being read exceeds max_reply_bytes.
    std::span<char> prepare();
    /// @p n bytes were read into the last prepare() span.
    void commit(std::size_t n) noexcept { arena_->filled += n; }
    /// The next complete reply, if any.
    ParseStatus next(Reply& out) noexcept;
    /// Why the last kError (static string).
    const char* error() const noexcept { return error_; }

private:
    ArenaPool* pool_;
    ReaderLimits limits_;
    ReplyArena* arena_;          ///< current arena; one of its refs is ours
    std::size_t need_ = 0;       ///< unparsed bytes required before parsing again
    const char* error_ = "";
};

}  // namespace moneta::redis::detail
