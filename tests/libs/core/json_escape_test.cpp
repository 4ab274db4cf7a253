#include "moneta/core/json_escape.hpp"

#include <gtest/gtest.h>

#include <string>

namespace moneta::core {
namespace {

std::string esc(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

TEST(JsonEscape, PlainTextIsQuotedUnchanged) {
    EXPECT_EQ(esc(""), R"("")");
    EXPECT_EQ(esc("GET /v1/playback/sessions"), R"("GET /v1/playback/sessions")");
}

TEST(JsonEscape, QuotesBackslashesAndShortFormsAreEscaped) {
    EXPECT_EQ(esc("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(esc("l1\nl2\r\t"), R"("l1\nl2\r\t")");
}

TEST(JsonEscape, OtherControlBytesAndDelBecomeUnicodeEscapes) {
    EXPECT_EQ(esc(std::string_view("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
    EXPECT_EQ(esc("\b\f"), R"("\u0008\u000c")");
}

TEST(JsonEscape, WellFormedUtf8IsKept) {
    EXPECT_EQ(esc("caf\xC3\xA9"), "\"caf\xC3\xA9\"");                  // U+00E9
    EXPECT_EQ(esc("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");                // U+20AC
    EXPECT_EQ(esc("\xED\x9F\xBF"), "\"\xED\x9F\xBF\"");                // U+D7FF, last before surrogates
    EXPECT_EQ(esc("\xF0\x9F\x8E\xAC"), "\"\xF0\x9F\x8E\xAC\"");        // U+1F3AC
    EXPECT_EQ(esc("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");        // U+10FFFF
}

TEST(JsonEscape, InvalidUtf8BecomesOneReplacementCharacterPerBadByte) {
    const std::string r = "\xEF\xBF\xBD";
    EXPECT_EQ(esc("\x80"), "\"" + r + "\"");                 // stray continuation
    EXPECT_EQ(esc("a\xFF" "b"), "\"a" + r + "b\"");          // never valid
    EXPECT_EQ(esc("\xC0\xAF"), "\"" + r + r + "\"");         // overlong '/'
    EXPECT_EQ(esc("\xE0\x80\xAF"), "\"" + r + r + r + "\""); // overlong, 3 bytes
    EXPECT_EQ(esc("\xED\xA0\x80"), "\"" + r + r + r + "\""); // surrogate U+D800
    EXPECT_EQ(esc("\xF4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // above U+10FFFF
    EXPECT_EQ(esc("\xE2\x82"), "\"" + r + r + "\"");         // cut at the end
    EXPECT_EQ(esc("\xC3" "A"), "\"" + r + "A\"");            // lead without continuation
}

// The plain-run check reads eight bytes at a time: every byte value at every position of a whole
// word and of the tail gives what the byte alone gives, between the same plain neighbours.
TEST(JsonEscape, EveryByteAtEveryPositionEscapesAsItsOwn) {
    for (int b = 0; b < 256; ++b) {
        const std::string alone = esc(std::string(1, static_cast<char>(b)));
        const std::string inner = alone.substr(1, alone.size() - 2);
        // Two 16-byte blocks, an 8-byte word and single bytes.
        for (std::size_t at = 0; at < 43; ++at) {
            std::string s(43, 'p');
            s[at] = static_cast<char>(b);
            const std::string want = "\"" + std::string(at, 'p') + inner + std::string(42 - at, 'p') + "\"";
            EXPECT_EQ(esc(s), want) << "byte " << b << " at " << at;
        }
    }
    EXPECT_EQ(esc(std::string(1, '"')), "\"\\\"\"");
    EXPECT_EQ(esc(std::string(1, '\x80')), "\"\xEF\xBF\xBD\"");
}

// is_json_plain says exactly when append_json_string writes one-byte text unchanged, for every byte
// at every position of the word-at-a-time scan.
TEST(JsonEscape, PlainIsExactlyWhatEscapesToItself) {
    EXPECT_TRUE(is_json_plain(""));
    for (int b = 0; b < 256; ++b) {
        for (std::size_t at = 0; at < 43; ++at) {
            std::string s(43, 'p');
            s[at] = static_cast<char>(b);
            EXPECT_EQ(is_json_plain(s), esc(s) == "\"" + s + "\"") << "byte " << b << " at " << at;
        }
    }
}

TEST(JsonEscape, SequenceLength) {
    EXPECT_EQ(utf8_sequence_length(""), 0U);
    EXPECT_EQ(utf8_sequence_length("A"), 1U);
    EXPECT_EQ(utf8_sequence_length("\xC3\xA9"), 2U);
    EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x8E\xAC"), 4U);
    EXPECT_EQ(utf8_sequence_length("\xF0\x8F\xBF\xBF"), 0U);  // overlong 4-byte
}

TEST(JsonEscape, AppendsWithoutTouchingWhatIsThere) {
    std::string out = "{\"k\":";
    append_json_string(out, "v");
    EXPECT_EQ(out, "{\"k\":\"v\"");
}

}  // namespace
}  // namespace moneta::core
