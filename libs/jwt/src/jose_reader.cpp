// One recursive-descent pass over the text; no tree, no allocation for texts of up to
// kStackBytes (a JOSE header or claims set is ~100-300 bytes). Duplicate names are found with a
// small open-addressing table of (object, hash of the unescaped name) → name, compared in full on
// a hash match, so "\u0061lg" and "alg" collide as they should and nothing is refused by a hash
// collision alone.
#include "jose_reader.hpp"

#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include "moneta/core/hex.hpp"

namespace moneta::jwt::detail {
namespace {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
constexpr std::size_t kStackSlots = 256;   // texts up to ~500 bytes use no heap for the table
constexpr std::uint32_t kMaxExponent = 9999;  // stricter than any parser we could disagree with

struct Slot {
    std::uint64_t hash;
    std::uint32_t object;  ///< 0: empty
    std::uint16_t pos;     ///< the name's raw text (between the quotes)
    std::uint16_t len;
};

/// Where a member name's unescaped bytes go: a hash and, for matching the caller's names, the
/// first bytes.
struct NameSink {
    std::uint64_t hash = kFnvOffset;
    std::array<char, 16> small{};
    std::size_t size = 0;

    void put(unsigned char c) noexcept {
        hash = (hash ^ c) * kFnvPrime;
        if (size < small.size()) {
            small[size] = static_cast<char>(c);
        }
        ++size;
    }
    std::string_view name() const noexcept {
        return size <= small.size() ? std::string_view(small.data(), size) : std::string_view();
    }
};

/// Length of the well-formed UTF-8 sequence at @p p (RFC 3629 table), 0 if ill-formed.
std::size_t utf8_length(const unsigned char* p, const unsigned char* end) noexcept {
    const unsigned char c = p[0];
    auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        return p + i < end && p[i] >= lo && p[i] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (c == 0xE0) {
        return cont(1, 0xA0) && cont(2) ? 3 : 0;
    }
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        return cont(1) && cont(2) ? 3 : 0;
    }
    if (c == 0xED) {
        return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    }
    if (c == 0xF0) {
        return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    }
    if (c >= 0xF1 && c <= 0xF3) {
        return cont(1) && cont(2) && cont(3) ? 4 : 0;
    }
    if (c == 0xF4) {
        return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

template <typename Put>
void put_utf8(std::uint32_t cp, Put&& put) {
    if (cp < 0x80) {
        put(static_cast<unsigned char>(cp));
    } else if (cp < 0x800) {
        put(static_cast<unsigned char>(0xC0 | (cp >> 6)));
        put(static_cast<unsigned char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put(static_cast<unsigned char>(0xE0 | (cp >> 12)));
        put(static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F)));
        put(static_cast<unsigned char>(0x80 | (cp & 0x3F)));
    } else {
        put(static_cast<unsigned char>(0xF0 | (cp >> 18)));
        put(static_cast<unsigned char>(0x80 | ((cp >> 12) & 0x3F)));
        put(static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F)));
        put(static_cast<unsigned char>(0x80 | (cp & 0x3F)));
    }
}

/// Decodes the escapes of a validated string's raw text.
std::string unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    auto put = [&out](unsigned char c) { out.push_back(static_cast<char>(c)); };
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\') {
            out.push_back(raw[i]);
            continue;
        }
        const char e = raw[++i];
        switch (e) {
            case 'b': out.push_back('\b'); break;
            case 'f': out.push_back('\f'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 't': out.push_back('\t'); break;
            case 'u': {
                auto quad = [&raw](std::size_t at) {
                    return static_cast<std::uint32_t>((core::hex_value(raw[at]) << 12) | (core::hex_value(raw[at + 1]) << 8) |
                                                      (core::hex_value(raw[at + 2]) << 4) | core::hex_value(raw[at + 3]));
                };
                std::uint32_t cp = quad(i + 1);
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {  // validated: a low surrogate follows
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (quad(i + 3) - 0xDC00);
                    i += 6;
                }
                put_utf8(cp, put);
                break;
            }
            default: out.push_back(e); break;  // " \ /
        }
    }
    return out;
}

class Parser {
public:
    Parser(std::string_view text, std::size_t max_depth, Slot* slots, std::size_t mask,
           std::span<const std::string_view> names, std::span<JsonValue> out) noexcept
        : begin_(text.data()),
          p_(text.data()),
          end_(text.data() + text.size()),
          max_depth_(max_depth),
          slots_(slots),
          mask_(mask),
          names_(names),
          out_(out) {}

