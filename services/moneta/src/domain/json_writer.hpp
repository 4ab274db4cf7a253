/// @file services/moneta/src/domain/json_writer.hpp
/// @brief Append-only JSON text writer: builds response bodies without a DOM (one allocation in
/// the common case, versus one per node with boost::json::value). Why: responses are on the hot
/// path and are write-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace moneta::domain {

/// Room write_double() needs: std::to_chars's longest double (24) and a margin.
inline constexpr std::size_t kDoubleChars = 32;
/// Shortest text of @p v that parses back to it — exactly what std::to_chars(double) writes —
/// into @p out (kDoubleChars bytes); returns the byte count. std::to_chars's shortest-text search
/// costs ~770 instructions, and the doubles moneta writes (positions and durations in seconds,
/// to Redis on every heartbeat and in responses) are nearly always whole milliseconds below
/// 100,000, which are written directly (~150) after checking that the text parses back to @p v
/// (json_writer_test compares the bytes with to_chars for every millisecond up to 3,000 and
/// random doubles).
std::size_t write_double(char* out, double v) noexcept;

/// Usage: `w.begin_object(); w.key("a").integer(1); w.end_object(); std::move(w).take();`
/// Commas are inserted automatically. The caller is responsible for balanced begin/end calls.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class JsonWriter {
public:
    explicit JsonWriter(std::size_t reserve = 512) { out_.reserve(reserve); }
    /// Writes into @p buffer (cleared; its capacity kept): a connection's recycled response
    /// buffer (http::Request::take_response_buffer) makes a body cost no allocation.
    JsonWriter(std::string buffer, std::size_t reserve) : out_(std::move(buffer)) {
        out_.clear();
        out_.reserve(reserve);
    }

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    /// A member name: a string literal from the code (never input), so it is written as it is
    /// — the escaper costs a heartbeat's five keys ~800 instructions (docs/performance.md, eighth
    /// round). A literal that would need escaping is a programming error (checked in debug
    /// builds; its length always).
    template <std::size_t N>
    JsonWriter& key(const char (&literal)[N]) {
        return key_literal(std::string_view(literal, N - 1));
    }
    /// A member name from data (a configured header name): escaped like a string value.
    JsonWriter& key(std::string_view k);
    JsonWriter& string(std::string_view s);
    /// One string value made of @p parts in order (a URL from base + path + suffix) without
    /// concatenating them first.
    JsonWriter& string_parts(std::initializer_list<std::string_view> parts);
    JsonWriter& integer(std::int64_t v);
    /// Shortest round-trip form; NaN/Inf are written as null (JSON has no such numbers).
    JsonWriter& number(double v);
    JsonWriter& boolean(bool v);
    JsonWriter& null();
    /// Inserts already-serialized JSON (must be a valid JSON value).
    JsonWriter& raw(std::string_view json);

    std::string take() && { return std::move(out_); }
    std::string_view view() const noexcept { return out_; }

private:
    JsonWriter& key_literal(std::string_view k);
    void before_value();
    void append_escaped(std::string_view s);

    std::string out_;
    // Bit i set: the container at depth i already has an element (needs a comma). 64 levels max.
    std::uint64_t has_element_ = 0;
    int depth_ = 0;
    bool after_key_ = false;
};

}  // namespace moneta::domain
