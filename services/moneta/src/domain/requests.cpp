#include "domain/requests.hpp"

#include <array>
// basic_parser_impl.hpp: basic_parser's members are templates defined there; Boost.JSON asks for
// it in exactly one translation unit per program that instantiates the parser with its own
// handler. array, object, string: only for the DOM's size limits, which the handler repeats.
#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <span>

#include "domain/json_writer.hpp"
#include "moneta/core/swar.hpp"

// NOTE: the bodies are read with Boost.JSON's SAX parser (basic_parser) into one fixed slot per
// field of the request (issue 11: building a DOM, its object tables and key hashing were 7.9 % of
// a heartbeat's instructions). The rules then read the slots in the same order as the DOM reader
// they replace, so every body gets the same request or the same FieldError; that reader is kept
// as the oracle in tests/services/moneta/domain/requests_dom_reference.* and compared with this
// one by requests_test.cpp and fuzz/moneta_requests_fuzz.cpp. Deliberate simplifications:
// - a string in pieces (escapes) keeps its first kMaxText decoded bytes, a key its first kMaxKey,
//   a list element its first kMaxName: anything longer is refused on its length, or names nothing;
// - a whole unescaped string is a view of the body, not a copy;
// - the key search starts after the field the previous key named (bodies list them in order).

namespace moneta::domain {
namespace {

namespace json = boost::json;

// Positions are seconds into a title; a week is far beyond any real title and keeps garbage out.
constexpr double kMaxPositionSec = 7.0 * 24 * 3600;
// seq must survive a JSON round trip through doubles in any client: 2^53.
constexpr std::int64_t kMaxSeq = std::int64_t{1} << 53;
constexpr std::size_t kMaxDeviceName = 128;
constexpr std::size_t kMaxAppVersion = 32;
constexpr std::size_t kMaxEnumText = 32;
constexpr std::size_t kMaxLangText = 16;
constexpr std::size_t kMaxListItems = 16;
// As deep as any body nests (the DOM's limit before): deeper is malformed JSON.
constexpr std::size_t kMaxDepth = 8;

// Keys and names are a few bytes long: compared a word at a time rather than by a call to
// memcmp, which cost more than the comparison (issue 11's callgrind counts).
bool same_text(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = a.size();
    if (n != b.size()) {
        return false;
    }
    const char* p = a.data();
    const char* q = b.data();
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8) {
            if (core::swar::load8(p + i) != core::swar::load8(q + i)) {
                return false;
            }
        }
        return core::swar::load8(p + n - 8) == core::swar::load8(q + n - 8);  // overlapping
    }
    if (n >= 4) {
        std::uint32_t w[4];
        std::memcpy(&w[0], p, 4);
        std::memcpy(&w[1], p + n - 4, 4);
        std::memcpy(&w[2], q, 4);
        std::memcpy(&w[3], q + n - 4, 4);
        return w[0] == w[2] && w[1] == w[3];
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (p[i] != q[i]) {
            return false;
        }
    }
    return true;
}

