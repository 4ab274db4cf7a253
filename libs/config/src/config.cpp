#include "moneta/config/config.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace moneta::config {

namespace json = boost::json;

const json::object Reader::kEmpty{};

namespace {

/// A key as it may appear in a message: control bytes and DEL as \xNN, the empty key as "".
/// A key is any JSON string; a NUL would cut the message short and a newline would forge log
/// lines.
std::string printable(std::string_view key) {
    if (key.empty()) {
        return "\"\"";
    }
    std::string out;
    out.reserve(key.size());
    for (char ch : key) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F || c == '\\') {
            static constexpr char kHex[] = "0123456789abcdef";
            out += c == '\\' ? std::string("\\\\") : std::string{'\\', 'x', kHex[c >> 4], kHex[c & 15]};
        } else {
            out += ch;
        }
    }
    return out;
}

}  // namespace

Reader::Reader(const json::object& object, std::string path) : object_(&object), path_(std::move(path)) {}

std::string Reader::key_path(std::string_view key) const {
    return path_.empty() ? printable(key) : path_ + "." + printable(key);
}

void Reader::fail(std::string_view key, std::string_view what) const {
    throw ConfigError(key_path(key) + ": " + std::string(what));
}

const json::value* Reader::find(std::string_view key) {
    seen_.emplace(key);
    const json::value* v = object_->if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
}

std::string Reader::string(std::string_view key, std::string fallback) {
    const json::value* v = find(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->is_string()) {
        fail(key, "expected a string");
    }
    return std::string(v->get_string());
}

std::string Reader::required_string(std::string_view key) {
    if (find(key) == nullptr) {
        fail(key, "required");
    }
    return string(key, {});
}

std::optional<std::string> Reader::optional_string(std::string_view key) {
    if (find(key) == nullptr) {
        return std::nullopt;
    }
    return string(key, {});
}

bool Reader::boolean(std::string_view key, bool fallback) {
    const json::value* v = find(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->is_bool()) {
        fail(key, "expected true or false");
    }
    return v->get_bool();
}

std::int64_t Reader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                             std::int64_t max) {
    const json::value* v = find(key);
    if (v == nullptr) {
        return fallback;
    }
    std::int64_t out = 0;
    if (v->is_int64()) {
        out = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = static_cast<std::int64_t>(v->get_uint64());
    } else {
        fail(key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                      json::serialize(*v));
    }
    if (out < min || out > max) {
        fail(key, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                      "], got " + std::to_string(out));
    }
    return out;
}

double Reader::number(std::string_view key, double fallback, double min, double max) {
    const json::value* v = find(key);
    if (v == nullptr) {
        return fallback;
    }
    const auto g = [](double d) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", d);
        return std::string(buf);
    };
    const std::string range = "expected a number in [" + g(min) + ", " + g(max) + "], got ";
    if (!v->is_number()) {
        fail(key, range + json::serialize(*v));
    }
    const double out = v->to_number<double>();
    if (!(out >= min && out <= max)) {
        fail(key, range + g(out));
    }
    return out;
}

std::uint16_t Reader::port(std::string_view key, std::uint16_t fallback) {
    return static_cast<std::uint16_t>(integer(key, fallback, 0, 65535));
}

std::chrono::milliseconds Reader::millis(std::string_view key, std::chrono::milliseconds fallback) {
    return std::chrono::milliseconds(integer(key, fallback.count(), 0, 86'400'000LL * 365));
}

std::vector<std::string> Reader::strings(std::string_view key, std::vector<std::string> fallback) {
    const json::value* v = find(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->is_array()) {
        fail(key, "expected an array of strings");
    }
    std::vector<std::string> out;
    for (const json::value& e : v->get_array()) {
        if (!e.is_string()) {
            fail(key, "expected an array of strings");
        }
        out.emplace_back(e.get_string());
    }
    return out;
}

std::map<std::string, std::int64_t, std::less<>> Reader::integer_map(
    std::string_view key, std::map<std::string, std::int64_t, std::less<>> fallback) {
    const json::value* v = find(key);
    if (v == nullptr) {
        return fallback;
    }
    if (!v->is_object()) {
        fail(key, "expected an object of integers");
    }
    std::map<std::string, std::int64_t, std::less<>> out;
    for (const auto& [k, e] : v->get_object()) {
        if (!e.is_int64()) {
            fail(key, "expected an object of integers (at \"" + printable(k) + "\")");
        }
        out.emplace(std::string(k), e.get_int64());
    }
    return out;
}

Secret Reader::secret(std::string_view key, bool required) {
    const json::value* v = find(key);
    if (v == nullptr) {
        if (required) {
            fail(key, "required (a secret: {\"env\":\"NAME\"} or {\"file\":\"/path\"})");
        }
        return Secret{};
    }
    if (!v->is_object()) {
        fail(key, "secrets are never inline: use {\"env\":\"NAME\"} or {\"file\":\"/path\"}");
    }
    const json::object& o = v->get_object();
    if (o.size() != 1 || (!o.contains("env") && !o.contains("file")) ||
        !o.begin()->value().is_string()) {
        fail(key, "expected {\"env\":\"NAME\"} or {\"file\":\"/path\"}");
    }
    const std::string ref(o.begin()->value().get_string());
    std::string value;
    if (o.contains("env")) {
        const char* e = std::getenv(ref.c_str());
        value = e == nullptr ? "" : e;
        if (value.empty() && required) {
            fail(key, "environment variable " + ref + " is not set");
        }
    } else {
        std::ifstream in(ref, std::ios::binary);
        if (!in) {
            fail(key, "cannot read secret file " + ref);
        }
        std::stringstream ss;
        ss << in.rdbuf();
        value = ss.str();
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
            value.pop_back();
        }
        if (value.empty() && required) {
            fail(key, "secret file " + ref + " is empty");
        }
    }
    return Secret(std::move(value));
}

