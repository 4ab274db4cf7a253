#include "domain/json_writer.hpp"

#include "moneta/core/assert.hpp"
#include "moneta/core/json_escape.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace moneta::domain {

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
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
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
