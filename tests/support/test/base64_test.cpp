// The test-side codecs against the RFC 4648 §10 vectors.
#include "moneta/testing/base64.hpp"

#include <gtest/gtest.h>

namespace moneta::testing {
namespace {

TEST(TestBase64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(base64_decode(encoded), std::string(plain));
    }
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_FALSE(base64_decode(""));
    EXPECT_FALSE(base64_decode("Zg="));   // not a multiple of 4
    EXPECT_FALSE(base64_decode("Z!=="));  // not the alphabet
}

TEST(TestBase64, CloudFrontVariant) {
    EXPECT_EQ(cloudfront_base64_decode("Zg__"), std::string("f"));     // '=' → '_'
    EXPECT_EQ(cloudfront_base64_decode("-~8_"), std::string("\xfb\xff", 2));
    EXPECT_FALSE(cloudfront_base64_decode("Zg=="));  // an unsafe character left in
    EXPECT_FALSE(cloudfront_base64_decode("+/8_"));
}

}  // namespace
}  // namespace moneta::testing
