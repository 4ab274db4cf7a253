/// @file wire.hpp (private)
/// @brief SSH wire encoding (RFC 4251 §5): the writer appends, the reader consumes a view and
/// refuses anything truncated or non-canonical. Private: certificates and KRLs are the API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moneta::sshcert::wire {

/// Appends big-endian fields to one buffer.
class Writer {
public:
    void put_u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void put_u32(std::uint32_t v);
    void put_u64(std::uint64_t v);
    /// uint32 length + bytes.
    void put_string(std::string_view bytes);
    /// @p magnitude: an unsigned big-endian integer (leading zero bytes allowed, stripped); written
    /// in the canonical mpint form: no leading zeros, one 0x00 added when the top bit is set.
    void put_mpint(std::string_view magnitude);
    /// The names joined with ',' as one string (RFC 4251 name-list).
    void put_name_list(const std::vector<std::string>& names);
    /// Raw bytes, no length.
    void put_raw(std::string_view bytes) { out_.append(bytes); }

    const std::string& bytes() const& noexcept { return out_; }
    std::string take() && { return std::move(out_); }

private:
    std::string out_;
};

/// Consumes fields from a view; every getter returns nullopt when the input is too short or the
/// field is not canonical, and then the reader is left where it failed (callers stop there).
class Reader {
public:
    explicit Reader(std::string_view in) noexcept : in_(in) {}

    std::optional<std::uint8_t> get_u8() noexcept;
    std::optional<std::uint32_t> get_u32() noexcept;
    std::optional<std::uint64_t> get_u64() noexcept;
    /// A string's bytes (a view into the input).
    std::optional<std::string_view> get_string() noexcept;
    /// A string that holds no NUL byte (OpenSSH's cstring: names, key ids, principals).
    std::optional<std::string_view> get_cstring() noexcept;
    /// A non-negative mpint in canonical form; returns its magnitude without the sign byte (empty
    /// for zero). Refuses negative values and superfluous leading zero bytes.
    std::optional<std::string_view> get_mpint() noexcept;

    bool empty() const noexcept { return in_.empty(); }
    std::size_t remaining() const noexcept { return in_.size(); }
    /// What has not been read yet.
    std::string_view rest() const noexcept { return in_; }

private:
    std::string_view in_;
};

}  // namespace moneta::sshcert::wire
