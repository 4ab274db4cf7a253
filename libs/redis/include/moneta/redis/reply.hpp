/// @file moneta/redis/reply.hpp
/// @brief Owning handle over a parsed Redis reply (hiredis redisReply tree), without copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "moneta/core/result.hpp"

struct redisReply;  // hiredis; kept out of this header

namespace moneta::redis {

/// RESP2 reply types.
enum class ReplyType { kNil, kInteger, kString, kStatus, kError, kArray };

/// Non-owning view of one node of a reply tree (the whole reply or an array element). Valid as
/// long as the Reply it came from. Cheap to copy. A default-constructed view is nil.
class ReplyView {
public:
    constexpr ReplyView() noexcept = default;
    explicit constexpr ReplyView(const redisReply* node) noexcept : node_(node) {}

    ReplyType type() const noexcept;
    bool is_nil() const noexcept { return type() == ReplyType::kNil; }
    bool is_integer() const noexcept { return type() == ReplyType::kInteger; }
    bool is_string() const noexcept { return type() == ReplyType::kString; }
    bool is_status() const noexcept { return type() == ReplyType::kStatus; }
    bool is_error() const noexcept { return type() == ReplyType::kError; }
    bool is_array() const noexcept { return type() == ReplyType::kArray; }

    /// Bytes of a bulk string, status or error; empty for other types.
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
    /// Element @p i of an array; a nil view when out of range or not an array.
    ReplyView operator[](std::size_t i) const noexcept;

    /// redis-cli like text, for logs and test failure messages.
    std::string to_string() const;

private:
    const redisReply* node_ = nullptr;
};

/// Owns a whole reply tree (freed with freeReplyObject). Move-only. Empty (default) is nil.
class Reply {
public:
    Reply() noexcept = default;
    /// Takes ownership of @p root (as returned by redisReaderGetReply).
    explicit Reply(redisReply* root) noexcept : root_(root) {}
    Reply(Reply&& other) noexcept : root_(other.release()) {}
    Reply& operator=(Reply&& other) noexcept;
    Reply(const Reply&) = delete;
    Reply& operator=(const Reply&) = delete;
    ~Reply();

    /// Parses exactly one complete RESP2 reply from @p wire, e.g. `Reply::from_resp(":1\r\n")`.
    /// For tests and mocks; the client itself never copies replies.
    /// @return kProtocolError when @p wire is not exactly one complete reply.
    static core::Result<Reply> from_resp(std::string_view wire);

    ReplyView view() const noexcept { return ReplyView(root_); }
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

    /// Gives up ownership (the caller must freeReplyObject it).
    redisReply* release() noexcept {
        redisReply* r = root_;
        root_ = nullptr;
        return r;
    }

private:
    redisReply* root_ = nullptr;
};

const char* reply_type_name(ReplyType t) noexcept;

}  // namespace moneta::redis