    JsonVerdict run() noexcept {
        ws();
        const bool is_object = p_ < end_ && *p_ == '{';
        JsonValue top;
        if (!value(0, top, is_object)) {
            return JsonVerdict::kInvalid;
        }
        ws();
        if (p_ != end_) {
            return JsonVerdict::kInvalid;
        }
        if (!is_object) {
            return JsonVerdict::kNotObject;
        }
        return duplicate_ ? JsonVerdict::kDuplicateName : JsonVerdict::kOk;
    }

private:
    void ws() noexcept {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
            ++p_;
        }
    }

    bool value(std::size_t depth, JsonValue& v, bool top = false) noexcept {
        if (p_ >= end_) {
            return false;
        }
        const char* b = p_;
        bool ok = false;
        switch (*p_) {
            case '{': v.kind = JsonKind::kObject; ok = object(depth + 1, top); break;
            case '[': v.kind = JsonKind::kArray; ok = array(depth + 1); break;
            case '"':
                v.kind = JsonKind::kString;
                return string(v, nullptr);  // raw = the text between the quotes
            case 't': v.kind = JsonKind::kTrue; ok = literal("true"); break;
            case 'f': v.kind = JsonKind::kFalse; ok = literal("false"); break;
            case 'n': v.kind = JsonKind::kNull; ok = literal("null"); break;
            default: v.kind = JsonKind::kNumber; ok = number(); break;
        }
        v.raw = std::string_view(b, static_cast<std::size_t>(p_ - b));
        return ok;
    }

    bool literal(std::string_view word) noexcept {
        if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) {
            return false;
        }
        p_ += word.size();
        return true;
    }

    bool digit() const noexcept { return p_ < end_ && *p_ >= '0' && *p_ <= '9'; }

    bool number() noexcept {
        if (p_ < end_ && *p_ == '-') {
            ++p_;
        }
        if (!digit()) {
            return false;
        }
        if (*p_++ != '0') {
            while (digit()) {
                ++p_;
            }
        }
        if (p_ < end_ && *p_ == '.') {
            ++p_;
            if (!digit()) {
                return false;
            }
            while (digit()) {
                ++p_;
            }
        }
        if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
            ++p_;
            if (p_ < end_ && (*p_ == '+' || *p_ == '-')) {
                ++p_;
            }
            if (!digit()) {
                return false;
            }
            std::uint32_t exponent = 0;
            while (digit()) {
                exponent = exponent * 10 + static_cast<std::uint32_t>(*p_++ - '0');
                if (exponent > kMaxExponent) {
                    return false;
                }
            }
        }
        return true;
    }

    /// At '"'. Validates the string; a name's unescaped bytes go to @p sink.
    bool string(JsonValue& v, NameSink* sink) noexcept {
        const char* b = ++p_;
        bool escaped = false;
        auto put = [sink](unsigned char c) {
            if (sink != nullptr) {
                sink->put(c);
            }
        };
        for (;;) {
            if (p_ >= end_) {
                return false;
            }
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                v.raw = std::string_view(b, static_cast<std::size_t>(p_ - b));
                v.escaped = escaped;
                ++p_;
                return true;
            }
            if (c < 0x20) {
                return false;
            }
            if (c < 0x80 && c != '\\') {
                put(c);
                ++p_;
                continue;
            }
            if (c >= 0x80) {
                const std::size_t n = utf8_length(reinterpret_cast<const unsigned char*>(p_),
                                                  reinterpret_cast<const unsigned char*>(end_));
                if (n == 0) {
                    return false;
                }
                for (std::size_t i = 0; i < n; ++i) {
                    put(static_cast<unsigned char>(p_[i]));
                }
                p_ += n;
                continue;
            }
            escaped = true;
            if (++p_ >= end_) {
                return false;
            }
            const char e = *p_++;
            switch (e) {
                case '"': put('"'); break;
                case '\\': put('\\'); break;
                case '/': put('/'); break;
                case 'b': put('\b'); break;
                case 'f': put('\f'); break;
                case 'n': put('\n'); break;
                case 'r': put('\r'); break;
                case 't': put('\t'); break;
                case 'u': {
                    std::uint32_t cp = 0;
                    if (!quad(cp)) {
                        return false;
                    }
                    if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return false;  // a low surrogate alone
                    }
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        std::uint32_t low = 0;
                        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
                            return false;
                        }
                        p_ += 2;
                        if (!quad(low) || low < 0xDC00 || low > 0xDFFF) {
                            return false;
                        }
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    put_utf8(cp, put);
                    break;
                }
                default: return false;
            }
        }
    }

    bool quad(std::uint32_t& out) noexcept {
        if (end_ - p_ < 4) {
            return false;
        }
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = core::hex_value(*p_++);
            if (h < 0) {
                return false;
            }
            out = (out << 4) | static_cast<std::uint32_t>(h);
        }
        return true;
    }

    bool array(std::size_t depth) noexcept {
        if (depth > max_depth_) {
            return false;
        }
        ++p_;
        ws();
        if (p_ < end_ && *p_ == ']') {
            ++p_;
            return true;
        }
        for (;;) {
            JsonValue v;
            if (!value(depth, v)) {
                return false;
            }
            ws();
            if (p_ >= end_) {
                return false;
            }
            if (*p_ == ']') {
                ++p_;
                return true;
            }
            if (*p_++ != ',') {
                return false;
            }
            ws();
        }
    }

    bool object(std::size_t depth, bool top) noexcept {
        if (depth > max_depth_) {
            return false;
        }
        const std::uint32_t id = ++objects_;
        ++p_;
        ws();
        if (p_ < end_ && *p_ == '}') {
            ++p_;
            return true;
        }
        for (;;) {
            if (p_ >= end_ || *p_ != '"') {
                return false;
            }
            NameSink sink;
            JsonValue name;
            if (!string(name, &sink)) {
                return false;
            }
            note(id, sink.hash, name);
            ws();
            if (p_ >= end_ || *p_++ != ':') {
                return false;
            }
            ws();
            JsonValue v;
            if (!value(depth, v)) {
                return false;
            }
            if (top) {
                const std::string_view n = sink.name();
                for (std::size_t i = 0; i < names_.size(); ++i) {
                    if (!n.empty() && names_[i] == n) {
                        out_[i] = v;
                    }
                }
            }
            ws();
            if (p_ >= end_) {
                return false;
            }
            if (*p_ == '}') {
                ++p_;
                return true;
            }
            if (*p_++ != ',') {
                return false;
            }
            ws();
        }
    }

    /// Records a member name of object @p id; a second equal name marks the text a duplicate.
    void note(std::uint32_t id, std::uint64_t hash, const JsonValue& name) noexcept {
        std::size_t i = static_cast<std::size_t>((hash + id) * 0x9E3779B97F4A7C15ULL >> 32) & mask_;
        for (; slots_[i].object != 0; i = (i + 1) & mask_) {
            if (slots_[i].object == id && slots_[i].hash == hash &&
                same_name(std::string_view(begin_ + slots_[i].pos, slots_[i].len), name.raw)) {
                duplicate_ = true;
                return;
            }
        }
        slots_[i] = Slot{hash, id, static_cast<std::uint16_t>(name.raw.data() - begin_),
                         static_cast<std::uint16_t>(name.raw.size())};
    }

    static bool same_name(std::string_view a, std::string_view b) {
        if (a == b) {
            return true;
        }
        if (a.find('\\') == std::string_view::npos && b.find('\\') == std::string_view::npos) {
            return false;
        }
        try {
            return unescape(a) == unescape(b);  // rare: equal hashes and an escape
        } catch (...) {
            return true;  // out of memory: refusing is the safe answer
        }
    }

    const char* begin_;
    const char* p_;
    const char* end_;
    std::size_t max_depth_;
    Slot* slots_;
    std::size_t mask_;
    std::span<const std::string_view> names_;
    std::span<JsonValue> out_;
    std::uint32_t objects_ = 0;
    bool duplicate_ = false;
};

}  // namespace

