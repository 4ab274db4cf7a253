#include "moneta/aws_sigv4/sigv4.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace moneta::aws_sigv4 {
namespace {

// The credentials of AWS's SigV4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
constexpr std::string_view kSuiteKey = "AKIDEXAMPLE";
constexpr std::string_view kSuiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::int64_t kSuiteTime = *parse_amz_date("20150830T123600Z");

std::string hex(const std::array<unsigned char, 32>& a) {
    std::string out;
    char buf[3];
    for (const unsigned char c : a) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out;
}

Credentials suite() { return Credentials{std::string(kSuiteKey), std::string(kSuiteSecret), ""}; }

TEST(SigV4Test, DatesRoundTrip) {
    EXPECT_EQ(amz_date(kSuiteTime), "20150830T123600Z");
    EXPECT_EQ(kSuiteTime, 1440938160);
    EXPECT_EQ(amz_date(0), "19700101T000000Z");
    EXPECT_FALSE(parse_amz_date("20150830T123600"));
    EXPECT_FALSE(parse_amz_date("20151330T123600Z"));
    EXPECT_FALSE(parse_amz_date("2015-08-30T12:36:00Z"));
}

// AWS General Reference, "Examples of how to derive a signing key" (service iam).
TEST(SigV4Test, SigningKeyMatchesThePublishedDerivation) {
    EXPECT_EQ(hex(signing_key(kSuiteSecret, "20150830", "us-east-1", "iam")),
              "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

// Test suite get-vanilla: .creq, .sts and .authz byte for byte.
TEST(SigV4Test, GetVanillaMatchesThePublishedVector) {
    Request r;
    r.method = "GET";
    r.path = "/";
    r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    const Signed s = sign(r, suite(), "us-east-1", "service", kSuiteTime);
    EXPECT_EQ(s.canonical_request,
              "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(s.string_to_sign,
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    EXPECT_EQ(s.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    ASSERT_NE(r.header("authorization"), nullptr);
    EXPECT_EQ(r.header("authorization")->value, s.authorization);
}

// Test suite get-vanilla-query-order-key-case: the query is sorted into canonical order.
TEST(SigV4Test, QueryOrderMatchesThePublishedVector) {
    Request r;
    r.query = "Param2=value2&Param1=value1";
    r.headers = {{"Host", "example.amazonaws.com"}};
    const Signed s = sign(r, suite(), "us-east-1", "service", kSuiteTime);
    EXPECT_NE(s.canonical_request.find("\nParam1=value1&Param2=value2\n"), std::string::npos);
    EXPECT_EQ(s.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

// S3 developer guide, "Signature calculations for the Authorization header", GET Object with a
// Range header (its own example keys).
TEST(SigV4Test, S3GetObjectMatchesThePublishedExample) {
    Request r;
    r.path = "/test.txt";
    r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"Range", "bytes=0-9"},
                 {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
    const Signed s = sign(r, Credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                          "us-east-1", "s3", *parse_amz_date("20130524T000000Z"));
    EXPECT_EQ(s.string_to_sign,
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_NE(s.authorization.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                                   "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
              std::string::npos);
}

// AWS General Reference's worked example: IAM ListUsers over GET.
TEST(SigV4Test, IamListUsersMatchesTheGeneralReferenceExample) {
    Request r;
    r.query = "Action=ListUsers&Version=2010-05-08";
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}, {"Host", "iam.amazonaws.com"}};
    const Signed s = sign(r, suite(), "us-east-1", "iam", kSuiteTime);
    EXPECT_EQ(s.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date, "
              "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4Test, HeadersAreTrimmedCollapsedAndMerged) {
    Request r;
    r.headers = {{"My-Header1", "  a   b  c  "}, {"Host", "example.amazonaws.com"}, {"my-header1", "second"}};
    const auto c = canonical_request(r, "host;my-header1");
    ASSERT_TRUE(c);
    EXPECT_NE(c->find("\nmy-header1:a b c,second\n"), std::string::npos);
    EXPECT_FALSE(canonical_request(r, "host;x-missing"));
    r.query = "a=%zz";
    EXPECT_FALSE(canonical_request(r, "host"));
}

TEST(SigV4Test, UriEncodingKeepsOnlyUnreserved) {
    EXPECT_EQ(uri_encode("/a b/c+d.txt", true), "/a%20b/c%2Bd.txt");
    EXPECT_EQ(uri_encode("a/b=c&~", false), "a%2Fb%3Dc%26~");
    EXPECT_EQ(uri_encode("\xc3\xa9", false), "%C3%A9");
}

// --- the verifier (the fake AWS's side) ---

class VerifyTest : public ::testing::Test {
protected:
    VerifyTest() {
        request_.method = "POST";
        request_.headers = {{"Host", "sts.amazonaws.com"},
                            {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
        request_.body = "Action=GetCallerIdentity&Version=2011-06-15";
        sign(request_, Credentials{"AKIDALICE", "alice-secret", "session-token-1"}, "us-east-1", "sts", kNow);
    }
    boost::system::result<Verified, VerifyError> check(const Request& r, std::int64_t now = kNow) const {
        return verify(r, lookup_, now, VerifyOptions{"us-east-1", "sts"});
    }
    Header& header(std::string_view name) {
        for (auto& h : request_.headers) {
            if (h.name.size() == name.size() && std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
                    return std::tolower(a) == std::tolower(b);
                })) {
                return h;
            }
        }
        throw std::runtime_error("no header");
    }
    static constexpr std::int64_t kNow = 1'764'000'000;
    SecretLookup lookup_ = [](std::string_view key) -> std::optional<std::string> {
        if (key == "AKIDALICE") {
            return "alice-secret";
        }
        return std::nullopt;
    };
    Request request_;
};

TEST_F(VerifyTest, AcceptsItsOwnSignature) {
    const auto v = check(request_);
    ASSERT_TRUE(v) << verify_error_name(v.error());
    EXPECT_EQ(v->access_key_id, "AKIDALICE");
    EXPECT_EQ(v->session_token, "session-token-1");
    EXPECT_EQ(v->service, "sts");
}

TEST_F(VerifyTest, AnyChangedPartFailsTheSignature) {
    const Request good = request_;
    auto expect_mismatch = [&](const Request& r, const char* what) {
        const auto v = check(r);
        ASSERT_FALSE(v) << what;
        EXPECT_EQ(v.error(), VerifyError::kSignatureMismatch) << what;
    };
    request_.body = "Action=GetCallerIdentity&Version=2011-06-16";
    expect_mismatch(request_, "body");
    request_ = good;
    header("host").value = "sts.evil.example";
    expect_mismatch(request_, "host");
    request_ = good;
    header("content-type").value = "text/plain";
    expect_mismatch(request_, "content-type");
    request_ = good;
    header("x-amz-security-token").value = "session-token-2";
    expect_mismatch(request_, "session token");
    request_ = good;
    header("x-amz-date").value = amz_date(kNow + 1);
    expect_mismatch(request_, "date");
    request_ = good;
    request_.method = "PUT";
    expect_mismatch(request_, "method");
    request_ = good;
    request_.path = "/x";
    expect_mismatch(request_, "path");
    request_ = good;
    request_.query = "Action=AssumeRole";
    expect_mismatch(request_, "query");
    request_ = good;
    std::string& a = header("authorization").value;
    a.back() = a.back() == '0' ? '1' : '0';
    expect_mismatch(request_, "signature");
}

TEST_F(VerifyTest, AWrongSecretIsAMismatch) {
    sign(request_, Credentials{"AKIDALICE", "not-alice-secret", "session-token-1"}, "us-east-1", "sts", kNow);
    EXPECT_EQ(check(request_).error(), VerifyError::kSignatureMismatch);
}

TEST_F(VerifyTest, RefusesUnknownKeysStaleDatesAndOtherScopes) {
    const Request good = request_;
    sign(request_, Credentials{"AKIDNOBODY", "x", ""}, "us-east-1", "sts", kNow);
    EXPECT_EQ(check(request_).error(), VerifyError::kUnknownKey);
    EXPECT_EQ(check(good, kNow + 15 * 60 + 1).error(), VerifyError::kExpired);
    EXPECT_EQ(check(good, kNow - 15 * 60 - 1).error(), VerifyError::kExpired);
    EXPECT_TRUE(check(good, kNow + 15 * 60));
    request_ = good;
    sign(request_, Credentials{"AKIDALICE", "alice-secret", ""}, "eu-west-1", "sts", kNow);
    EXPECT_EQ(check(request_).error(), VerifyError::kScope);
    sign(request_, Credentials{"AKIDALICE", "alice-secret", ""}, "us-east-1", "iam", kNow);
    EXPECT_EQ(check(request_).error(), VerifyError::kScope);
}

TEST_F(VerifyTest, RefusesMalformedAndMissingAuthorization) {
    const Request good = request_;
    std::erase_if(request_.headers, [](const Header& h) { return h.name == "Authorization"; });
    EXPECT_EQ(check(request_).error(), VerifyError::kMissing);
    const std::string zeros(64, '0');
    for (const std::string& bad : std::vector<std::string>{"AWS4-HMAC-SHA1 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
                                  "AWS4-HMAC-SHA256 Credential=AKIDALICE/20251124/us-east-1/sts/aws4_request",
                                  "AWS4-HMAC-SHA256 Credential=AKIDALICE, SignedHeaders=host;x-amz-date, Signature=" +
                                      zeros,
                                  "AWS4-HMAC-SHA256 Credential=x/y/z/w/v, Credential=x/y/z/w/v, SignedHeaders=host, "
                                  "Signature=" + zeros,
                                  "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=x-amz-date;host, Signature=" +
                                      zeros}) {
        request_ = good;
        header("authorization").value = bad;
        EXPECT_EQ(check(request_).error(), VerifyError::kMalformed) << bad;
    }
}

TEST_F(VerifyTest, RefusesARequestWhoseTokenOrHostIsNotSigned) {
    Request r;
    r.method = "POST";
    r.headers = {{"Host", "sts.amazonaws.com"}};
    sign(r, Credentials{"AKIDALICE", "alice-secret", ""}, "us-east-1", "sts", kNow);
    r.headers.push_back({"X-Amz-Security-Token", "added-later"});
    EXPECT_EQ(check(r).error(), VerifyError::kUnsignedHeader);
    Request no_host;
    no_host.method = "POST";
    sign(no_host, Credentials{"AKIDALICE", "alice-secret", ""}, "us-east-1", "sts", kNow);
    no_host.headers.push_back({"Host", "sts.amazonaws.com"});
    EXPECT_EQ(check(no_host).error(), VerifyError::kUnsignedHeader);
}

}  // namespace
}  // namespace moneta::aws_sigv4
