/// @file libs/http_server/src/read_buffer.hpp
/// @brief A connection's read buffer: one allocation kept for the connection's life, the request
/// head and body parsed where they were read (Request's views point into it), pipelined bytes
/// kept for the next request. Data moves only between requests (compact) or when a body needs
/// more room than the buffer has (reserve, rare); the caller re-parses the head after a move.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace moneta::http::detail {

class ReadBuffer {
public:
    /// @param initial capacity allocated at the first read; @p max the most reserve() grows to.
    ReadBuffer(std::size_t initial, std::size_t max) noexcept : initial_(initial), max_(max) {}

    char* data() noexcept { return buf_.get() + begin_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return begin_ == end_; }
    std::string_view view() const noexcept { return {buf_.get() + begin_, end_ - begin_}; }

    /// Drops the first @p n bytes (a finished request).
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) {
            begin_ = end_ = 0;
        }
    }
    /// Sets the size from data() (after in-place chunked decoding shortened the bytes).
    void resize(std::size_t n) noexcept { end_ = begin_ + n; }

    /// Free space after the data, allocating the buffer on first use.
    char* room() {
        if (!buf_) {
            buf_.reset(new char[initial_]);
            cap_ = initial_;
        }
        return buf_.get() + end_;
    }
    std::size_t room_size() const noexcept { return buf_ ? cap_ - end_ : initial_; }
    void commit(std::size_t n) noexcept { end_ += n; }

    /// Between requests (no view points in): makes at least @p n bytes of room from data() by
    /// moving the pipelined rest to the front when needed.
    void compact(std::size_t n) noexcept {
        if (buf_ && begin_ > 0 && cap_ - begin_ < n) {
            std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
    }

    enum class Reserve { kFits, kMoved, kTooLarge };
    /// Room for @p n bytes from data(). kMoved: the data moved, every view into it must be
    /// rebuilt. kTooLarge: over the maximum, nothing changed.
    Reserve reserve(std::size_t n) {
        room();
        if (cap_ - begin_ >= n) {
            return Reserve::kFits;
        }
        if (n > max_) {
            return Reserve::kTooLarge;
        }
        if (cap_ < n) {
            std::size_t cap = cap_;
            while (cap < n) {
                cap = cap * 2 > max_ ? max_ : cap * 2;
            }
            std::unique_ptr<char[]> bigger(new char[cap]);
            std::memcpy(bigger.get(), buf_.get() + begin_, end_ - begin_);
            buf_ = std::move(bigger);
            cap_ = cap;
        } else {
            std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        }
        end_ -= begin_;
        begin_ = 0;
        return Reserve::kMoved;
    }

private:
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t initial_;
    std::size_t max_;
};

}  // namespace moneta::http::detail
