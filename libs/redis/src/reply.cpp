#include "moneta/redis/reply.hpp"

#include <charconv>
#include <cstring>

#include "reply_arena.hpp"
#include "reply_reader.hpp"

namespace moneta::redis {

ReplyType ReplyView::type() const noexcept {
    return arena_ == nullptr ? ReplyType::kNil : arena_->node(node_).type;
}

std::string_view ReplyView::as_string_view() const noexcept {
    switch (type()) {
        case ReplyType::kString:
        case ReplyType::kStatus:
        case ReplyType::kError: {
            const detail::ReplyNode& n = arena_->node(node_);
            return {arena_->data() + n.value, n.count};
        }
        default:
            return {};
    }
}

std::optional<std::int64_t> ReplyView::as_integer() const noexcept {
    if (type() != ReplyType::kInteger) {
        return std::nullopt;
    }
    return arena_->node(node_).value;
}

std::optional<std::int64_t> ReplyView::to_int64() const noexcept {
    if (auto i = as_integer()) {
        return i;
    }
    if (type() != ReplyType::kString) {
        return std::nullopt;
    }
    const auto s = as_string_view();
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    return v;
}

std::string_view ReplyView::error_message() const noexcept {
    return is_error() ? as_string_view() : std::string_view{};
}

bool ReplyView::is_error_with_prefix(std::string_view prefix) const noexcept {
    const auto msg = error_message();
    return msg.size() >= prefix.size() && msg.substr(0, prefix.size()) == prefix &&
           (msg.size() == prefix.size() || msg[prefix.size()] == ' ');
}

std::size_t ReplyView::size() const noexcept { return is_array() ? arena_->node(node_).count : 0; }

ReplyView ReplyView::operator[](std::size_t i) const noexcept {
    if (i >= size()) {
        return ReplyView{};
    }
    return ReplyView(arena_, static_cast<std::uint32_t>(arena_->node(node_).value + static_cast<std::int64_t>(i)));
}

std::string ReplyView::to_string() const {
    switch (type()) {
        case ReplyType::kNil: return "(nil)";
        // Appending (not `literal + string`) also avoids a g++ 12 -O3 -Wrestrict false positive.
        case ReplyType::kInteger: return std::string("(integer) ").append(std::to_string(*as_integer()));
        case ReplyType::kString: return std::string("\"").append(as_string_view()).append("\"");
        case ReplyType::kStatus: return as_string();
        case ReplyType::kError: return std::string("(error) ").append(as_string_view());
        case ReplyType::kArray: {
            std::string out = "[";
            for (std::size_t i = 0; i < size(); ++i) {
                if (i != 0) {
                    out += ", ";
                }
                out += (*this)[i].to_string();
            }
            return out + "]";
        }
    }
    return "?";
}

core::Result<Reply> Reply::from_resp(std::string_view wire) {
    auto* arena = new detail::ReplyArena(wire.size() + 1, nullptr);
    add_ref(arena);
    Reply holder(arena, 0);  // frees the arena on every path
    std::memcpy(arena->bytes.get(), wire.data(), wire.size());
    arena->filled = wire.size();
    std::uint32_t root = 0;
    std::size_t need = 0;
    const char* error = "";
    const detail::ParseStatus s = parse_reply(*arena, detail::ReaderLimits{}, root, need, error);
    // Unconsumed bytes (a second reply or garbage) make the input ambiguous: reject it.
    if (s != detail::ParseStatus::kReply || arena->consumed != arena->filled) {
        return core::make_error(core::Errc::kProtocolError);
    }
    holder.node_ = root;
    return holder;
}

Reply& Reply::operator=(Reply&& other) noexcept {
    if (this != &other) {
        if (arena_ != nullptr) {
            detail::release(arena_);
        }
        arena_ = other.arena_;
        node_ = other.node_;
        other.arena_ = nullptr;
    }
    return *this;
}

Reply::~Reply() {
    if (arena_ != nullptr) {
        detail::release(arena_);
    }
}

const char* reply_type_name(ReplyType t) noexcept {
    switch (t) {
        case ReplyType::kNil: return "nil";
        case ReplyType::kInteger: return "integer";
        case ReplyType::kString: return "string";
        case ReplyType::kStatus: return "status";
        case ReplyType::kError: return "error";
        case ReplyType::kArray: return "array";
    }
    return "unknown";
}

}  // namespace moneta::redis