int find_name(std::string_view v, std::span<const std::string_view> names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (same_text(names[i], v)) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

constexpr std::array<std::string_view, 4> kDeviceTypes{"android", "ios", "web", "tv"};
constexpr std::array<std::string_view, 2> kResumeModes{"auto", "start_over"};
constexpr std::array<std::string_view, 3> kStates{"playing", "paused", "buffering"};
constexpr std::array<std::string_view, 5> kStopReasons{
    "user", "ended", "background", "error", "next_episode"};
constexpr std::array<std::string_view, 2> kProtocolNames{"dash", "hls"};
constexpr std::array<std::string_view, 3> kDrmNames{"widevine", "playready", "fairplay"};
constexpr std::array<std::string_view, 3> kCodecNames{"avc", "hevc", "av1"};
constexpr std::array<std::string_view, 2> kHdrNames{"hdr10", "dolby_vision"};

bool is_lang(std::string_view s) noexcept {
    // BCP 47 subset: 2-3 letter primary tag, optional -region/script of 2-8 alnum chars.
    if (s.size() < 2 || s.size() > 16) {
        return false;
    }
    std::size_t i = 0;
    while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') {
        ++i;
    }
    if (i < 2 || i > 3) {
        return false;
    }
    if (i == s.size()) {
        return true;
    }
    if (s[i] != '-' || s.size() - i - 1 < 2 || s.size() - i - 1 > 8) {
        return false;
    }
    for (++i; i < s.size(); ++i) {
        const char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

// ---- The fields of each body ----------------------------------------------------------------

/// The body itself, as a FieldSpec's parent.
constexpr std::uint8_t kBody = 0xFF;

/// One field a body may carry.
struct FieldSpec {
    std::string_view key;
    std::string_view path;                      ///< how a FieldError names it: "device.id"
    std::uint8_t parent = kBody;                ///< the index of the object field it is in
    std::span<const std::string_view> names{};  ///< a capability list: its vocabulary
    std::uint8_t fields = 0;  ///< an object field: its own fields are the next `fields` specs
};

/// A table's object fields are followed by their own fields, and only there.
template <std::size_t N>
constexpr bool fields_follow_their_object(const std::array<FieldSpec, N>& specs) {
    std::uint8_t parent = kBody;
    std::size_t end = 0;
    for (std::size_t i = 0; i < N; ++i) {
        if (i == end) {
            parent = kBody;
        }
        if (specs[i].parent != parent || (specs[i].fields != 0 && parent != kBody)) {
            return false;
        }
        if (specs[i].fields != 0) {
            parent = static_cast<std::uint8_t>(i);
            end = i + 1 + specs[i].fields;
        }
    }
    return end <= N;
}

// Field indexes are the positions in each table.
namespace heartbeat {
enum : std::uint8_t { kPositionSec, kState, kSeq };
constexpr std::array<FieldSpec, 3> kFields{{
    {"position_sec", "position_sec"},
    {"state", "state"},
    {"seq", "seq"},
}};
static_assert(fields_follow_their_object(kFields));
}  // namespace heartbeat

namespace stop {
enum : std::uint8_t { kPositionSec, kReason, kSeq };
constexpr std::array<FieldSpec, 3> kFields{{
    {"position_sec", "position_sec"},
    {"reason", "reason"},
    {"seq", "seq"},
}};
static_assert(fields_follow_their_object(kFields));
}  // namespace stop

namespace progress_put {
enum : std::uint8_t { kPositionSec, kDurationSec, kSeq, kUpdatedAtMs };
constexpr std::array<FieldSpec, 4> kFields{{
    {"position_sec", "position_sec"},
    {"duration_sec", "duration_sec"},
    {"seq", "seq"},
    {"updated_at_ms", "updated_at_ms"},
}};
static_assert(fields_follow_their_object(kFields));
}  // namespace progress_put

namespace start {
enum : std::uint8_t {
    kContentId,
    kDevice,
    kDeviceId,
    kDeviceType,
    kDeviceName,
    kAppVersion,
    kCapabilities,
    kProtocols,
    kDrm,
    kVideoCodecs,
    kHdr,
    kMaxHeight,
    kResume,
    kReplaceSessionId,
    kAudioLang,
    kSubtitleLang,
};
constexpr std::array<FieldSpec, 16> kFields{{
    {"content_id", "content_id"},
    {"device", "device", kBody, {}, 4},
    {"id", "device.id", kDevice},
    {"type", "device.type", kDevice},
    {"name", "device.name", kDevice},
    {"app_version", "device.app_version", kDevice},
    {"capabilities", "capabilities", kBody, {}, 5},
    {"protocols", "capabilities.protocols", kCapabilities, kProtocolNames},
    {"drm", "capabilities.drm", kCapabilities, kDrmNames},
    {"video_codecs", "capabilities.video_codecs", kCapabilities, kCodecNames},
    {"hdr", "capabilities.hdr", kCapabilities, kHdrNames},
    {"max_height", "capabilities.max_height", kCapabilities},
    {"resume", "resume"},
    {"replace_session_id", "replace_session_id"},
    {"preferred_audio_lang", "preferred_audio_lang"},
    {"preferred_subtitle_lang", "preferred_subtitle_lang"},
}};
static_assert(fields_follow_their_object(kFields));
}  // namespace start

// ---- What the handler keeps -----------------------------------------------------------------

/// A string as the parser hands it over: whole, or in pieces (escapes, long strings). A whole
/// string is kept as a view of the parser's bytes; one in pieces has its first Capacity decoded
/// bytes copied here and its whole decoded length counted, which is all a rule needs: a longer
/// string is refused on its length (or matches no name) whatever its bytes.
template <std::size_t Capacity>
struct Text {
    std::string_view kept;  // the string, or its first Capacity bytes
    std::size_t size;       // its decoded length
    std::array<char, Capacity> bytes;

    void refer(std::string_view whole) noexcept {
        kept = whole;
        size = whole.size();
    }
    /// @param n the decoded length so far, @p piece included (basic_parser's contract).
    void append(json::string_view piece, std::size_t n) noexcept {
        const std::size_t at = n - piece.size();
        if (at < Capacity && !piece.empty()) {
            std::memcpy(bytes.data() + at, piece.data(), std::min(piece.size(), Capacity - at));
        }
        kept = {bytes.data(), std::min(n, Capacity)};
        size = n;
    }
    bool complete() const noexcept { return kept.size() == size; }
};

// The longest text each kind of string needs whole; longer ones only need their length.
constexpr std::size_t kMaxText = kMaxDeviceName;  // device.name, the longest field accepted
constexpr std::size_t kMaxKey = 32;               // "preferred_subtitle_lang" has 23
constexpr std::size_t kMaxName = 16;              // "dolby_vision" has 12
static_assert(kMaxIdLength <= kMaxText && kMaxAppVersion <= kMaxText && kMaxEnumText <= kMaxText);

/// What a field held. null is kAbsent: to every rule `"x": null` is a missing x (as for the DOM
/// reader before).
enum class Kind : std::uint8_t {
    kAbsent,
    kString,
    kInt64,
    kUint64,
    kDouble,
    kBool,
    kArray,
    kObject
};

/// The value of one field: the last one given, as a repeated key kept the last in the DOM. Only
/// `kind` starts set; each kind writes the members it is read by.
struct Slot {
    Kind kind = Kind::kAbsent;
    union {
        std::int64_t int64;    // kInt64
        std::uint64_t uint64;  // kUint64
        double number;         // kDouble
    };
    Text<kMaxText> text;  // kString
    // kArray, a capability list: its element count, and the vocabulary index of each element
    // while every element so far is a name of the vocabulary (anything else spoils the list).
    std::size_t count;
    bool all_known;
    std::uint8_t picked;
    std::array<std::uint8_t, NameList::kMax> picks;
};

// ---- The SAX handler ------------------------------------------------------------------------

/// Boost.JSON basic_parser handler: routes each value of a field in `specs` to its slot and skips
/// everything else (unknown keys, their objects and arrays, at any depth). It fails nothing
/// itself: syntax, UTF-8, depth and size are the parser's checks, the same ones the DOM parse ran,
/// so the same bodies are malformed.
class BodyHandler {
public:
    // The DOM builder's limits (boost/json/detail/handler.hpp), so that these fail alike too.
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    BodyHandler(
        std::string_view body, std::span<const FieldSpec> specs, std::span<Slot> slots
    ) noexcept
        : body_(body), specs_(specs), slots_(slots) {}

    /// The top-level value was an object (the parse may still have failed after it).
    bool body_is_object() const noexcept { return body_is_object_; }

    bool on_document_begin(json::error_code&) noexcept { return true; }
    bool on_document_end(json::error_code&) noexcept { return true; }

    bool on_object_begin(json::error_code& ec) noexcept {
        Frame frame{Scope::kSkip, 0};
        if (depth_ == 0) {
            body_is_object_ = true;
            frame = {Scope::kFields, kBody};
        } else if (Slot* slot = value(Kind::kObject);
                   slot != nullptr && specs_[target_].fields != 0) {
            // A repeated object field replaces the earlier one whole, as in the DOM.
            for (std::size_t i = 1; i <= specs_[target_].fields; ++i) {
                slots_[target_ + i].kind = Kind::kAbsent;
            }
            frame = {Scope::kFields, target_};
        }
        return push(frame, ec);
    }
    bool on_object_end(std::size_t, json::error_code&) noexcept {
        --depth_;
        return true;
    }

    bool on_array_begin(json::error_code& ec) noexcept {
        Frame frame{Scope::kSkip, 0};
        if (depth_ != 0) {
            if (Slot* slot = value(Kind::kArray); slot != nullptr && is_list(target_)) {
                slot->count = 0;
                slot->all_known = true;
                slot->picked = 0;
                frame = {Scope::kList, target_};
            }
        }
        return push(frame, ec);
    }
    bool on_array_end(std::size_t n, json::error_code&) noexcept {
        const Frame& frame = frames_[--depth_];
        if (frame.scope == Scope::kList) {
            slots_[frame.field].count = n;
        }
        return true;
    }

    bool on_key_part(json::string_view s, std::size_t n, json::error_code&) noexcept {
        key_.append(s, n);
        return true;
    }
    bool on_key(json::string_view s, std::size_t n, json::error_code&) noexcept {
        if (n == s.size()) {
            target_ = find_field({s.data(), s.size()});  // whole: the common case, no copy
        } else {
            key_.append(s, n);
            target_ = key_.complete() ? find_field(key_.kept) : kNone;
        }
        return true;
    }

    bool on_string_part(json::string_view s, std::size_t n, json::error_code&) noexcept {
        if (Text<kMaxText>* text = string_value()) {
            text->append(s, n);
        } else if (in_list()) {
            element_.append(s, n);
        }
        return true;
    }
    bool on_string(json::string_view s, std::size_t n, json::error_code&) noexcept {
        const bool whole = n == s.size();
        if (Text<kMaxText>* text = string_value()) {
            if (whole && in_body(s)) {
                text->refer({s.data(), s.size()});  // the body outlives the parse: no copy
            } else {
                text->append(s, n);
            }
        } else if (in_list()) {
            if (!whole) {
                element_.append(s, n);
            }
            add_list_element(
                whole ? std::string_view(s.data(), s.size()) : element_.kept,
                whole || element_.complete()
            );
        }
        return true;
    }

    bool on_number_part(json::string_view, json::error_code&) noexcept { return true; }
    bool on_int64(std::int64_t i, json::string_view, json::error_code&) noexcept {
        if (Slot* slot = value(Kind::kInt64)) {
            slot->int64 = i;
        }
        return true;
    }
    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) noexcept {
        if (Slot* slot = value(Kind::kUint64)) {
            slot->uint64 = u;
        }
        return true;
    }
    bool on_double(double d, json::string_view, json::error_code&) noexcept {
        if (Slot* slot = value(Kind::kDouble)) {
            slot->number = d;
        }
        return true;
    }
    bool on_bool(bool, json::error_code&) noexcept {
        value(Kind::kBool);
        return true;
    }
    bool on_null(json::error_code&) noexcept {
        value(Kind::kAbsent);
        return true;
    }

    // Comments are refused by the parse options; these are never called.
    bool on_comment_part(json::string_view, json::error_code&) noexcept { return true; }
    bool on_comment(json::string_view, json::error_code&) noexcept { return true; }

private:
    // What an open object or array is to us.
    enum class Scope : std::uint8_t {
        kFields,  ///< the body or an object field: its keys name fields of `field` (kBody or one)
        kList,    ///< a capability list: its elements are names of `field`'s vocabulary
        kSkip,    ///< anything else: ignored with all it holds
    };
    struct Frame {
        Scope scope;
        std::uint8_t field;
    };
    static constexpr std::uint8_t kNone = 0xFF;

    bool push(Frame frame, json::error_code& ec) noexcept {
        if (depth_ == frames_.size()) {
            // The parser refuses a ninth level before calling us; should that change, this stays
            // a parse error as the DOM's would be.
            ec = json::error::too_deep;
            return false;
        }
        frames_[depth_++] = frame;
        return true;
    }

    bool is_list(std::uint8_t field) const noexcept { return !specs_[field].names.empty(); }

    // The field @p key names in the innermost object, or kNone. Bodies mostly list their keys in
    // the table's order, so the search starts after the field the previous key named.
    std::uint8_t find_field(std::string_view key) noexcept {
        const Frame& frame = frames_[depth_ - 1];
        if (frame.scope != Scope::kFields) {
            return kNone;
        }
        const std::size_t n = specs_.size();
        for (std::size_t k = 0, i = next_; k < n; ++k, i = i + 1 == n ? 0 : i + 1) {
            if (specs_[i].parent == frame.field && same_text(specs_[i].key, key)) {
                next_ = i + 1 == n ? 0 : i + 1;
                return static_cast<std::uint8_t>(i);
            }
        }
        return kNone;
    }

    // A value other than a string begins (or is) here: the slot of the field it is the value of,
    // set to `kind`; else null. An element of a capability list that is not a string spoils it.
    Slot* value(Kind kind) noexcept {
        if (depth_ == 0) {
            return nullptr;  // the top-level value (not an object when we get here)
        }
        const Frame& frame = frames_[depth_ - 1];
        if (frame.scope == Scope::kFields && target_ != kNone) {
            Slot& slot = slots_[target_];
            slot.kind = kind;
            return &slot;
        }
        if (frame.scope == Scope::kList) {
            slots_[frame.field].all_known = false;
        }
        return nullptr;
    }

    // The text of the field whose string value is being read, or null.
    Text<kMaxText>* string_value() noexcept {
        if (depth_ == 0 || frames_[depth_ - 1].scope != Scope::kFields || target_ == kNone) {
            return nullptr;
        }
        Slot& slot = slots_[target_];
        slot.kind = Kind::kString;
        return &slot.text;
    }
    bool in_list() const noexcept {
        return depth_ != 0 && frames_[depth_ - 1].scope == Scope::kList;
    }
    // Whether @p s lies in the body, which outlives the parse (the parser's own buffer, where it
    // unescapes strings, does not).
    bool in_body(json::string_view s) const noexcept {
        return std::less_equal<const char*>()(body_.data(), s.data()) &&
               std::less_equal<const char*>()(s.data() + s.size(), body_.data() + body_.size());
    }

    // A string element of the innermost capability list (@p complete: @p name is all of it).
    void add_list_element(std::string_view name, bool complete) noexcept {
        const std::uint8_t field = frames_[depth_ - 1].field;
        Slot& list = slots_[field];
        const int at = complete ? find_name(name, specs_[field].names) : -1;
        if (at < 0 || list.picked == list.picks.size()) {
            // Unknown, or a 17th element: the list is refused either way (count > 16).
            list.all_known = false;
            return;
        }
        list.picks[list.picked++] = static_cast<std::uint8_t>(at);
    }

    std::string_view body_;
    std::span<const FieldSpec> specs_;
    std::span<Slot> slots_;
    std::array<Frame, kMaxDepth> frames_;  // not zeroed: the first depth_ are read
    std::size_t depth_ = 0;
    std::uint8_t target_ = kNone;  // the field the last key named in a kFields object
    std::size_t next_ = 0;         // where find_field starts
    bool body_is_object_ = false;
    Text<kMaxKey> key_;
    Text<kMaxName> element_;
};

// ---- The rules ------------------------------------------------------------------------------

/// Reads the slots in the order the rules are written, remembering the first error with its
/// path: the same order the DOM reader checked the fields in, so a body with several faults is
/// refused for the same one, whatever the order of its keys.
class Reader {
public:
    Reader(std::span<const FieldSpec> specs, std::span<const Slot> slots) noexcept
        : specs_(specs), slots_(slots) {}

    /// The field's slot; null when it is absent or null (and then an error if required).
    const Slot* field(std::uint8_t f, bool required) {
        const Slot& slot = slots_[f];
        if (slot.kind == Kind::kAbsent) {
            if (required) {
                fail(f, "required");
            }
            return nullptr;
        }
        return &slot;
    }

    std::optional<std::string_view> string(std::uint8_t f, bool required, std::size_t max_len) {
        const Slot* v = field(f, required);
        if (v == nullptr) {
            return std::nullopt;
        }
        if (v->kind != Kind::kString) {
            fail(f, "must be a string");
            return std::nullopt;
        }
        if (v->text.size > max_len) {  // the decoded length, escapes counted once
            fail(f, "too long");
            return std::nullopt;
        }
        return v->text.kept;
    }

    std::optional<std::string> id(std::uint8_t f, bool required) {
        auto s = string(f, required, kMaxIdLength);
        if (!s) {
            return std::nullopt;
        }
        if (!is_valid_id(*s)) {
            fail(f, "must match [A-Za-z0-9_-]{1,64}");
            return std::nullopt;
        }
        return std::string(*s);
    }

    template <std::size_t N>
    int enumeration(
        std::uint8_t f, bool required, const std::array<std::string_view, N>& names, int fallback
    ) {
        auto s = string(f, required, kMaxEnumText);
        if (!s) {
            return fallback;
        }
        const int idx = find_name(*s, names);
        if (idx < 0) {
            fail(f, "unknown value");
            return fallback;
        }
        return idx;
    }

    double position(std::uint8_t f) {
        const Slot* v = field(f, true);
        if (v == nullptr) {
            return 0;
        }
        double d = 0;
        switch (v->kind) {  // any JSON number, as json::value::is_number and to_number<double>
            case Kind::kInt64:
                d = static_cast<double>(v->int64);
                break;
            case Kind::kUint64:
                d = static_cast<double>(v->uint64);
                break;
            case Kind::kDouble:
                d = v->number;
                break;
            default:
                fail(f, "must be a number");
                return 0;
        }
        if (!std::isfinite(d) || d < 0 || d > kMaxPositionSec) {
            fail(f, "out of range");
            return 0;
        }
        return d;
    }

    std::int64_t seq(std::uint8_t f) {
        const Slot* v = field(f, true);
        if (v == nullptr) {
            return 0;
        }
        std::int64_t out = -1;  // a double (even 1.0) is not an integer here
        if (v->kind == Kind::kInt64) {
            out = v->int64;
        } else if (v->kind == Kind::kUint64) {
            out = v->uint64 > static_cast<std::uint64_t>(kMaxSeq)
                      ? -1
                      : static_cast<std::int64_t>(v->uint64);
        }
        if (out < 0 || out > kMaxSeq) {
            fail(f, "must be an integer in [0, 2^53]");
            return 0;
        }
        return out;
    }

    /// A capability list: absent is empty; up to 16 names of the field's vocabulary.
    NameList enum_list(std::uint8_t f) {
        static_assert(kMaxListItems <= NameList::kMax);
        NameList out;
        const Slot* v = field(f, false);
        if (v == nullptr) {
            return out;
        }
        if (v->kind != Kind::kArray || v->count > kMaxListItems) {
            fail(f, "must be a short array of strings");
            return out;
        }
        if (!v->all_known) {
            fail(f, "unknown value");
            return out;
        }
        const std::span<const std::string_view> names = specs_[f].names;
        for (std::size_t i = 0; i < v->picked; ++i) {
            out.push_back(names[v->picks[i]]);  // the static name, not the body's bytes
        }
        return out;
    }

    /// Whether the field is an object (its own fields are then read by their indexes).
    bool object(std::uint8_t f, bool required) {
        const Slot* v = field(f, required);
        if (v == nullptr) {
            return false;
        }
        if (v->kind != Kind::kObject) {
            fail(f, "must be an object");
            return false;
        }
        return true;
    }

    void fail(std::uint8_t f, std::string_view reason) {
        if (!error_) {
            error_ = FieldError{std::string(specs_[f].path), std::string(reason)};
        }
    }
    const std::optional<FieldError>& error() const { return error_; }

private:
    std::span<const FieldSpec> specs_;
    std::span<const Slot> slots_;
    std::optional<FieldError> error_;
};

// One pass of the SAX parser over the whole body into a slot per field (on the stack: no heap),
// then `fn` applies the rules.
template <class T, std::size_t N, class Fn>
Parsed<T> parse_with(std::string_view body, const std::array<FieldSpec, N>& specs, Fn&& fn) {
    std::array<Slot, N> slots;  // each starts absent; nothing else is written before a value
    json::parse_options opt;
    opt.max_depth = kMaxDepth;
    json::basic_parser<BodyHandler> parser(
        opt, body, std::span<const FieldSpec>(specs), std::span<Slot>(slots)
    );
    json::error_code ec;
    const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
    // A whole document and nothing after it but whitespace, as json::parse (extra_data).
    if (ec || used != body.size()) {
        return FieldError{"", "malformed JSON"};
    }
    if (!parser.handler().body_is_object()) {
        return FieldError{"", "body must be a JSON object"};
    }
    Reader r(specs, slots);
    T out = fn(r);
    if (r.error()) {
        return *r.error();
    }
    return out;
}

}  // namespace

