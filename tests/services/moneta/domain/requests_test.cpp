#include "domain/requests.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "requests_dom_reference.hpp"

namespace moneta::domain {
namespace {

constexpr const char* kStart = R"({"content_id":"m_1",
 "device":{"id":"d-1","type":"tv","name":"Living room TV","app_version":"5.2.0"},
 "capabilities":{"protocols":["dash","hls"],"drm":["widevine"],"video_codecs":["avc","hevc"],
                 "hdr":["hdr10"],"max_height":2160},
 "resume":"start_over","replace_session_id":"ps_abc","preferred_audio_lang":"ko",
 "preferred_subtitle_lang":"pt-BR","future_field":{"ignored":true}})";

template <class T>
FieldError error_of(const Parsed<T>& p) {
    EXPECT_TRUE(std::holds_alternative<FieldError>(p));
    return std::holds_alternative<FieldError>(p) ? std::get<FieldError>(p) : FieldError{};
}

TEST(RequestsTest, ParsesAFullStartRequest) {
    const auto p = parse_start_request(kStart);
    ASSERT_TRUE(std::holds_alternative<StartRequest>(p)) << std::get<FieldError>(p).reason;
    const auto& r = std::get<StartRequest>(p);
    EXPECT_EQ(r.content_id, "m_1");
    EXPECT_EQ(r.device.id, "d-1");
    EXPECT_EQ(r.device.type, DeviceType::kTv);
    EXPECT_EQ(r.device.name, "Living room TV");
    EXPECT_EQ(r.capabilities.protocols.size(), 2U);
    EXPECT_EQ(r.capabilities.max_height, 2160);
    EXPECT_EQ(r.resume, ResumeMode::kStartOver);
    EXPECT_EQ(r.replace_session_id, "ps_abc");
    EXPECT_EQ(r.preferred_subtitle_lang, "pt-BR");
}

TEST(RequestsTest, StartRejectsEachKindOfBadInput) {
    struct Case {
        const char* body;
        const char* field;
    };
    const Case cases[] = {
        {"", ""},
        {"[]", ""},
        {"{", ""},
        {R"({"device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":1080}})", "content_id"},
        {R"({"content_id":"m/1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":1080}})", "content_id"},
        {R"({"content_id":7,"device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":1080}})", "content_id"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"fridge"},"capabilities":{"protocols":["dash"],"max_height":1080}})", "device.type"},
        {R"({"content_id":"m_1","device":"tv","capabilities":{"protocols":["dash"],"max_height":1080}})", "device"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":["rtmp"],"max_height":1080}})", "capabilities.protocols"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":99999}})", "capabilities.max_height"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":"1080"}})", "capabilities.max_height"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":[],"max_height":1080}})", "capabilities.protocols"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":1080},"resume":"later"})", "resume"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":1080},"preferred_audio_lang":"KOREAN"})", "preferred_audio_lang"},
        {R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":["dash"],"max_height":1080},"replace_session_id":"a b"})", "replace_session_id"},
    };
    for (const Case& c : cases) {
        const FieldError e = error_of(parse_start_request(c.body));
        EXPECT_EQ(e.field, c.field) << c.body;
        EXPECT_FALSE(e.reason.empty()) << c.body;
    }
}

TEST(RequestsTest, DeeplyNestedJsonIsRejectedNotRecursedInto) {
    std::string deep(10000, '[');
    const FieldError e = error_of(parse_start_request(deep));
    EXPECT_EQ(e.reason, "malformed JSON");
}

TEST(RequestsTest, HeartbeatAndStopValidateRanges) {
    const auto ok = parse_heartbeat_request(R"({"position_sec":1902.5,"state":"paused","seq":17})");
    ASSERT_TRUE(std::holds_alternative<HeartbeatRequest>(ok));
    EXPECT_DOUBLE_EQ(std::get<HeartbeatRequest>(ok).position_sec, 1902.5);
    EXPECT_EQ(std::get<HeartbeatRequest>(ok).state, PlaybackState::kPaused);
    EXPECT_EQ(std::get<HeartbeatRequest>(ok).seq, 17);

    EXPECT_EQ(error_of(parse_heartbeat_request(R"({"position_sec":-1,"state":"playing","seq":1})")).field, "position_sec");
    EXPECT_EQ(error_of(parse_heartbeat_request(R"({"position_sec":1e300,"state":"playing","seq":1})")).field, "position_sec");
    EXPECT_EQ(error_of(parse_heartbeat_request(R"({"position_sec":"1","state":"playing","seq":1})")).field, "position_sec");
    EXPECT_EQ(error_of(parse_heartbeat_request(R"({"position_sec":1,"state":"stopped","seq":1})")).field, "state");
    EXPECT_EQ(error_of(parse_heartbeat_request(R"({"position_sec":1,"state":"playing","seq":1.5})")).field, "seq");
    EXPECT_EQ(error_of(parse_heartbeat_request(R"({"position_sec":1,"state":"playing","seq":-1})")).field, "seq");
    EXPECT_EQ(error_of(parse_heartbeat_request(R"({"position_sec":1,"state":"playing"})")).field, "seq");

    const auto stop = parse_stop_request(R"({"position_sec":2011.0,"reason":"ended","seq":18})");
    ASSERT_TRUE(std::holds_alternative<StopRequest>(stop));
    EXPECT_EQ(std::get<StopRequest>(stop).reason, StopReason::kEnded);
    EXPECT_EQ(error_of(parse_stop_request(R"({"position_sec":1,"reason":"bored","seq":1})")).field, "reason");
}

