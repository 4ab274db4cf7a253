// The strict single-pass reader behind the JOSE header and the claims (jose_reader.hpp).
#include "jose_reader.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace moneta::jwt::detail {
namespace {

JsonVerdict verdict(std::string_view text) {
    JsonValue none[1];
    static constexpr std::string_view kNames[1] = {"a"};
    return read_object(text, kNames, none);
}

TEST(JoseReaderTest, RefusesDuplicateNamesAtEveryDepthAndAcceptsEqualNamesInOtherObjects) {
    EXPECT_EQ(verdict(R"({"a":1,"b":{"c":[{"d":1,"e":2}]}})"), JsonVerdict::kOk);
    EXPECT_EQ(verdict(R"({"a":1,"a":1})"), JsonVerdict::kDuplicateName);
    EXPECT_EQ(verdict(R"({"a":[{"b":1,"b":2}]})"), JsonVerdict::kDuplicateName);
    EXPECT_EQ(verdict(R"({"x":{"b":1,"c":{"b":2}},"b":3})"), JsonVerdict::kOk);
    EXPECT_EQ(verdict(R"({"a":1,"\u0061":2})"), JsonVerdict::kDuplicateName);  // escaped spelling
    EXPECT_EQ(verdict(R"({"\u00e9":1,"é":2})"), JsonVerdict::kDuplicateName);
    EXPECT_EQ(verdict(R"({"\ud83d\ude00":1,"😀":2})"), JsonVerdict::kDuplicateName);
    EXPECT_EQ(verdict(R"({"a\/b":1,"a/b":2})"), JsonVerdict::kDuplicateName);
    EXPECT_EQ(verdict(R"({"ab":1,"a\u0062c":2})"), JsonVerdict::kOk);
}

TEST(JoseReaderTest, ManyMembersUseTheHeapTableAndStillFindADuplicate) {
    std::string text = "{";
    for (int i = 0; i < 2000; ++i) {
        text += "\"m" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    }
    EXPECT_EQ(verdict(text + "\"z\":0}"), JsonVerdict::kOk);
    EXPECT_EQ(verdict(text + "\"m1999\":0}"), JsonVerdict::kDuplicateName);
}

TEST(JoseReaderTest, IsStrictJson) {
    EXPECT_EQ(verdict(R"({"a":1} )"), JsonVerdict::kOk);
    EXPECT_EQ(verdict(" \t\r\n{ \"a\" : [ 1 , -0.5e+3 , true , false , null , \"\" , {} , [] ] }"), JsonVerdict::kOk);
    EXPECT_EQ(verdict("[1]"), JsonVerdict::kNotObject);
    EXPECT_EQ(verdict("\"a\""), JsonVerdict::kNotObject);
    for (const std::string_view bad : {
             R"({"a":1} x)", R"({"a":1)", R"({"a":1,})", R"({"a":[1,]})", R"({,})", R"({"a"})", R"({"a":})",
             R"({a:1})", R"({'a':1})", R"({"a":01})", R"({"a":1.})", R"({"a":.5})", R"({"a":+1})", R"({"a":1e})",
             R"({"a":1e99999})", R"({"a":-})", R"({"a":NaN})", R"({"a":Infinity})", R"({"a":tru})", R"({"a":nul})",
             R"({"a":"\x"})", R"({"a":"\u12"})", R"({"a":"\u12G4"})", R"({"a":"\ud800"})", R"({"a":"\udc00"})",
             R"({"a":"\ud800\u0041"})", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}",
             "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xe2\x82\"}", R"({"a":1}/**/)",
             "", "{", "}", "\xef\xbb\xbf{}", "{}{}"}) {
        EXPECT_EQ(verdict(bad), JsonVerdict::kInvalid) << bad;
    }
    // What it accepts, Boost.JSON accepts too (the fuzz target compares claims with it).
    for (const std::string_view good : {R"({"a":"\u00e9\ud83d\ude00 \"\\\/\b\f\n\r\t"})", "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}",
                                        R"({"a":[-0,0.0,1E5,1e-5,12.5e+7]})"}) {
        EXPECT_EQ(verdict(good), JsonVerdict::kOk) << good;
        boost::system::error_code ec;
        (void)boost::json::parse(good, ec);
        EXPECT_FALSE(ec) << good;
    }
}

