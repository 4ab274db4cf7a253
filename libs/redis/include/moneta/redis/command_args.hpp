/// @file moneta/redis/command_args.hpp
/// @brief The argument list of one Redis command: `{"GET", key}` inline, or any contiguous
/// range of std::string_view.
#pragma once

#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>

#include "moneta/core/decimal.hpp"

namespace moneta::redis {

/// Why not std::initializer_list: g++ 12 rejects a braced list whose backing array lives across a
/// `co_await` ("array used as initializer"), i.e. exactly `co_await c.async_command({"GET", k},
/// dl)`. A class temporary is fine, so this type takes the braced arguments by value (as views,
/// up to kMaxInline) and everything longer as a range.
///
/// Never copies bytes: the views must stay valid until the call returns, which holds whenever
/// the call is `co_await`ed in the same full expression.
class CommandArgs {
public:
    static constexpr std::size_t kMaxInline = 16;

    /// No arguments (e.g. no KEYS for a script).
    constexpr CommandArgs() noexcept = default;

    /// Inline: `{"HSET", key, field, value}`. Each argument converts to std::string_view.
    template <class... T>
        requires(sizeof...(T) >= 1 && (std::is_convertible_v<const T&, std::string_view> && ...))
    constexpr CommandArgs(const T&... args) noexcept  // NOLINT(google-explicit-constructor)
        : inline_{std::string_view(args)...}, size_(sizeof...(T)) {
        static_assert(sizeof...(T) <= kMaxInline,
                      "more than kMaxInline arguments: pass a std::vector/array of string_view");
    }

    /// Any contiguous range of std::string_view (array, std::vector, std::span).
    template <class R>
        requires(std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                 std::same_as<std::ranges::range_value_t<R>, std::string_view>)
    constexpr CommandArgs(const R& range) noexcept  // NOLINT(google-explicit-constructor)
        : external_(std::ranges::data(range), std::ranges::size(range)), is_external_(true) {}

    std::span<const std::string_view> span() const noexcept {
        return is_external_ ? external_ : std::span<const std::string_view>(inline_.data(), size_);
    }
    std::size_t size() const noexcept { return span().size(); }
    bool empty() const noexcept { return size() == 0; }

private:
    std::array<std::string_view, kMaxInline> inline_{};
    std::size_t size_ = 0;
    std::span<const std::string_view> external_;
    bool is_external_ = false;
};

/// Decimal text of an integer in a stack buffer: integer arguments without a std::string,
/// e.g. `const IntArg ttl(ms); co_await c.async_command({"PEXPIRE", key, ttl.view()}, dl)`.
class IntArg {
public:
    // write_decimal: to_chars's text, eight digits at a time (a heartbeat's 13-digit time).
    explicit IntArg(std::int64_t v) noexcept
        : len_(static_cast<std::size_t>(core::write_decimal(buf_, v) - buf_)) {}
    std::string_view view() const noexcept { return {buf_, len_}; }
    operator std::string_view() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)

private:
    static constexpr std::size_t kRoom = 24;
    static_assert(kRoom >= core::kDecimalRoom);
    char buf_[kRoom];
    std::size_t len_ = 0;
};

}  // namespace moneta::redis
