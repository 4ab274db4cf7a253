/// @file libs/jwt/src/jose_reader.hpp
/// @brief A strict single-pass reader for JOSE headers and JWT claims sets: it validates the
/// whole text as JSON (RFC 8259: no comments, no trailing commas, valid UTF-8, paired surrogates,
/// depth bounded) and hands back the top-level members the caller names, as views into the text,
/// without building a tree. Duplicate member names are refused at every depth, also when one
/// spelling uses escapes ("\u0061lg" = "alg"): RFC 7515 §4 lets a parser keep the last or refuse,
/// and RFC 8725 §3.11 warns that two parsers choosing differently is an attack, so we refuse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "moneta/jwt/claims.hpp"

namespace moneta::jwt::detail {

enum class JsonVerdict : unsigned char { kOk, kInvalid, kNotObject, kDuplicateName };

enum class JsonKind : unsigned char { kAbsent, kString, kNumber, kObject, kArray, kTrue, kFalse, kNull };

/// One top-level member's value: for a string, the text between the quotes (still escaped);
/// for anything else, the value's whole text.
struct JsonValue {
    JsonKind kind = JsonKind::kAbsent;
    std::string_view raw;
    bool escaped = false;  ///< a string holding at least one backslash escape
};

/// Texts longer than this are refused (kInvalid): tokens are capped far below it (8 KiB).
inline constexpr std::size_t kMaxJsonBytes = 65535;

/// Reads @p text, an object. For each name in @p names, @p out (same size) gets its value, or
/// kAbsent. Names are matched after unescaping. Depth counts the top-level object as 1.
JsonVerdict read_object(std::string_view text, std::span<const std::string_view> names,
                        std::span<JsonValue> out, std::size_t max_depth = 16) noexcept;

/// The string a kString value stands for (escapes decoded; the value was validated).
void unescape_into(const JsonValue& v, ClaimString& out);

/// A JSON number that is an integer NumericDate: digits, optionally a fraction of zeros only
/// ("1700000000.0"); no exponent, no sign but "-0". nullopt otherwise or beyond @p max.
std::optional<std::int64_t> integral_number(std::string_view raw, std::int64_t max) noexcept;

/// Calls @p f(JsonValue) for each element of a validated kArray value, as long as the elements
/// are strings. @return false at the first element that is not a string (or when f says stop).
template <typename F>
bool for_each_string(const JsonValue& array, F&& f) {
    const char* p = array.raw.data() + 1;                       // after '['
    const char* end = array.raw.data() + array.raw.size() - 1;  // at ']'
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',')) {
            ++p;
        }
        if (p >= end) {
            return true;
        }
        if (*p != '"') {
            return false;
        }
        const char* begin = ++p;
        bool escaped = false;
        while (*p != '"') {  // validated: the closing quote is there
            if (*p == '\\') {
                escaped = true;
                ++p;
            }
            ++p;
        }
        if (!f(JsonValue{JsonKind::kString, std::string_view(begin, static_cast<std::size_t>(p - begin)), escaped})) {
            return false;
        }
        ++p;
    }
}

}  // namespace moneta::jwt::detail