Reader Reader::child(std::string_view key) {
    const json::value* v = find(key);
    if (v == nullptr) {
        return Reader(kEmpty, key_path(key));
    }
    if (!v->is_object()) {
        fail(key, "expected an object");
    }
    return Reader(v->get_object(), key_path(key));
}

std::vector<Reader> Reader::children(std::string_view key) {
    const json::value* v = find(key);
    std::vector<Reader> out;
    if (v == nullptr) {
        return out;
    }
    if (!v->is_array()) {
        fail(key, "expected an array of objects");
    }
    std::size_t i = 0;
    for (const json::value& e : v->get_array()) {
        if (!e.is_object()) {
            fail(key, "expected an array of objects");
        }
        out.emplace_back(e.get_object(), key_path(key) + "[" + std::to_string(i++) + "]");
    }
    return out;
}

std::vector<std::pair<std::string, Reader>> Reader::named_children(std::string_view key) {
    const json::value* v = find(key);
    std::vector<std::pair<std::string, Reader>> out;
    if (v == nullptr) {
        return out;
    }
    if (!v->is_object()) {
        fail(key, "expected an object of objects");
    }
    for (const auto& kv : v->get_object()) {
        const std::string path = key_path(key) + "." + printable(kv.key());
        if (!kv.value().is_object()) {
            throw ConfigError(path + ": expected an object");
        }
        out.emplace_back(std::string(kv.key()), Reader(kv.value().get_object(), path));
    }
    return out;
}

void Reader::finish() const {
    for (const auto& kv : *object_) {
        if (!seen_.contains(std::string_view(kv.key()))) {
            throw ConfigError(key_path(kv.key()) + ": unknown key");
        }
    }
}

namespace {
boost::system::result<json::value, std::string> load_error(std::string message) {
    return {boost::system::in_place_error, std::move(message)};
}
}  // namespace

boost::system::result<json::value, std::string> load_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return load_error(file.string() + ": cannot open");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_text(ss.str(), file.string());
}

boost::system::result<json::value, std::string> parse_text(std::string_view text, std::string_view name) {
    json::stream_parser parser;
    boost::system::error_code ec;
    std::size_t consumed = parser.write_some(text.data(), text.size(), ec);
    if (!ec) {
        parser.finish(ec);
    }
    if (ec) {
        std::size_t line = 1;
        std::size_t col = 1;
        for (std::size_t i = 0; i < consumed && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        return load_error(std::string(name) + ":" + std::to_string(line) + ":" + std::to_string(col) +
                          ": invalid JSON (" + ec.message() + ")");
    }
    json::value v = parser.release();
    if (!v.is_object()) {
        return load_error(std::string(name) + ": the top level must be an object");
    }
    return v;
}

boost::system::result<void, std::string> apply_env(json::value& root,
                                                   std::span<const EnvOverride> overrides) {
    for (const EnvOverride& o : overrides) {
        const char* raw = std::getenv(std::string(o.env).c_str());
        if (raw == nullptr || *raw == '\0') {
            continue;
        }
        const std::string text(raw);
        json::value value;
        switch (o.type) {
            case EnvType::kString: value = text.c_str(); break;
            case EnvType::kStringList: {
                json::array items;
                std::string_view rest = text;
                while (true) {
                    const auto comma = rest.find(',');
                    const std::string_view item = rest.substr(0, comma);
                    if (item.empty()) {
                        return std::string(o.env) + ": expected a comma-separated list without empty items, got \"" +
                               text + "\"";
                    }
                    items.emplace_back(json::string(item));
                    if (comma == std::string_view::npos) {
                        break;
                    }
                    rest.remove_prefix(comma + 1);
                }
                value = std::move(items);
                break;
            }
            case EnvType::kBoolean:
                if (text != "true" && text != "false") {
                    return std::string(o.env) + ": expected true or false, got \"" + text + "\"";
                }
                value = text == "true";
                break;
            case EnvType::kInteger: {
                std::size_t pos = 0;
                long long n = 0;
                try {
                    n = std::stoll(text, &pos);
                } catch (const std::exception&) {
                    pos = 0;
                }
                if (pos == 0 || pos != text.size()) {
                    return std::string(o.env) + ": expected an integer, got \"" + text + "\"";
                }
                value = n;
                break;
            }
        }
        json::value* node = &root;
        std::string_view path = o.path;
        while (true) {
            const auto dot = path.find('.');
            const std::string_view part = path.substr(0, dot);
            if (!node->is_object()) {
                return std::string(o.env) + ": cannot set " + std::string(o.path);
            }
            if (dot == std::string_view::npos) {
                node->get_object()[part] = value;
                break;
            }
            json::object& obj = node->get_object();
            if (!obj.contains(part)) {
                obj[part] = json::object{};
            }
            node = &obj[part];
            path.remove_prefix(dot + 1);
        }
    }
    return {};
}

boost::system::result<json::value, std::string> load_file(const std::filesystem::path& file,
                                                         std::span<const EnvOverride> overrides) {
    auto doc = load_file(file);
    if (!doc) {
        return doc;
    }
    if (auto applied = apply_env(*doc, overrides); !applied) {
        return {boost::system::in_place_error, applied.error()};
    }
    return doc;
}

}  // namespace moneta::config