namespace {

/// [A-Za-z0-9_-] as a table: an id is checked on every request (account, session, content,
/// profile), and one load per byte is a third of the comparisons' cost.
constexpr std::array<bool, 256> kIdBytes = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                         (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    return t;
}();

}  // namespace

bool is_valid_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > kMaxIdLength) {
        return false;
    }
    bool ok = true;
    for (const char c : id) {
        ok &= kIdBytes[static_cast<unsigned char>(c)];  // no early exit: ids are nearly always valid
    }
    return ok;
}

bool is_valid_country(std::string_view c) noexcept {
    return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

std::string_view to_string(DeviceType t) noexcept { return kDeviceTypes[static_cast<int>(t)]; }
std::string_view to_string(PlaybackState s) noexcept { return kStates[static_cast<int>(s)]; }
std::string_view to_string(StopReason r) noexcept { return kStopReasons[static_cast<int>(r)]; }

Parsed<StartRequest> parse_start_request(std::string_view body) {
    using namespace start;
    return parse_with<StartRequest>(body, kFields, [](Reader& r) {
        StartRequest req;
        if (auto id = r.id(kContentId, true)) {
            req.content_id = std::move(*id);
        }
        if (r.object(kDevice, true)) {
            if (auto id = r.id(kDeviceId, true)) {
                req.device.id = std::move(*id);
            }
            req.device.type =
                static_cast<DeviceType>(r.enumeration(kDeviceType, true, kDeviceTypes, 2));
            req.device.name =
                std::string(r.string(kDeviceName, false, kMaxDeviceName).value_or(""));
            req.device.app_version =
                std::string(r.string(kAppVersion, false, kMaxAppVersion).value_or(""));
        }
        if (r.object(kCapabilities, true)) {
            req.capabilities.protocols = r.enum_list(kProtocols);
            req.capabilities.drm = r.enum_list(kDrm);
            req.capabilities.video_codecs = r.enum_list(kVideoCodecs);
            req.capabilities.hdr = r.enum_list(kHdr);
            if (const Slot* mh = r.field(kMaxHeight, true)) {
                if (mh->kind != Kind::kInt64 || mh->int64 < 144 || mh->int64 > 4320) {
                    r.fail(kMaxHeight, "must be an integer in [144, 4320]");
                } else {
                    req.capabilities.max_height = static_cast<int>(mh->int64);
                }
            }
            // After max_height: a wrongly typed list is named before it, a missing one after.
            if (req.capabilities.protocols.empty()) {
                r.fail(kProtocols, "required");
            }
        }
        req.resume = static_cast<ResumeMode>(r.enumeration(kResume, false, kResumeModes, 0));
        if (r.field(kReplaceSessionId, false) != nullptr) {
            req.replace_session_id = r.id(kReplaceSessionId, false);
        }
        for (auto [f, slot] :
             {std::pair{kAudioLang, &req.preferred_audio_lang},
              std::pair{kSubtitleLang, &req.preferred_subtitle_lang}}) {
            if (auto lang = r.string(f, false, kMaxLangText)) {
                if (!is_lang(*lang)) {
                    r.fail(f, "must be a language tag like \"ko\" or \"pt-BR\"");
                } else {
                    *slot = std::string(*lang);
                }
            }
        }
        return req;
    });
}

Parsed<HeartbeatRequest> parse_heartbeat_request(std::string_view body) {
    using namespace heartbeat;
    return parse_with<HeartbeatRequest>(body, kFields, [](Reader& r) {
        HeartbeatRequest req;
        req.position_sec = r.position(kPositionSec);
        req.state = static_cast<PlaybackState>(r.enumeration(kState, true, kStates, 0));
        req.seq = r.seq(kSeq);
        return req;
    });
}

Parsed<StopRequest> parse_stop_request(std::string_view body) {
    using namespace stop;
    return parse_with<StopRequest>(body, kFields, [](Reader& r) {
        StopRequest req;
        req.position_sec = r.position(kPositionSec);
        req.reason = static_cast<StopReason>(r.enumeration(kReason, true, kStopReasons, 0));
        req.seq = r.seq(kSeq);
        return req;
    });
}

Parsed<ProgressPut> parse_progress_put(std::string_view body, std::int64_t now_ms) {
    using namespace progress_put;
    return parse_with<ProgressPut>(body, kFields, [now_ms](Reader& r) {
        ProgressPut req;
        req.position_sec = r.position(kPositionSec);
        req.duration_sec = r.position(kDurationSec);
        req.seq = r.seq(kSeq);
        if (const Slot* v = r.field(kUpdatedAtMs, true)) {
            constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
            if (v->kind != Kind::kInt64 || v->int64 <= 0 || v->int64 > now_ms + kDayMs) {
                r.fail(kUpdatedAtMs, "must be epoch milliseconds, not in the future");
            } else {
                req.updated_at_ms = v->int64;
            }
        }
        if (req.duration_sec > 0 && req.position_sec > req.duration_sec + 1) {
            r.fail(kPositionSec, "beyond duration_sec");
        }
        return req;
    });
}

std::string field_error_details(const FieldError& e) {
    JsonWriter w(64);
    w.begin_object();
    if (!e.field.empty()) {
        w.key("field").string(e.field);
    }
    w.key("reason").string(e.reason);
    w.end_object();
    return std::move(w).take();
}

}  // namespace moneta::domain
