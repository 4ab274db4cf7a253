// The request body parsers before issue 11, unchanged but for their namespace: a Boost.JSON DOM
// in a stack arena, read field by field (Reader). See requests_dom_reference.hpp.
#include "requests_dom_reference.hpp"

#include <boost/json.hpp>

#include <array>
#include <cmath>
#include <optional>

namespace moneta::domain::dom_reference {
namespace {

namespace json = boost::json;

// Positions are seconds into a title; a week is far beyond any real title and keeps garbage out.
constexpr double kMaxPositionSec = 7.0 * 24 * 3600;
// seq must survive a JSON round trip through doubles in any client: 2^53.
constexpr std::int64_t kMaxSeq = std::int64_t{1} << 53;
constexpr std::size_t kMaxDeviceName = 128;
constexpr std::size_t kMaxAppVersion = 32;
constexpr std::size_t kMaxListItems = 16;

struct Fail {
    FieldError error;
};

template <std::size_t N>
int find_enum(std::string_view v, const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == v) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

constexpr std::array<std::string_view, 4> kDeviceTypes{"android", "ios", "web", "tv"};
constexpr std::array<std::string_view, 2> kResumeModes{"auto", "start_over"};
constexpr std::array<std::string_view, 3> kStates{"playing", "paused", "buffering"};
constexpr std::array<std::string_view, 5> kStopReasons{"user", "ended", "background", "error",
                                                       "next_episode"};
constexpr std::array<std::string_view, 2> kProtocols{"dash", "hls"};
constexpr std::array<std::string_view, 3> kDrms{"widevine", "playready", "fairplay"};
constexpr std::array<std::string_view, 3> kCodecs{"avc", "hevc", "av1"};
constexpr std::array<std::string_view, 2> kHdrs{"hdr10", "dolby_vision"};

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

/// Reads fields of one JSON object, remembering the first error with its path.
class Reader {
public:
    Reader(const json::object& o, std::string path) : o_(o), path_(std::move(path)) {}

    const json::value* field(std::string_view k, bool required) {
        const json::value* v = o_.if_contains(k);
        if ((v == nullptr || v->is_null()) && required) {
            fail(k, "required");
        }
        return v != nullptr && !v->is_null() ? v : nullptr;
    }

    std::optional<std::string_view> string(std::string_view k, bool required, std::size_t max_len) {
        const json::value* v = field(k, required);
        if (v == nullptr) {
            return std::nullopt;
        }
        if (!v->is_string()) {
            fail(k, "must be a string");
            return std::nullopt;
        }
        const json::string& s = v->get_string();
        if (s.size() > max_len) {
            fail(k, "too long");
            return std::nullopt;
        }
        return std::string_view(s.data(), s.size());
    }

    std::optional<std::string> id(std::string_view k, bool required) {
        auto s = string(k, required, 64);
        if (!s) {
            return std::nullopt;
        }
        if (!is_valid_id(*s)) {
            fail(k, "must match [A-Za-z0-9_-]{1,64}");
            return std::nullopt;
        }
        return std::string(*s);
    }

    template <std::size_t N>
    int enumeration(std::string_view k, bool required, const std::array<std::string_view, N>& names,
                    int fallback) {
        auto s = string(k, required, 32);
        if (!s) {
            return fallback;
        }
        const int idx = find_enum(*s, names);
        if (idx < 0) {
            fail(k, "unknown value");
            return fallback;
        }
        return idx;
    }

    double position(std::string_view k) {
        const json::value* v = field(k, true);
        if (v == nullptr) {
            return 0;
        }
        if (!v->is_number()) {
            fail(k, "must be a number");
            return 0;
        }
        const double d = v->to_number<double>();
        if (!std::isfinite(d) || d < 0 || d > kMaxPositionSec) {
            fail(k, "out of range");
            return 0;
        }
        return d;
    }

    std::int64_t seq(std::string_view k) {
        const json::value* v = field(k, true);
        if (v == nullptr) {
            return 0;
        }
        std::int64_t out = -1;
        if (v->is_int64()) {
            out = v->get_int64();
        } else if (v->is_uint64()) {
            out = v->get_uint64() > static_cast<std::uint64_t>(kMaxSeq)
                      ? -1
                      : static_cast<std::int64_t>(v->get_uint64());
        }
        if (out < 0 || out > kMaxSeq) {
            fail(k, "must be an integer in [0, 2^53]");
            return 0;
        }
        return out;
    }

    template <std::size_t N>
    NameList enum_list(std::string_view k, const std::array<std::string_view, N>& names) {
        static_assert(kMaxListItems <= NameList::kMax);
        NameList out;
        const json::value* v = field(k, false);
        if (v == nullptr) {
            return out;
        }
        if (!v->is_array() || v->get_array().size() > kMaxListItems) {
            fail(k, "must be a short array of strings");
            return out;
        }
        for (const json::value& e : v->get_array()) {
            const int at = e.is_string()
                               ? find_enum(std::string_view(e.get_string().data(), e.get_string().size()), names)
                               : -1;
            if (at < 0) {
                fail(k, "unknown value");
                return NameList{};
            }
            out.push_back(names[static_cast<std::size_t>(at)]);  // the static name, not the body's bytes
        }
        return out;
    }

    const json::object* object(std::string_view k, bool required) {
        const json::value* v = field(k, required);
        if (v == nullptr) {
            return nullptr;
        }
        if (!v->is_object()) {
            fail(k, "must be an object");
            return nullptr;
        }
        return &v->get_object();
    }

