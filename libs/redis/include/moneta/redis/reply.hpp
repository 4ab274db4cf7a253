/// @file moneta/redis/reply.hpp
/// @brief A parsed Redis reply: a flat node array plus views into the bytes it was read from,
/// held by a reference-counted arena (no per-node allocation, no string copies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/core/recycling_allocator.hpp"
#include "moneta/core/result.hpp"

namespace moneta::redis {

namespace detail {
class ReplyArena;  // src/reply_arena.hpp: read bytes + parsed nodes, shared by the replies in it
}

/// RESP2 reply types.
enum class ReplyType { kNil, kInteger, kString, kStatus, kError, kArray };

/// Non-owning view of one node of a reply (the whole reply or an array element). Valid as long
/// as the Reply it came from. Cheap to copy. A default-constructed view is nil.
class ReplyView {
public:
    constexpr ReplyView() noexcept = default;
    /// For the library (the reader and Reply); @p arena must hold node @p node.
    constexpr ReplyView(const detail::ReplyArena* arena, std::uint32_t node) noexcept
        : arena_(arena), node_(node) {}

    ReplyType type() const noexcept;
    bool is_nil() const noexcept { return type() == ReplyType::kNil; }
    bool is_integer() const noexcept { return type() == ReplyType::kInteger; }
    bool is_string() const noexcept { return type() == ReplyType::kString; }
    bool is_status() const noexcept { return type() == ReplyType::kStatus; }
    bool is_error() const noexcept { return type() == ReplyType::kError; }
    bool is_array() const noexcept { return type() == ReplyType::kArray; }

    /// Bytes of a bulk string, status or error; empty for other types. Points into the bytes
    /// read from the socket: valid as long as the Reply.
    std::string_view as_string_view() const noexcept;
    /// Copy of as_string_view().
    std::string as_string() const { return std::string(as_string_view()); }
    /// The value of an integer reply; nullopt for other types.
    std::optional<std::int64_t> as_integer() const noexcept;
    /// An integer reply, or a bulk string holding a decimal integer (e.g. GET of a counter).
    std::optional<std::int64_t> to_int64() const noexcept;
    /// Message of an error reply ("NOSCRIPT No matching script..."); empty otherwise.
    std::string_view error_message() const noexcept;
    /// True for an error reply whose first word is @p prefix (e.g. "NOSCRIPT", "WRONGTYPE").
    bool is_error_with_prefix(std::string_view prefix) const noexcept;
    /// Number of elements of an array; 0 otherwise.
    std::size_t size() const noexcept;
    /// Element @p i of an array; a nil view when out of range or not an array. O(1).
    ReplyView operator[](std::size_t i) const noexcept;

    /// redis-cli like text, for logs and test failure messages.
    std::string to_string() const;

private:
    const detail::ReplyArena* arena_ = nullptr;
    std::uint32_t node_ = 0;
};

/// One whole reply. Holds a reference on the arena its bytes and nodes live in (the client's
/// read buffer): the client never compacts or reuses an arena while a Reply references it, and
/// reads the following replies into a recycled arena instead, so keeping a Reply across
/// co_awaits is safe. Move-only. Empty (default) is nil.
///
/// @par Thread safety
/// The reference count is not atomic: destroy a Reply on the thread of the client that
/// returned it (every call of a Client runs there anyway).
class Reply {
public:
    Reply() noexcept = default;
    /// For the library: adopts one reference to @p arena (already counted by the caller).
    Reply(detail::ReplyArena* arena, std::uint32_t node) noexcept : arena_(arena), node_(node) {}
    Reply(Reply&& other) noexcept : arena_(other.arena_), node_(other.node_) { other.arena_ = nullptr; }
    Reply& operator=(Reply&& other) noexcept;
    Reply(const Reply&) = delete;
    Reply& operator=(const Reply&) = delete;
    ~Reply();

    /// Parses exactly one complete RESP2 reply from @p wire (copied), e.g.
    /// `Reply::from_resp(":1\r\n")`. For tests and mocks; the client never copies replies.
    /// @return kProtocolError when @p wire is not exactly one complete, well-formed reply.
    static core::Result<Reply> from_resp(std::string_view wire);

    ReplyView view() const noexcept { return arena_ == nullptr ? ReplyView{} : ReplyView(arena_, node_); }
    ReplyType type() const noexcept { return view().type(); }
    bool is_nil() const noexcept { return view().is_nil(); }
    bool is_integer() const noexcept { return view().is_integer(); }
    bool is_string() const noexcept { return view().is_string(); }
    bool is_status() const noexcept { return view().is_status(); }
    bool is_error() const noexcept { return view().is_error(); }
    bool is_array() const noexcept { return view().is_array(); }
    std::string_view as_string_view() const noexcept { return view().as_string_view(); }
    std::string as_string() const { return view().as_string(); }
    std::optional<std::int64_t> as_integer() const noexcept { return view().as_integer(); }
    std::optional<std::int64_t> to_int64() const noexcept { return view().to_int64(); }
    std::string_view error_message() const noexcept { return view().error_message(); }
    bool is_error_with_prefix(std::string_view prefix) const noexcept {
        return view().is_error_with_prefix(prefix);
    }
    std::size_t size() const noexcept { return view().size(); }
    ReplyView operator[](std::size_t i) const noexcept { return view()[i]; }
    std::string to_string() const { return view().to_string(); }

private:
    detail::ReplyArena* arena_ = nullptr;
    std::uint32_t node_ = 0;
};

const char* reply_type_name(ReplyType t) noexcept;

/// A pipeline's replies, in order. Its storage is recycled per thread (core::RecyclingAllocator):
/// a pipeline of up to 16 commands, made and dropped per request, allocates nothing.
using Replies = std::vector<Reply, core::RecyclingAllocator<Reply>>;

}  // namespace moneta::redis