TEST(RequestsTest, IdAndCountryValidation) {
    EXPECT_TRUE(is_valid_id("ps_AZaz09-_"));
    EXPECT_TRUE(is_valid_id(std::string(64, 'x')));
    EXPECT_FALSE(is_valid_id(std::string(65, 'x')));
    EXPECT_FALSE(is_valid_id(""));
    EXPECT_FALSE(is_valid_id("a.b"));
    EXPECT_FALSE(is_valid_id("a%2e"));
    // Every byte value, alone and after valid bytes (the check reads the whole id): exactly
    // [A-Za-z0-9_-] passes; NUL, bytes >= 0x80 and every other ASCII character fail.
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        const bool allowed = std::isalnum(b) != 0 || b == '_' || b == '-';
        EXPECT_EQ(is_valid_id(std::string(1, c)), allowed) << b;
        EXPECT_EQ(is_valid_id(std::string("acct_01") + c + "x"), allowed) << b;
    }
    EXPECT_TRUE(is_valid_country("KR"));
    EXPECT_FALSE(is_valid_country("kr"));
    EXPECT_FALSE(is_valid_country("KOR"));
}

TEST(RequestsTest, FieldErrorDetailsAreJson) {
    EXPECT_EQ(field_error_details({"device.type", "unknown value"}),
              R"({"field":"device.type","reason":"unknown value"})");
    EXPECT_EQ(field_error_details({"", "malformed JSON"}), R"({"reason":"malformed JSON"})");
}

// ---- Issue 11: the SAX parsers give what the DOM reader gave, input for input ----------------
//
// Each rule below is pinned twice: by its expected result, and by the DOM reader the SAX parsers
// replaced (requests_dom_reference.*), which every body here must agree with exactly (the same
// request, or the same field and reason).

constexpr std::int64_t kNow = 1'764'000'000'000;

template <class T>
T value_of(const Parsed<T>& p) {
    EXPECT_TRUE(std::holds_alternative<T>(p))
        << std::get<FieldError>(p).field << ": " << std::get<FieldError>(p).reason;
    return std::holds_alternative<T>(p) ? std::get<T>(p) : T{};
}

// The four body parsers by name, each with its reference.
enum class Body { kStartBody, kHeartbeat, kStop, kProgress };

template <class T>
::testing::AssertionResult agree(
    const Parsed<T>& sax, const Parsed<T>& dom, std::string_view body
) {
    if (dom_reference::same(sax, dom)) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "SAX: " << dom_reference::describe(sax) << ", DOM: " << dom_reference::describe(dom)
           << ", body: " << body;
}

::testing::AssertionResult same_as_reference(Body kind, std::string_view body) {
    namespace ref = dom_reference;
    switch (kind) {
        case Body::kStartBody:
            return agree(parse_start_request(body), ref::parse_start_request(body), body);
        case Body::kHeartbeat:
            return agree(parse_heartbeat_request(body), ref::parse_heartbeat_request(body), body);
        case Body::kStop:
            return agree(parse_stop_request(body), ref::parse_stop_request(body), body);
        case Body::kProgress:
            return agree(parse_progress_put(body, kNow), ref::parse_progress_put(body, kNow), body);
    }
    return ::testing::AssertionFailure() << "no such body";
}

// A start body with one more member, `"key":value`, last in the object `where` ("" = the body,
// "device", "capabilities"): as the last of a repeated key, it is the one that counts.
const std::string kMinimalStart = R"({"content_id":"m_1","device":{"id":"d","type":"tv"},)"
                                  R"("capabilities":{"protocols":["dash"],"max_height":1080}})";

std::string start_with(std::string_view where, std::string_view member) {
    std::string body = kMinimalStart;
    const std::size_t at = where.empty()
                               ? body.size() - 1
                               : body.find('}', body.find("\"" + std::string(where) + "\":{"));
    body.insert(at, "," + std::string(member));
    return body;
}