TEST(JoseReaderTest, DepthIsBounded) {
    const std::string ok = "{\"a\":" + std::string(15, '[') + std::string(15, ']') + "}";
    EXPECT_EQ(verdict(ok), JsonVerdict::kOk);  // 16 levels with the object
    const std::string deep = "{\"a\":" + std::string(16, '[') + std::string(16, ']') + "}";
    EXPECT_EQ(verdict(deep), JsonVerdict::kInvalid);
    EXPECT_EQ(verdict(std::string(40, '[') + std::string(40, ']')), JsonVerdict::kInvalid);
}

TEST(JoseReaderTest, HandsBackTheTopLevelMembersAsked) {
    static constexpr std::string_view kNames[] = {"sub", "exp", "aud", "n", "missing"};
    JsonValue out[5];
    ASSERT_EQ(read_object(R"({"n":{"sub":"inner"},"s\u0075b":"a\"1","exp":1700000000,"aud":["x","m\u006fneta"]})",
                          kNames, out),
              JsonVerdict::kOk);
    EXPECT_EQ(out[0].kind, JsonKind::kString);
    ClaimString sub;
    unescape_into(out[0], sub);
    EXPECT_EQ(sub, "a\"1");  // the top-level one, not the nested "sub"
    EXPECT_EQ(out[1].kind, JsonKind::kNumber);
    EXPECT_EQ(out[1].raw, "1700000000");
    EXPECT_EQ(out[2].kind, JsonKind::kArray);
    std::string auds;
    EXPECT_TRUE(for_each_string(out[2], [&auds](const JsonValue& v) {
        ClaimString a;
        unescape_into(v, a);
        auds += std::string(a.view()) + ";";
        return true;
    }));
    EXPECT_EQ(auds, "x;moneta;");
    EXPECT_EQ(out[3].kind, JsonKind::kObject);
    EXPECT_EQ(out[4].kind, JsonKind::kAbsent);
    JsonValue arr[1];
    static constexpr std::string_view kAud[] = {"aud"};
    ASSERT_EQ(read_object(R"({"aud":["x",1]})", kAud, arr), JsonVerdict::kOk);
    EXPECT_FALSE(for_each_string(arr[0], [](const JsonValue&) { return true; }));
}

TEST(JoseReaderTest, NumericDatesAreIntegers) {
    constexpr std::int64_t kMax = 253402300799;
    EXPECT_EQ(integral_number("1700000000", kMax), 1700000000);
    EXPECT_EQ(integral_number("1700000000.000", kMax), 1700000000);
    EXPECT_EQ(integral_number("0", kMax), 0);
    EXPECT_EQ(integral_number("-0", kMax), 0);
    EXPECT_EQ(integral_number("253402300799", kMax), kMax);
    EXPECT_EQ(integral_number("253402300800", kMax), std::nullopt);
    EXPECT_EQ(integral_number("99999999999999999999999", kMax), std::nullopt);
    EXPECT_EQ(integral_number("-1", kMax), std::nullopt);
    EXPECT_EQ(integral_number("1700000000.5", kMax), std::nullopt);
    EXPECT_EQ(integral_number("1.7e9", kMax), std::nullopt);
    EXPECT_EQ(integral_number("17e8", kMax), std::nullopt);
}

TEST(ClaimStringTest, InlineAndLongValuesReadBack) {
    ClaimString s("abc");
    EXPECT_EQ(s, "abc");
    const std::string longer(200, 'x');
    s = longer;
    EXPECT_EQ(s, longer);
    ClaimString copy = s;
    s = "short";
    EXPECT_EQ(copy, longer);
    EXPECT_EQ(s, "short");
    EXPECT_EQ(s.size(), 5U);
    Audiences a;
    a.push_back("one");
    a.push_back("two");
    a.push_back("three");
    const Audiences b = a;
    EXPECT_EQ(b.size(), 3U);
    EXPECT_TRUE(b.contains("three"));
    EXPECT_FALSE(b.contains("four"));
}

}  // namespace
}  // namespace moneta::jwt::detail
