#include "moneta/core/base64.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace moneta::core {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64Test, StandardAlphabetWithPaddingMatchesRfc4648) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode(std::string("\xfb\xff\xfe", 3)), "+//+");  // the two alphabet-specific characters
}

TEST(Base64Test, StandardDecodingIsTheStrictInverse) {
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }
    for (std::size_t n = 0; n <= all.size(); n += 13) {
        const std::string bytes = all.substr(0, n);
        EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << n;
    }
    EXPECT_EQ(base64_decode("Zm8="), std::optional<std::string>("fo"));
    EXPECT_EQ(base64_decode("Zm8"), std::nullopt);     // padding missing
    EXPECT_EQ(base64_decode("Zg==="), std::nullopt);   // too much padding
    EXPECT_EQ(base64_decode("Zg=A"), std::nullopt);    // padding inside
    EXPECT_EQ(base64_decode("Zh=="), std::nullopt);    // non-canonical final character
    EXPECT_EQ(base64_decode("-__-"), std::nullopt);    // url alphabet
    EXPECT_EQ(base64_decode("Zm9v Yg=="), std::nullopt);  // whitespace
}

TEST(Base64Test, UrlAlphabetWithoutPaddingRoundTrips) {
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xfe", 3)), "-__-");
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }
    for (std::size_t n = 0; n <= all.size(); n += 37) {
        const std::string bytes = all.substr(0, n);
        EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << n;
    }
    std::string out = "ps_";
    append_base64url(out, "foo");
    EXPECT_EQ(out, "ps_Zm9v");
}

TEST(Base64Test, UrlDecodingIsStrict) {
    EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);  // padding
    EXPECT_EQ(base64url_decode("Zm9v+A"), std::nullopt);  // standard alphabet
    EXPECT_EQ(base64url_decode("Z"), std::nullopt);        // impossible length
    EXPECT_EQ(base64url_decode("Zh"), std::nullopt);       // non-canonical final character
    EXPECT_EQ(base64url_decode("Zg"), std::optional<std::string>("f"));
}

TEST(Base64Test, DecodeToAFixedBufferFollowsTheSameRules) {
    char buf[16];
    const std::string bytes = "\x01\xffhello";
    const std::string text = base64url_encode(bytes);
    const auto n = base64url_decode_to(text, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(std::string(buf, *n), bytes);
    EXPECT_EQ(std::string(buf, *n), *base64url_decode(text));
    char small[4];
    EXPECT_FALSE(base64url_decode_to(text, small));   // does not fit: refused, not truncated
    EXPECT_FALSE(base64url_decode_to("AB=", buf));    // padding
    EXPECT_FALSE(base64url_decode_to("A", buf));      // impossible length
    EXPECT_FALSE(base64url_decode_to("AB", buf));     // non-canonical last character
    EXPECT_EQ(base64url_decode_to("AA", buf), std::optional<std::size_t>(1));
}

}  // namespace
}  // namespace moneta::core