TEST(RequestsSaxTest, TheSaxParsersAgreeWithTheDomReaderOnEveryCaseHere) {
    // The fixed bodies of this file's other tests, and hand-picked edge cases.
    const std::vector<std::pair<Body, std::string>> cases = {
        {Body::kStartBody, kStart},
        {Body::kStartBody, kMinimalStart},
        {Body::kHeartbeat, R"({"position_sec":123.4,"state":"playing","seq":123456789012})"},
        {Body::kStop, R"({"position_sec":2011.0,"reason":"ended","seq":18})"},
        {Body::kProgress,
         R"({"position_sec":1902.5,"duration_sec":7012.4,"updated_at_ms":1763999990000,"seq":42})"},
    };
    for (const auto& [kind, body] : cases) {
        EXPECT_TRUE(same_as_reference(kind, body));
        // Every prefix and every one-byte deletion: malformed or not, the same verdict.
        for (std::size_t n = 0; n <= body.size(); ++n) {
            EXPECT_TRUE(same_as_reference(kind, body.substr(0, n)));
            EXPECT_TRUE(same_as_reference(
                kind, body.substr(0, n) + body.substr(std::min(n + 1, body.size()))
            ));
        }
    }
}

TEST(RequestsSaxTest, EveryFieldOfEveryBodyGetsTheSameVerdictForEveryKindOfValue) {
    // Each field's value replaced by each JSON kind and by the numbers at its edges.
    // clang-format off
    const std::vector<std::string> values = {
        "null", "true", "false", "{}", "[]", "[null]", "[[]]", R"([{"a":1}])",
        // int64, uint64 and double tokens, and the rules' edges
        "0", "-0", "-0.0", "1", "-1", "1.0", "1.5", "1e2", "-1e-2", "1e400", "-1e400",
        "143", "144", "4320", "4321", "604800", "604801", "604800.0000001",
        "9007199254740992", "9007199254740993", "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "-9223372036854775808",
        "-9223372036854775809", "1764086400000", "1764086400001",
        // strings: each vocabulary, ids, languages, escapes
        R"("")", R"("x")", R"("playing")", R"("paused")", R"("ended")", R"("next_episode")",
        R"("tv")", R"("ko")", R"("pt-BR")", R"("start_over")", R"("a b")", R"("m_1")",
        R"("\u0070laying")",
        // lists and objects
        R"(["dash"])", R"(["dash","hls","dash"])", R"(["widevine"])", R"(["avc","hevc","av1"])",
        R"(["hdr10","dolby_vision"])", R"(["DASH"])", R"({"id":"d","type":"tv"})",
        R"({"protocols":["dash"],"max_height":1080})",
    };
    // clang-format on
    const std::vector<std::pair<Body, std::string>> templates = {
        {Body::kHeartbeat, R"({"position_sec":@,"state":"playing","seq":1})"},
        {Body::kHeartbeat, R"({"position_sec":1,"state":@,"seq":1})"},
        {Body::kHeartbeat, R"({"position_sec":1,"state":"playing","seq":@})"},
        {Body::kStop, R"({"position_sec":@,"reason":"user","seq":1})"},
        {Body::kStop, R"({"position_sec":1,"reason":@,"seq":1})"},
        {Body::kStop, R"({"position_sec":1,"reason":"user","seq":@})"},
        {Body::kProgress, R"({"position_sec":@,"duration_sec":7000,"updated_at_ms":1,"seq":1})"},
        {Body::kProgress, R"({"position_sec":1,"duration_sec":@,"updated_at_ms":1,"seq":1})"},
        {Body::kProgress, R"({"position_sec":1,"duration_sec":7000,"updated_at_ms":@,"seq":1})"},
        {Body::kProgress, R"({"position_sec":1,"duration_sec":7000,"updated_at_ms":1,"seq":@})"},
    };
    std::vector<std::pair<Body, std::string>> bodies = templates;
    for (const char* key :
         {"content_id",
          "device",
          "capabilities",
          "resume",
          "replace_session_id",
          "preferred_audio_lang",
          "preferred_subtitle_lang"}) {
        bodies.emplace_back(Body::kStartBody, start_with("", "\"" + std::string(key) + "\":@"));
    }
    for (const char* key : {"id", "type", "name", "app_version"}) {
        bodies.emplace_back(
            Body::kStartBody, start_with("device", "\"" + std::string(key) + "\":@")
        );
    }
    for (const char* key : {"protocols", "drm", "video_codecs", "hdr", "max_height"}) {
        bodies.emplace_back(
            Body::kStartBody, start_with("capabilities", "\"" + std::string(key) + "\":@")
        );
    }
    for (const auto& [kind, tmpl] : bodies) {
        for (const std::string& v : values) {
            std::string body = tmpl;
            body.replace(body.find('@'), 1, v);
            EXPECT_TRUE(same_as_reference(kind, body));
        }
    }
}

