#include "moneta/redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

#include "reader.hpp"

namespace moneta::redis {

namespace {

using CreateArray = void* (*)(const redisReadTask*, int);
CreateArray g_create_array = nullptr;  // hiredis's own, set once with the table below

void* create_bounded_array(const redisReadTask* task, int elements) {
    if (elements > detail::kMaxReplyElements) {
        return nullptr;  // hiredis sets the reader's error ("Out of memory") and stops
    }
    return g_create_array(task, elements);
}

}  // namespace

redisReader* detail::create_reader() noexcept {
    redisReader* reader = redisReaderCreate();
    if (reader == nullptr) {
        return nullptr;
    }
    // hiredis's default functions are static in the library: copy them once, bound createArray.
    static redisReplyObjectFunctions functions = [reader] {
        redisReplyObjectFunctions f = *reader->fn;
        g_create_array = f.createArray;
        f.createArray = &create_bounded_array;
        return f;
    }();
    reader->fn = &functions;
    return reader;
}

ReplyType ReplyView::type() const noexcept {
    if (node_ == nullptr) {
        return ReplyType::kNil;
    }
    switch (node_->type) {
        case REDIS_REPLY_STRING: return ReplyType::kString;
        case REDIS_REPLY_ARRAY: return ReplyType::kArray;
        case REDIS_REPLY_INTEGER: return ReplyType::kInteger;
        case REDIS_REPLY_STATUS: return ReplyType::kStatus;
        case REDIS_REPLY_ERROR: return ReplyType::kError;
        default: return ReplyType::kNil;
    }
}

std::string_view ReplyView::as_string_view() const noexcept {
    switch (type()) {
        case ReplyType::kString:
        case ReplyType::kStatus:
        case ReplyType::kError:
            return {node_->str, node_->len};
        default:
            return {};
    }
}

std::optional<std::int64_t> ReplyView::as_integer() const noexcept {
    if (type() != ReplyType::kInteger) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(node_->integer);
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

std::size_t ReplyView::size() const noexcept { return is_array() ? node_->elements : 0; }

ReplyView ReplyView::operator[](std::size_t i) const noexcept {
    if (i >= size()) {
        return ReplyView{};
    }
    return ReplyView(node_->element[i]);
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
    redisReader* reader = detail::create_reader();
    if (reader == nullptr) {
        return core::make_error(core::Errc::kProtocolError);
    }
    void* raw = nullptr;
    const bool ok = redisReaderFeed(reader, wire.data(), wire.size()) == REDIS_OK &&
                    redisReaderGetReply(reader, &raw) == REDIS_OK && raw != nullptr;
    Reply reply(static_cast<redisReply*>(raw));
    // Unconsumed bytes (a second reply or garbage) make the input ambiguous: reject it.
    const bool trailing = ok && reader->pos != reader->len;
    redisReaderFree(reader);
    if (!ok || trailing) {
        return core::make_error(core::Errc::kProtocolError);
    }
    return reply;
}

Reply& Reply::operator=(Reply&& other) noexcept {
    if (this != &other) {
        if (root_ != nullptr) {
            freeReplyObject(root_);
        }
        root_ = other.release();
    }
    return *this;
}

Reply::~Reply() {
    if (root_ != nullptr) {
        freeReplyObject(root_);
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