JsonVerdict read_object(std::string_view text, std::span<const std::string_view> names, std::span<JsonValue> out,
                        std::size_t max_depth) noexcept {
    for (JsonValue& v : out) {
        v = JsonValue{};
    }
    if (text.size() > kMaxJsonBytes || names.size() != out.size()) {
        return JsonVerdict::kInvalid;
    }
    // At most one member per 4 bytes (`"":0,`); the table stays at most half full.
    std::size_t slots = 16;
    while (slots < 2 * (text.size() / 4 + 2)) {
        slots *= 2;
    }
    std::array<Slot, kStackSlots> stack_slots;  // NOLINT: only the used prefix is cleared
    std::unique_ptr<Slot[]> heap_slots;
    Slot* table = stack_slots.data();
    if (slots > kStackSlots) {
        heap_slots.reset(new (std::nothrow) Slot[slots]);
        if (!heap_slots) {
            return JsonVerdict::kInvalid;
        }
        table = heap_slots.get();
    }
    std::memset(static_cast<void*>(table), 0, slots * sizeof(Slot));
    Parser parser(text, max_depth, table, slots - 1, names, out);
    return parser.run();
}

void unescape_into(const JsonValue& v, ClaimString& out) {
    if (!v.escaped) {
        out.assign(v.raw);
        return;
    }
    out.assign(unescape(v.raw));
}

std::optional<std::int64_t> integral_number(std::string_view raw, std::int64_t max) noexcept {
    std::size_t i = 0;
    const bool negative = !raw.empty() && raw[0] == '-';
    i += negative ? 1 : 0;
    if (i >= raw.size() || raw[i] < '0' || raw[i] > '9') {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i) {
        value = value * 10 + (raw[i] - '0');
        if (value > max) {
            return std::nullopt;
        }
    }
    if (i < raw.size() && raw[i] == '.') {
        ++i;
        if (i >= raw.size()) {
            return std::nullopt;
        }
        for (; i < raw.size(); ++i) {
            if (raw[i] != '0') {
                return std::nullopt;  // a fraction, or an exponent after it
            }
        }
    }
    if (i != raw.size() || (negative && value != 0)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace moneta::jwt::detail