TEST(RequestsSaxTest, NullIsAbsent) {
    EXPECT_EQ(
        error_of(parse_heartbeat_request(R"({"position_sec":null,"state":"playing","seq":1})"))
            .reason,
        "required"
    );
    EXPECT_EQ(
        error_of(parse_heartbeat_request(R"({"position_sec":1,"state":null,"seq":1})")).field,
        "state"
    );
    EXPECT_EQ(error_of(parse_start_request(start_with("", R"("device":null)"))).field, "device");
    EXPECT_EQ(
        error_of(parse_start_request(start_with("device", R"("id":null)"))).field, "device.id"
    );
    // Optional fields: null is simply not given.
    const auto r = value_of(parse_start_request(
        start_with("", R"("replace_session_id":null,"preferred_audio_lang":null,"resume":null)")
    ));
    EXPECT_FALSE(r.replace_session_id);
    EXPECT_FALSE(r.preferred_audio_lang);
    EXPECT_EQ(r.resume, ResumeMode::kAuto);
    EXPECT_TRUE(value_of(parse_start_request(start_with("capabilities", R"("drm":null)")))
                    .capabilities.drm.empty());
    EXPECT_EQ(
        value_of(parse_start_request(start_with("device", R"("name":null)"))).device.name, ""
    );
    // A null protocol list is a missing one: "required", named after max_height is checked.
    const FieldError e = error_of(parse_start_request(
        R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"capabilities":{"protocols":null,"max_height":1080}})"
    ));
    EXPECT_EQ(e.field, "capabilities.protocols");
    EXPECT_EQ(e.reason, "required");
}

TEST(RequestsSaxTest, ARepeatedKeyKeepsItsLastValueAsTheDomDid) {
    EXPECT_EQ(
        value_of(parse_heartbeat_request(R"({"seq":1,"position_sec":1,"state":"playing","seq":2})"))
            .seq,
        2
    );
    // A bad value then a good one: the good one counts, and the other way round.
    EXPECT_EQ(
        value_of(parse_heartbeat_request(R"({"seq":"x","position_sec":1,"state":"playing","seq":3})"
                 ))
            .seq,
        3
    );
    EXPECT_EQ(
        error_of(
            parse_heartbeat_request(R"({"seq":3,"position_sec":1,"state":"playing","seq":null})")
        )
            .field,
        "seq"
    );
    EXPECT_EQ(
        value_of(parse_heartbeat_request(
                     R"({"state":"paused","position_sec":1,"state":"buffering","seq":1})"
                 ))
            .state,
        PlaybackState::kBuffering
    );
    // A repeated object replaces the first one whole: its fields are not merged.
    EXPECT_EQ(
        error_of(parse_start_request(start_with("", R"("device":{"type":"web"})"))).field,
        "device.id"
    );
    const std::string second_device_without_id =
        R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"device":{"type":"web"},)"
        R"("capabilities":{"protocols":["dash"],"max_height":1080}})";
    EXPECT_EQ(error_of(parse_start_request(second_device_without_id)).field, "device.id");
    EXPECT_EQ(
        error_of(parse_start_request(
                     R"({"content_id":"m_1","device":{"id":"d","type":"tv"},"device":"tv",)"
                     R"("capabilities":{"protocols":["dash"],"max_height":1080}})"
                 ))
            .reason,
        "must be an object"
    );
    const auto lists =
        value_of(parse_start_request(start_with("capabilities", R"("protocols":["hls","hls"])")));
    EXPECT_EQ(lists.capabilities.protocols, (NameList{"hls", "hls"}));
    const auto again = value_of(parse_start_request(
        R"({"content_id":"m_1","content_id":"m_2","device":{"id":"d","id":"e","type":"tv"},)"
        R"("capabilities":{"protocols":["dash"],"max_height":1080,"protocols":["hls"]}})"
    ));
    EXPECT_EQ(again.content_id, "m_2");
    EXPECT_EQ(again.device.id, "e");
    EXPECT_EQ(again.capabilities.protocols, (NameList{"hls"}));
    for (const std::string& body :
         {second_device_without_id,
          start_with("", R"("device":{"type":"web"})"),
          start_with("capabilities", R"("protocols":{"a":1})")}) {
        EXPECT_TRUE(same_as_reference(Body::kStartBody, body));
    }
    EXPECT_TRUE(same_as_reference(
        Body::kHeartbeat, R"({"seq":1,"seq":{"a":[1]},"position_sec":1,"state":"playing"})"
    ));
}

