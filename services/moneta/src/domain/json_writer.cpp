#include "domain/json_writer.hpp"

#include "moneta/core/assert.hpp"
#include "moneta/core/json_escape.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace moneta::domain {

std::size_t write_double(char* out, double v) noexcept {
    // Whole milliseconds below 100,000 s: n / 1000 with its trailing zeros dropped is then the
    // shortest text that parses back to v (two texts of at most three decimals differ by 0.001,
    // far more than a double's spacing below 1e5, so no shorter one rounds to v), and to_chars
    // writes it in fixed notation (scientific is never shorter below 1e5; a tie, as 0.001 and
    // 1e-03, goes to fixed). Dividing the exact n by 1000 rounds as parsing the text does, so
    // the == is the round-trip check.
    if (v >= 0.0 && v < 100000.0 && !std::signbit(v)) {
        const auto n = static_cast<std::int64_t>(v * 1000.0 + 0.5);
        if (static_cast<double>(n) / 1000.0 == v) {
            char* p = std::to_chars(out, out + kDoubleChars, n / 1000).ptr;
            if (const auto ms = static_cast<int>(n % 1000); ms != 0) {
                const char digits[3] = {static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                                        static_cast<char>('0' + ms % 10)};
                const int keep = digits[2] != '0' ? 3 : digits[1] != '0' ? 2 : 1;
                *p++ = '.';
                for (int i = 0; i < keep; ++i) {
                    *p++ = digits[i];
                }
            }
            return static_cast<std::size_t>(p - out);
        }
    }
    return static_cast<std::size_t>(std::to_chars(out, out + kDoubleChars, v).ptr - out);
}

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (depth_ > 0) {
        const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
        if ((has_element_ & bit) != 0) {
            out_.push_back(',');
        }
        has_element_ |= bit;
    }
}

JsonWriter& JsonWriter::begin_object() {
    before_value();
    out_.push_back('{');
    ++depth_;
    has_element_ &= ~(std::uint64_t{1} << (depth_ - 1));
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    --depth_;
    out_.push_back('}');
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    before_value();
    out_.push_back('[');
    ++depth_;
    has_element_ &= ~(std::uint64_t{1} << (depth_ - 1));
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    --depth_;
    out_.push_back(']');
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
    before_value();
    append_escaped(k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::key_literal(std::string_view k) {
    before_value();
    char quoted[64];
    MONETA_RELEASE_ASSERT(k.size() + 3 <= sizeof quoted, "a JSON key literal must be short");
    MONETA_ASSERT(std::all_of(k.begin(), k.end(), [](char c) { return c > 0x20 && c < 0x7F && c != '"' && c != '\\'; }),
                  "a JSON key literal must be plain ASCII");
    quoted[0] = '"';
    std::memcpy(quoted + 1, k.data(), k.size());
    quoted[k.size() + 1] = '"';
    quoted[k.size() + 2] = ':';
    out_.append(quoted, k.size() + 3);
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
    before_value();
    append_escaped(s);
    return *this;
}

JsonWriter& JsonWriter::string_parts(std::initializer_list<std::string_view> parts) {
    before_value();
    out_.push_back('"');
    for (const std::string_view part : parts) {
        // Each part escaped on its own (a part must not split a UTF-8 character), its quotes
        // dropped: the value is the parts' concatenation.
        const std::size_t at = out_.size();
        core::append_json_string(out_, part);
        out_.pop_back();
        out_.erase(at, 1);
    }
    out_.push_back('"');
    return *this;
}

JsonWriter& JsonWriter::integer(std::int64_t v) {
    before_value();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

JsonWriter& JsonWriter::number(double v) {
    before_value();
    if (!std::isfinite(v)) {
        out_ += "null";
        return *this;
    }
    char buf[kDoubleChars];
    out_.append(buf, write_double(buf, v));
    return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
    before_value();
    out_ += v ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null() {
    before_value();
    out_ += "null";
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    before_value();
    out_ += json;
    return *this;
}

// The shared escaper: control bytes escaped, invalid UTF-8 replaced by U+FFFD (docs/logging.md).
void JsonWriter::append_escaped(std::string_view s) { core::append_json_string(out_, s); }

}  // namespace moneta::domain