    void fail(std::string_view k, std::string_view reason) {
        if (!error_) {
            error_ = FieldError{path_.empty() ? std::string(k) : path_ + "." + std::string(k),
                                std::string(reason)};
        }
    }
    void adopt(const Reader& child) {
        if (!error_ && child.error_) {
            error_ = child.error_;
        }
    }
    const std::optional<FieldError>& error() const { return error_; }
    const std::string& path() const { return path_; }

private:
    const json::object& o_;
    std::string path_;
    std::optional<FieldError> error_;
};

// Parses into a stack-backed arena: request bodies are ≤16 KiB and short-lived, so the DOM
// costs no heap allocation in the common case.
template <class T, class Fn>
Parsed<T> parse_with(std::string_view body, Fn&& fn) {
    std::array<unsigned char, 4096> buf;
    json::monotonic_resource mr(buf.data(), buf.size());
    json::parse_options opt;
    opt.max_depth = 8;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, &mr, opt);
    if (ec) {
        return FieldError{"", "malformed JSON"};
    }
    if (!v.is_object()) {
        return FieldError{"", "body must be a JSON object"};
    }
    Reader r(v.get_object(), "");
    T out = fn(r);
    if (r.error()) {
        return *r.error();
    }
    return out;
}

}  // namespace

Parsed<StartRequest> parse_start_request(std::string_view body) {
    return parse_with<StartRequest>(body, [](Reader& r) {
        StartRequest req;
        if (auto id = r.id("content_id", true)) {
            req.content_id = std::move(*id);
        }
        if (const json::object* dev = r.object("device", true)) {
            Reader d(*dev, "device");
            if (auto id = d.id("id", true)) {
                req.device.id = std::move(*id);
            }
            req.device.type = static_cast<DeviceType>(d.enumeration("type", true, kDeviceTypes, 2));
            req.device.name = std::string(d.string("name", false, kMaxDeviceName).value_or(""));
            req.device.app_version =
                std::string(d.string("app_version", false, kMaxAppVersion).value_or(""));
            r.adopt(d);
        }
        if (const json::object* caps = r.object("capabilities", true)) {
            Reader c(*caps, "capabilities");
            req.capabilities.protocols = c.enum_list("protocols", kProtocols);
            req.capabilities.drm = c.enum_list("drm", kDrms);
            req.capabilities.video_codecs = c.enum_list("video_codecs", kCodecs);
            req.capabilities.hdr = c.enum_list("hdr", kHdrs);
            if (const json::value* mh = c.field("max_height", true)) {
                if (!mh->is_int64() || mh->get_int64() < 144 || mh->get_int64() > 4320) {
                    c.fail("max_height", "must be an integer in [144, 4320]");
                } else {
                    req.capabilities.max_height = static_cast<int>(mh->get_int64());
                }
            }
            if (req.capabilities.protocols.empty()) {
                c.fail("protocols", "required");
            }
            r.adopt(c);
        }
        req.resume = static_cast<ResumeMode>(r.enumeration("resume", false, kResumeModes, 0));
        if (r.field("replace_session_id", false) != nullptr) {
            req.replace_session_id = r.id("replace_session_id", false);
        }
        for (auto [key, slot] : {std::pair{"preferred_audio_lang", &req.preferred_audio_lang},
                                 std::pair{"preferred_subtitle_lang", &req.preferred_subtitle_lang}}) {
            if (auto lang = r.string(key, false, 16)) {
                if (!is_lang(*lang)) {
                    r.fail(key, "must be a language tag like \"ko\" or \"pt-BR\"");
                } else {
                    *slot = std::string(*lang);
                }
            }
        }
        return req;
    });
}

Parsed<HeartbeatRequest> parse_heartbeat_request(std::string_view body) {
    return parse_with<HeartbeatRequest>(body, [](Reader& r) {
        HeartbeatRequest req;
        req.position_sec = r.position("position_sec");
        req.state = static_cast<PlaybackState>(r.enumeration("state", true, kStates, 0));
        req.seq = r.seq("seq");
        return req;
    });
}

Parsed<StopRequest> parse_stop_request(std::string_view body) {
    return parse_with<StopRequest>(body, [](Reader& r) {
        StopRequest req;
        req.position_sec = r.position("position_sec");
        req.reason = static_cast<StopReason>(r.enumeration("reason", true, kStopReasons, 0));
        req.seq = r.seq("seq");
        return req;
    });
}

Parsed<ProgressPut> parse_progress_put(std::string_view body, std::int64_t now_ms) {
    return parse_with<ProgressPut>(body, [now_ms](Reader& r) {
        ProgressPut req;
        req.position_sec = r.position("position_sec");
        req.duration_sec = r.position("duration_sec");
        req.seq = r.seq("seq");
        if (const json::value* v = r.field("updated_at_ms", true)) {
            constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
            if (!v->is_int64() || v->get_int64() <= 0 || v->get_int64() > now_ms + kDayMs) {
                r.fail("updated_at_ms", "must be epoch milliseconds, not in the future");
            } else {
                req.updated_at_ms = v->get_int64();
            }
        }
        if (req.duration_sec > 0 && req.position_sec > req.duration_sec + 1) {
            r.fail("position_sec", "beyond duration_sec");
        }
        return req;
    });
}

}  // namespace moneta::domain::dom_reference
