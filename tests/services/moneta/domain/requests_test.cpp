#include "domain/requests.hpp"

#include <gtest/gtest.h>

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
    EXPECT_TRUE(is_valid_country("KR"));
    EXPECT_FALSE(is_valid_country("kr"));
    EXPECT_FALSE(is_valid_country("KOR"));
}

TEST(RequestsTest, FieldErrorDetailsAreJson) {
    EXPECT_EQ(field_error_details({"device.type", "unknown value"}),
              R"({"field":"device.type","reason":"unknown value"})");
    EXPECT_EQ(field_error_details({"", "malformed JSON"}), R"({"reason":"malformed JSON"})");
}

}  // namespace
}  // namespace moneta::domain
