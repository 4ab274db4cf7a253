// The handler is Boost.JSON's own (detail/impl/handler.ipp: a value_stack) plus one counter.
#include "unique_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

namespace moneta::jwt::detail {
namespace {

namespace json = boost::json;
using json::error_code;
using json::string_view;

struct CountingHandler {
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    json::value_stack st;
    std::size_t members = 0;  ///< every member of every object, duplicates included

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code&) { return true; }
    bool on_object_end(std::size_t n, error_code&) {
        members += n;
        st.push_object(n);  // keeps the last of equal names
        return true;
    }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t n, error_code&) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(string_view s, std::size_t, error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_key(string_view s, std::size_t, error_code&) {
        st.push_key(s);
        return true;
    }
    bool on_string_part(string_view s, std::size_t, error_code&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(string_view s, std::size_t, error_code&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(std::int64_t i, string_view, error_code&) {
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, string_view, error_code&) {
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, string_view, error_code&) {
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, error_code&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(error_code&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }
};

/// Members held by every object in @p v (after duplicates collapsed).
std::size_t held_members(const json::value& v) {
    std::size_t n = 0;
    if (const json::object* o = v.if_object()) {
        n += o->size();
        for (const auto& kv : *o) {
            n += held_members(kv.value());
        }
    } else if (const json::array* a = v.if_array()) {
        for (const json::value& e : *a) {
            n += held_members(e);
        }
    }
    return n;
}

}  // namespace

UniqueObject parse_unique_object(std::string_view text, std::size_t max_depth) {
    UniqueObject out;
    json::parse_options opt;
    opt.max_depth = max_depth;
    json::basic_parser<CountingHandler> p(opt);
    p.handler().st.reset();
    error_code ec;
    const std::size_t used = p.write_some(false, text.data(), text.size(), ec);
    if (ec || used != text.size() || !p.done()) {
        return out;
    }
    json::value v = p.handler().st.release();
    if (!v.is_object()) {
        out.verdict = JsonVerdict::kNotObject;
        return out;
    }
    if (held_members(v) != p.handler().members) {
        out.verdict = JsonVerdict::kDuplicateName;
        return out;
    }
    out.verdict = JsonVerdict::kOk;
    out.object = std::move(v.get_object());
    return out;
}

}  // namespace moneta::jwt::detail