TEST(RequestsSaxTest, EscapedStringsAreComparedAndMeasuredDecoded) {
    EXPECT_EQ(
        value_of(parse_heartbeat_request(R"({"position_sec":1,"state":"pl\u0061ying","seq":1})"))
            .state,
        PlaybackState::kPlaying
    );
    // Escaped keys name the same fields.
    EXPECT_EQ(
        value_of(parse_heartbeat_request(R"({"position_sec":1,"st\u0061te":"paused","\u0073eq":7})")
        )
            .seq,
        7
    );
    // An unescaped run, then an escape: the parser hands the string over in two pieces.
    EXPECT_EQ(
        value_of(parse_start_request(start_with("", R"("content_id":"m_\u0031")"))).content_id,
        "m_1"
    );
    EXPECT_EQ(
        error_of(parse_start_request(start_with("", R"("content_id":"m\"1")"))).field, "content_id"
    );
    // device.name: 128 bytes at most, decoded. 64 x "\u00e9" is 128 bytes of UTF-8 (384 escaped).
    std::string e64;
    for (int i = 0; i < 64; ++i) {
        e64 += "\\u00e9";
    }
    EXPECT_EQ(
        value_of(parse_start_request(start_with("device", "\"name\":\"" + e64 + "\"")))
            .device.name.size(),
        128U
    );
    const FieldError too_long =
        error_of(parse_start_request(start_with("device", "\"name\":\"" + e64 + "x\"")));
    EXPECT_EQ(too_long.field, "device.name");
    EXPECT_EQ(too_long.reason, "too long");
    // A surrogate pair is one 4-byte character; a lone surrogate is malformed JSON.
    EXPECT_EQ(
        value_of(parse_start_request(start_with("device", R"("name":"\ud83d\ude00")"))).device.name,
        "\xF0\x9F\x98\x80"
    );
    EXPECT_EQ(
        error_of(parse_start_request(start_with("device", R"("name":"\ud800")"))).reason,
        "malformed JSON"
    );
    // An escaped capability name, and an escaped id that is valid once decoded.
    EXPECT_EQ(
        value_of(parse_start_request(start_with("capabilities", R"("drm":["wide\u0076ine"])")))
            .capabilities.drm,
        (NameList{"widevine"})
    );
    EXPECT_EQ(
        value_of(parse_start_request(start_with("device", R"("id":"\u0064-2")"))).device.id, "d-2"
    );
    // Strings longer than the parser's 4 KiB unescaping buffer arrive in several pieces.
    std::string long_escaped;
    for (int i = 0; i < 3000; ++i) {
        long_escaped += "\\n";
    }
    for (const std::string& body :
         {start_with("device", "\"name\":\"" + long_escaped + "\""),
          start_with("", "\"" + long_escaped + "\":1"),
          start_with("", "\"content_id\":\"m" + long_escaped + "\""),
          start_with("capabilities", "\"protocols\":[\"dash\",\"" + long_escaped + "\"]"),
          start_with("device", "\"name\":\"" + std::string(5000, 'a') + "\""),
          start_with("device", "\"name\":\"" + e64 + "\""),
          start_with("device", R"("name":"a\"b\\c\/d\b\f\n\r\t")"),
          start_with("", R"("preferred_audio_lang":"p\u0074-BR")")}) {
        EXPECT_TRUE(same_as_reference(Body::kStartBody, body));
    }
    EXPECT_EQ(
        value_of(
            parse_start_request(start_with("device", "\"name\":\"" + std::string(128, 'a') + "\""))
        )
            .device.name.size(),
        128U
    );
    EXPECT_EQ(
        error_of(
            parse_start_request(start_with("device", "\"name\":\"" + std::string(129, 'a') + "\""))
        )
            .reason,
        "too long"
    );
}

TEST(RequestsSaxTest, UnknownKeysAreIgnoredAtAnyDepthAndDoNotNameFields) {
    const auto r = value_of(parse_heartbeat_request(
        R"({"future":{"seq":99,"state":"paused","a":[1,{"b":{"c":[]}}]},"position_sec":1,)"
        R"("list":["seq",{"seq":5}],"state":"playing","seq":4})"
    ));
    EXPECT_EQ(r.seq, 4);
    EXPECT_EQ(r.state, PlaybackState::kPlaying);
    // A field's name inside an unknown object is not that field.
    EXPECT_EQ(
        error_of(parse_heartbeat_request(R"({"x":{"seq":1},"position_sec":1,"state":"playing"})"))
            .field,
        "seq"
    );
    // Nor is a nested object's field at the top level, or a top-level field inside an object.
    const auto s = value_of(parse_start_request(
        start_with("device", R"("extra":{"id":"x"},"content_id":"zz","max_height":5)")
    ));
    EXPECT_EQ(s.device.id, "d");
    EXPECT_EQ(s.content_id, "m_1");
    EXPECT_EQ(
        error_of(parse_start_request(
                     R"({"content_id":"m_1","id":"d","type":"tv","device":{},"protocols":["dash"],)"
                     R"("capabilities":{"max_height":1080}})"
                 ))
            .field,
        "device.id"
    );
    // A field whose value is an object or array of the wrong kind is skipped whole.
    EXPECT_EQ(
        error_of(parse_start_request(start_with("", R"("content_id":{"content_id":"m_1"})")))
            .reason,
        "must be a string"
    );
    for (const std::string& body :
         {start_with("", R"("x":{"device":{"id":"evil"}},"y":[{"capabilities":{}}])"),
          start_with("device", R"("type":["tv"])"),
          start_with("capabilities", R"("protocols":[["dash"]])"),
          start_with("capabilities", R"("max_height":{"max_height":1080})")}) {
        EXPECT_TRUE(same_as_reference(Body::kStartBody, body));
    }
}

TEST(RequestsSaxTest, NestingDeeperThanEightLevelsIsMalformed) {
    // The body is level 1: seven more arrays inside it are fine, eight are not.
    const auto nested = [](int levels) {
        return R"({"position_sec":1,"state":"playing","seq":1,"x":)" + std::string(levels, '[') +
               std::string(levels, ']') + "}";
    };
    EXPECT_EQ(value_of(parse_heartbeat_request(nested(7))).seq, 1);
    EXPECT_EQ(error_of(parse_heartbeat_request(nested(8))).reason, "malformed JSON");
    EXPECT_EQ(error_of(parse_heartbeat_request(nested(10000))).reason, "malformed JSON");
    for (int levels = 0; levels <= 9; ++levels) {
        EXPECT_TRUE(same_as_reference(Body::kHeartbeat, nested(levels)));
        EXPECT_TRUE(same_as_reference(
            Body::kStartBody,
            start_with("device", "\"x\":" + std::string(levels, '[') + std::string(levels, ']'))
        ));
    }
    // Through known fields: the body is 1, device 2, then six objects in device.id reach 8.
    const std::string eight = start_with("device", R"("id":{"a":{"b":{"c":{"d":{"e":{}}}}}})");
    const std::string nine = start_with("device", R"("id":{"a":{"b":{"c":{"d":{"e":{"f":{}}}}}}})");
    EXPECT_EQ(error_of(parse_start_request(eight)).reason, "must be a string");
    EXPECT_EQ(error_of(parse_start_request(nine)).reason, "malformed JSON");
    EXPECT_TRUE(same_as_reference(Body::kStartBody, eight));
    EXPECT_TRUE(same_as_reference(Body::kStartBody, nine));
}

TEST(RequestsSaxTest, AnythingButOneJsonObjectIsRefusedAsBefore) {
    for (const char* body :
         {"",
          " ",
          "{} x",
          "{}{}",
          R"({"a":1,})",
          "[1,]",
          "{/*c*/}",
          "{}//c",
          "{'a':1}",
          "\xEF\xBB\xBF{}",
          "{\"a\":\"\xff\"}",
          "{\"\xc3\x28\":1}",
          "{\"a\":\"\x01\"}",
          "{\"a\":\"\xed\xa0\x80\"}",
          R"({"a":1e})",
          R"({"a":01})",
          R"({"a":NaN})",
          R"({"a":tru})",
          "{\"a\":1}\n\t "}) {
        EXPECT_TRUE(same_as_reference(Body::kHeartbeat, body)) << body;
        EXPECT_TRUE(same_as_reference(Body::kStartBody, body)) << body;
    }
    EXPECT_EQ(error_of(parse_heartbeat_request("{} x")).reason, "malformed JSON");
    EXPECT_EQ(error_of(parse_heartbeat_request("{/*c*/}")).reason, "malformed JSON");
    EXPECT_EQ(
        error_of(parse_heartbeat_request("{\"position_sec\":1,\"state\":\"pl\xffying\",\"seq\":1}"))
            .reason,
        "malformed JSON"
    );
    for (const char* body : {"[]", R"("x")", "1", "null", "true", "[{}]"}) {
        const FieldError e = error_of(parse_heartbeat_request(body));
        EXPECT_EQ(e.field, "");
        EXPECT_EQ(e.reason, "body must be a JSON object") << body;
    }
    // Whitespace after the object is fine.
    EXPECT_EQ(
        value_of(parse_heartbeat_request("{\"position_sec\":1,\"state\":\"playing\",\"seq\":1}\r\n "
                 ))
            .seq,
        1
    );
}

TEST(RequestsSaxTest, NumbersAreClassifiedAsTheDomClassifiedThem) {
    // position: any number, as a double.
    EXPECT_EQ(
        value_of(parse_heartbeat_request(R"({"position_sec":5,"state":"playing","seq":1})"))
            .position_sec,
        5.0
    );
    EXPECT_TRUE(std::signbit(
        value_of(parse_heartbeat_request(R"({"position_sec":-0.0,"state":"playing","seq":1})"))
            .position_sec
    ));
    EXPECT_EQ(
        error_of(parse_heartbeat_request(
                     R"({"position_sec":18446744073709551615,"state":"playing","seq":1})"
                 ))
            .reason,
        "out of range"
    );
    // seq: an integer token only, 0..2^53.
    EXPECT_EQ(
        value_of(parse_heartbeat_request(
                     R"({"position_sec":1,"state":"playing","seq":9007199254740992})"
                 ))
            .seq,
        9007199254740992
    );
    EXPECT_EQ(
        value_of(parse_heartbeat_request(R"({"position_sec":1,"state":"playing","seq":-0})")).seq, 0
    );
    for (const char* seq :
         {"9007199254740993", "1.0", "1e2", "18446744073709551615", "-1", "true", "\"1\""}) {
        const std::string body =
            std::string(R"({"position_sec":1,"state":"playing","seq":)") + seq + "}";
        EXPECT_EQ(error_of(parse_heartbeat_request(body)).reason, "must be an integer in [0, 2^53]")
            << seq;
    }
    // max_height and updated_at_ms: int64 tokens only.
    EXPECT_EQ(
        error_of(parse_start_request(start_with("capabilities", R"("max_height":1080.0)"))).reason,
        "must be an integer in [144, 4320]"
    );
    EXPECT_EQ(
        error_of(parse_progress_put(
                     R"({"position_sec":1,"duration_sec":0,"updated_at_ms":1.7e12,"seq":1})", kNow
                 ))
            .field,
        "updated_at_ms"
    );
}

TEST(RequestsSaxTest, CapabilityListsKeepTheirRules) {
    const auto sixteen = [](std::string_view last) {
        std::string list = R"("drm":[)";
        for (int i = 0; i < 15; ++i) {
            list += R"("widevine",)";
        }
        return list + std::string(last) + "]";
    };
    EXPECT_EQ(
        value_of(parse_start_request(start_with("capabilities", sixteen(R"("fairplay")"))))
            .capabilities.drm.size(),
        16U
    );
    // 17 elements: too long, even when one of them is also unknown (length is checked first).
    for (const char* last :
         {R"("fairplay","fairplay")", R"("fairplay","x")", R"("x","fairplay")"}) {
        const FieldError e =
            error_of(parse_start_request(start_with("capabilities", sixteen(last))));
        EXPECT_EQ(e.field, "capabilities.drm");
        EXPECT_EQ(e.reason, "must be a short array of strings");
    }
    for (const char* list :
         {R"(["dash",1])",
          R"(["dash",null])",
          R"(["dash",["hls"]])",
          R"(["dash",{}])",
          R"(["dash","dash "])",
          R"(["hdr10"])"}) {
        const FieldError e = error_of(
            parse_start_request(start_with("capabilities", std::string(R"("protocols":)") + list))
        );
        EXPECT_EQ(e.field, "capabilities.protocols") << list;
        EXPECT_EQ(e.reason, "unknown value") << list;
    }
    EXPECT_EQ(
        value_of(
            parse_start_request(start_with("capabilities", R"("protocols":["hls","dash","hls"])"))
        )
            .capabilities.protocols,
        (NameList{"hls", "dash", "hls"})
    );
    for (const std::string& list :
         {sixteen(R"("fairplay")"), sixteen(R"("fairplay","x")"), sixteen(R"(1,2)")}) {
        EXPECT_TRUE(same_as_reference(Body::kStartBody, start_with("capabilities", list)));
    }
}

TEST(RequestsSaxTest, TheFirstErrorInRuleOrderIsReportedWhateverTheKeyOrder) {
    EXPECT_EQ(
        error_of(parse_heartbeat_request(R"({"seq":-1,"state":"bad","position_sec":"x"})")).field,
        "position_sec"
    );
    EXPECT_EQ(
        error_of(parse_heartbeat_request(R"({"seq":-1,"state":"bad","position_sec":1})")).field,
        "state"
    );
    EXPECT_EQ(
        error_of(parse_progress_put(
                     R"({"updated_at_ms":0,"seq":-1,"duration_sec":1,"position_sec":5})", kNow
                 ))
            .field,
        "seq"
    );
    EXPECT_EQ(
        error_of(parse_progress_put(
                     R"({"updated_at_ms":0,"duration_sec":1,"position_sec":5,"seq":1})", kNow
                 ))
            .field,
        "updated_at_ms"
    );
    EXPECT_EQ(
        error_of(parse_progress_put(
                     R"({"updated_at_ms":1,"duration_sec":1,"position_sec":5,"seq":1})", kNow
                 ))
            .reason,
        "beyond duration_sec"
    );
    // Start: content_id, device.*, capabilities.* (lists, max_height, then a missing protocol
    // list), resume, replace_session_id, the languages.
    const std::string all_wrong =
        R"({"preferred_subtitle_lang":"X","preferred_audio_lang":"Y","replace_session_id":"a b","resume":"z",)"
        R"("capabilities":{"max_height":1,"hdr":[1],"drm":"w"},"device":{"app_version":1,"name":2,"type":"f","id":"?"},)"
        R"("content_id":"/"})";
    EXPECT_EQ(error_of(parse_start_request(all_wrong)).field, "content_id");
    std::string body = all_wrong;
    const std::vector<std::pair<std::string, std::string>> fixes = {
        {R"("content_id":"/")", R"("content_id":"m")"},
        {R"("id":"?")", R"("id":"d")"},
        {R"("type":"f")", R"("type":"tv")"},
        {R"("name":2)", R"("name":"n")"},
        {R"("app_version":1)", R"("app_version":"1")"},
        {R"("drm":"w")", R"("drm":[])"},
        {R"("hdr":[1])", R"("hdr":[])"},
        {R"("max_height":1)", R"("max_height":144)"},
        {R"("max_height":144)", R"("max_height":144,"protocols":["hls"])"},
        {R"("resume":"z")", R"("resume":"auto")"},
        {R"("a b")", R"("ps_1")"},
        {R"("Y")", R"("ko")"},
        {R"("X")", R"("en")"},
    };
    const std::vector<std::string> expected = {
        "device.id",
        "device.type",
        "device.name",
        "device.app_version",
        "capabilities.drm",
        "capabilities.hdr",
        "capabilities.max_height",
        "capabilities.protocols",
        "resume",
        "replace_session_id",
        "preferred_audio_lang",
        "preferred_subtitle_lang",
        "",
    };
    for (std::size_t i = 0; i < fixes.size(); ++i) {
        EXPECT_TRUE(same_as_reference(Body::kStartBody, body));
        body.replace(body.find(fixes[i].first), fixes[i].first.size(), fixes[i].second);
        const auto p = parse_start_request(body);
        EXPECT_EQ(
            std::holds_alternative<FieldError>(p) ? std::get<FieldError>(p).field : "", expected[i]
        ) << body;
    }
    // A wrongly typed protocol list is named before max_height, a missing one after it.
    EXPECT_EQ(
        error_of(parse_start_request(R"({"content_id":"m","device":{"id":"d","type":"tv"},)"
                                     R"("capabilities":{"protocols":"dash","max_height":1}})"))
            .field,
        "capabilities.protocols"
    );
    EXPECT_EQ(
        error_of(parse_start_request(R"({"content_id":"m","device":{"id":"d","type":"tv"},)"
                                     R"("capabilities":{"max_height":1}})"))
            .field,
        "capabilities.max_height"
    );
}

TEST(RequestsSaxTest, StartFieldsKeepTheirOtherRules) {
    // ids: 64 characters at most, [A-Za-z0-9_-], checked after the length.
    EXPECT_EQ(
        value_of(
            parse_start_request(start_with("", "\"content_id\":\"" + std::string(64, 'c') + "\""))
        )
            .content_id.size(),
        64U
    );
    EXPECT_EQ(
        error_of(
            parse_start_request(start_with("", "\"content_id\":\"" + std::string(65, 'c') + "\""))
        )
            .reason,
        "too long"
    );
    EXPECT_EQ(
        error_of(parse_start_request(start_with("", "\"content_id\":\"\""))).reason,
        "must match [A-Za-z0-9_-]{1,64}"
    );
    // Enumerations: 32 characters at most, then the vocabulary.
    EXPECT_EQ(
        error_of(
            parse_start_request(start_with("device", "\"type\":\"" + std::string(33, 't') + "\""))
        )
            .reason,
        "too long"
    );
    EXPECT_EQ(
        error_of(
            parse_start_request(start_with("device", "\"type\":\"" + std::string(32, 't') + "\""))
        )
            .reason,
        "unknown value"
    );
    // Languages: 16 characters at most, then the tag rule.
    EXPECT_EQ(
        value_of(parse_start_request(start_with("", R"("preferred_audio_lang":"pt-BR")")))
            .preferred_audio_lang,
        "pt-BR"
    );
    EXPECT_EQ(
        error_of(parse_start_request(start_with("", R"("preferred_audio_lang":"abcdefghijklmnopq")")
                 ))
            .reason,
        "too long"
    );
    EXPECT_EQ(
        error_of(parse_start_request(start_with("", R"("preferred_subtitle_lang":"en_US")"))).field,
        "preferred_subtitle_lang"
    );
    // app_version: 32 at most.
    EXPECT_EQ(
        error_of(parse_start_request(
                     start_with("device", "\"app_version\":\"" + std::string(33, '1') + "\"")
                 ))
            .field,
        "device.app_version"
    );
    for (const std::string& body :
         {start_with("", "\"content_id\":\"" + std::string(65, 'c') + "\""),
          start_with("device", "\"app_version\":\"" + std::string(32, '1') + "\""),
          start_with("device", "\"type\":\"" + std::string(33, 't') + "\""),
          start_with("", R"("preferred_audio_lang":"zh-Hant","preferred_subtitle_lang":"ko")"),
          start_with("", R"("replace_session_id":"ps_1","resume":"start_over")")}) {
        EXPECT_TRUE(same_as_reference(Body::kStartBody, body));
    }
}

}  // namespace
}  // namespace moneta::domain
