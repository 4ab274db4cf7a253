#include "moneta/core/base64.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace moneta::core
