// AWS IAM identity (docs/sshca.md "AWS IAM identity") against the fake STS/IAM of fake_aws.hpp,
// which verifies every SigV4 signature: the readers of AWS's XML and ARNs, the checks on the
// forwarded request, and the whole path through an in-process CA (certificates carry the
// groups IAM lists; a wrong secret, a forged forward, an assumed role, an unlisted account and
// an unreachable STS are each refused with their own status); the CLI's login end to end.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>

#include "aws_identity.hpp"
#include "settings.hpp"
#include "fake_aws.hpp"
#include "moneta/core/base64.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "openssh_tool.hpp"
#include "sshca_fixture.hpp"

namespace moneta::sshca::testing {
namespace {

namespace json = boost::json;

constexpr std::string_view kCaKey = "AKIACAEXAMPLE0000001";
constexpr std::string_view kCaSecret = "ca-secret-0123456789abcdefghijklmnopqrstu";

FakeAwsKey alice_key() {
    return FakeAwsKey{"AKIAALICE00000000001", "alice-secret-0123456789abcdefghijklmnopq", "",
                      "arn:aws:iam::123456789012:user/eng/alice", "AIDAALICE0000000001", "123456789012", false};
}

// ---- the pure readers ----

TEST(AwsReadersTest, ReadsGetCallerIdentityStrictly) {
    const auto ok = parse_caller_identity(R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/Alice</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>)");
    ASSERT_TRUE(ok) << ok.error();
    EXPECT_EQ(ok->arn, "arn:aws:iam::123456789012:user/Alice");
    EXPECT_EQ(ok->account, "123456789012");
    // Another namespace, a repeated Arn, a short account, a comment: refused.
    EXPECT_FALSE(parse_caller_identity(R"(<GetCallerIdentityResponse xmlns="x"><GetCallerIdentityResult><Arn>a</Arn><UserId>u</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata/></GetCallerIdentityResponse>)"));
    EXPECT_FALSE(parse_caller_identity(R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>a</Arn><Arn>b</Arn><UserId>u</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata/></GetCallerIdentityResponse>)"));
    EXPECT_FALSE(parse_caller_identity(R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>a</Arn><UserId>u</UserId><Account>1234</Account></GetCallerIdentityResult><ResponseMetadata/></GetCallerIdentityResponse>)"));
    EXPECT_FALSE(parse_caller_identity(R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><!-- x --><GetCallerIdentityResult><Arn>a</Arn><UserId>u</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata/></GetCallerIdentityResponse>)"));
}

TEST(AwsReadersTest, ReadsErrorsGroupsAndArns) {
    const auto e = parse_aws_error(R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>a &amp; b</Message></Error>
  <RequestId>x</RequestId></ErrorResponse>)");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, "SignatureDoesNotMatch");
    EXPECT_EQ(e->message, "a & b");
    const auto page = parse_groups_page(R"(<ListGroupsForUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListGroupsForUserResult><Groups><member><Path>/</Path><GroupName>video-eng</GroupName></member></Groups>
  <IsTruncated>true</IsTruncated><Marker>m1</Marker></ListGroupsForUserResult>
  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListGroupsForUserResponse>)");
    ASSERT_TRUE(page) << page.error();
    EXPECT_EQ(page->groups, std::vector<std::string>{"video-eng"});
    EXPECT_EQ(page->marker, "m1");
    EXPECT_EQ(iam_user_name("arn:aws:iam::123456789012:user/alice", "123456789012"), "alice");
    EXPECT_EQ(iam_user_name("arn:aws-cn:iam::123456789012:user/div/team/bob", "123456789012"), "bob");
    EXPECT_FALSE(iam_user_name("arn:aws:iam::123456789012:user/alice", "210987654321"));
    EXPECT_FALSE(iam_user_name("arn:aws:sts::123456789012:assumed-role/Admin/alice", "123456789012"));
    EXPECT_FALSE(iam_user_name("arn:aws:iam::123456789012:root", "123456789012"));
    EXPECT_FALSE(iam_user_name("arn:aws:iam::123456789012:user/", "123456789012"));
}

std::string encode(const json::object& o) { return core::base64_encode(json::serialize(o)); }

TEST(AwsReadersTest, AForwardedRequestMustBeExactlyGetCallerIdentity) {
    const auto sts = AwsEndpoint::parse("https://sts.amazonaws.com");
    ASSERT_TRUE(sts);
    const std::string good = make_sts_credential({"AKID", "secret", "token"}, "us-east-1", *sts, 1'764'000'000);
    const auto ok = parse_forwarded(good, *sts);
    ASSERT_TRUE(ok) << ok.error();
    EXPECT_EQ(ok->headers.size(), 4U);  // Content-Type, X-Amz-Date, X-Amz-Security-Token, Authorization
    const auto decoded = json::parse(*core::base64_decode(good)).as_object();
    auto with = [&](std::string_view key, json::value v) {
        json::object o = decoded;
        o[key] = std::move(v);
        return encode(o);
    };
    auto with_header = [&](std::string_view name, std::string_view value) {
        json::object o = decoded;
        o["headers"].as_object()[name] = value;
        return encode(o);
    };
    EXPECT_FALSE(parse_forwarded(with("url", "https://evil.example/"), *sts));
    EXPECT_FALSE(parse_forwarded(with("url", "https://sts.amazonaws.com/?Action=AssumeRole"), *sts));
    EXPECT_FALSE(parse_forwarded(with("url", "http://sts.amazonaws.com/"), *sts));
    EXPECT_FALSE(parse_forwarded(with("method", "GET"), *sts));
    EXPECT_FALSE(parse_forwarded(with("body", "Action=AssumeRole&Version=2011-06-15"), *sts));
    EXPECT_FALSE(parse_forwarded(with("body", json::string(std::string(kGetCallerIdentityBody) + "&X=1")), *sts));
    EXPECT_FALSE(parse_forwarded(with_header("Host", "evil.example"), *sts));
    EXPECT_FALSE(parse_forwarded(with_header("X-Forwarded-For", "1.2.3.4"), *sts));
    EXPECT_FALSE(parse_forwarded(with_header("Content-Type", "application/json"), *sts));
    EXPECT_FALSE(parse_forwarded(with_header("Authorization", "Bearer x"), *sts));
    EXPECT_FALSE(parse_forwarded(with_header("X-Amz-Date", "20251124T000000Z\r\nX-Evil: 1"), *sts));
    json::object extra = decoded;
    extra["more"] = 1;
    EXPECT_FALSE(parse_forwarded(encode(extra), *sts));
    EXPECT_FALSE(parse_forwarded("not base64!", *sts));
}

TEST(AwsReadersTest, EndpointsAreHttpsOrLoopbackHttp) {
    EXPECT_EQ(AwsEndpoint::parse("https://sts.amazonaws.com")->url, "https://sts.amazonaws.com/");
    EXPECT_EQ(AwsEndpoint::parse("https://sts.amazonaws.com:443/")->host_header(), "sts.amazonaws.com");
    EXPECT_EQ(AwsEndpoint::parse("http://127.0.0.1:9000")->host_header(), "127.0.0.1:9000");
    EXPECT_FALSE(AwsEndpoint::parse("http://sts.amazonaws.com"));
    EXPECT_FALSE(AwsEndpoint::parse("https://sts.amazonaws.com/path"));
    EXPECT_FALSE(AwsEndpoint::parse("https://user@sts.amazonaws.com"));
    EXPECT_FALSE(AwsEndpoint::parse("ftp://x"));
}

TEST(AwsSettingsTest, TheShippedConfigLoadsWithAwsOffAndEndpointsAreChecked) {
    ::setenv("SSHCA_CA_PASSPHRASE", "a long enough passphrase", 1);
    ::setenv("SSHCA_JWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
    const auto shipped = load_settings(moneta::testing::source_dir() / "services/sshca/config/sshca.json");
    ASSERT_TRUE(shipped) << shipped.error();
    EXPECT_FALSE(shipped->aws.enabled);
    EXPECT_EQ(shipped->aws.sts_endpoint, "https://sts.amazonaws.com");
    EXPECT_EQ(shipped->aws.timeout, std::chrono::milliseconds(2000));
    moneta::testing::TempDir dir("sshca-aws-settings-");
    auto write = [&](std::string_view aws) {
        std::ofstream(dir.file("c.json"), std::ios::trunc)
            << R"({"ca":{"dir":"k","passphrase":{"env":"SSHCA_CA_PASSPHRASE"}},"auth":{"jwt_secret":{"env":"SSHCA_JWT_SECRET"},"aws":)"
            << aws << "}}";
        return load_settings(dir.file("c.json"));
    };
    ::setenv("SSHCA_TEST_AWS_ID", "AKIACA", 1);
    ::setenv("SSHCA_TEST_AWS_SECRET", "secret", 1);
    const std::string keys = R"("access_key_id":{"env":"SSHCA_TEST_AWS_ID"},"secret_access_key":{"env":"SSHCA_TEST_AWS_SECRET"})";
    EXPECT_TRUE(write(R"({"enabled":true,"sts_endpoint":"http://127.0.0.1:9","allowed_accounts":["123456789012"],)" + keys + "}"));
    EXPECT_FALSE(write(R"({"enabled":true,"sts_endpoint":"http://sts.example.com",)" + keys + "}"));
    EXPECT_FALSE(write(R"({"enabled":true,"allowed_accounts":["12345"],)" + keys + "}"));
    EXPECT_FALSE(write(R"({"enabled":true})"));  // the CA's own keys are required
    EXPECT_FALSE(write(R"({"enabled":false,"secret_access_key":"inline"})"));
    EXPECT_FALSE(write(R"({"unknown":1})"));
}

// ---- through the CA ----

AwsSettings aws_settings(const FakeAws& fake) {
    AwsSettings a;
    a.enabled = true;
    a.sts_endpoint = fake.url();
    a.iam_endpoint = fake.url();
    a.credentials = {std::string(kCaKey), std::string(kCaSecret), ""};
    return a;
}

ServerOptions with_aws(AwsSettings a) {
    ServerOptions o;
    o.aws = std::move(a);
    return o;
}

class SshcaAwsTest : public ::testing::Test {
protected:
    explicit SshcaAwsTest(std::optional<AwsSettings> settings = std::nullopt)
        : fake_(clock_), server_(clock_, dir_.path(), with_aws(settings ? *settings : aws_settings(fake_))) {
        fake_.add_key(alice_key());
        fake_.add_key(FakeAwsKey{std::string(kCaKey), std::string(kCaSecret), "", "arn:aws:iam::123456789012:user/sshca",
                                 "AIDACA", "123456789012", true});
        fake_.add_key(FakeAwsKey{"ASIAROLE000000000001", "role-secret", "role-session-token",
                                 "arn:aws:sts::123456789012:assumed-role/Admin/alice", "AROA:alice", "123456789012",
                                 false});
        fake_.set_groups("alice", {"video-eng", "oncall", "not-in-policy"});
        fake_.set_page_size(2);  // two ListGroupsForUser pages
    }
    void SetUp() override { ASSERT_TRUE(server_.started()); }

    std::string credential(const aws_sigv4::Credentials& c, std::string_view sts_url = {}) const {
        return "AWS4-STS " + make_sts_credential(c, "us-east-1", *AwsEndpoint::parse(sts_url.empty() ? fake_.url() : sts_url),
                                                 clock_.wall_ms() / 1000);
    }
    aws_sigv4::Credentials alice() const { return {alice_key().access_key_id, alice_key().secret_access_key, ""}; }

    moneta::testing::HttpReply call(std::string_view method, std::string_view target, const std::string& authorization,
                                    std::string_view body = {}) const {
        return server_.call(method, target, {}, body, {{"Authorization", authorization}});
    }
    std::string key() {
        std::string line = ssh_.generate_key("k" + std::to_string(++keys_), "ed25519", 0, "test@aws");
        while (!line.empty() && line.back() == '\n') {
            line.pop_back();
        }
        return line;
    }
    std::string message(std::string_view body) const {
        const auto v = parse_json(body);
        return v.is_object() ? std::string(v.at("error").at("message").as_string()) : std::string();
    }

    core::FakeClock clock_;
    moneta::testing::TempDir dir_{"sshca-aws-test-"};
    FakeAws fake_;
    CaServer server_;
    sshcert::testing::OpensshTool ssh_;
    int keys_ = 0;
};

TEST_F(SshcaAwsTest, AnEngineerSignedWithGoodKeysGetsACertificateWithTheirIamGroups) {
    const auto me = call("GET", "/v1/me", credential(alice()));
    ASSERT_EQ(me.status, 200) << me.body;
    const auto m = parse_json(me.body).as_object();
    EXPECT_EQ(m.at("user").as_string(), "alice");
    EXPECT_EQ(json::serialize(m.at("groups")), R"(["oncall","video-eng"])");

    const auto r = call("POST", "/v1/certs/user", credential(alice()), R"({"public_key":)" + json_string(key()) + "}");
    ASSERT_EQ(r.status, 201) << r.body;
    const auto c = parse_json(r.body).as_object();
    EXPECT_NE(std::string(c.at("key_id").as_string()).find("user=alice "), std::string::npos);
    EXPECT_EQ(json::serialize(c.at("principals")), R"(["root-everywhere","zone-video-dev","zone-video-prod"])");
    // Each login: one GetCallerIdentity and two ListGroupsForUser pages, all signatures good.
    std::size_t sts = 0;
    std::size_t iam = 0;
    for (const auto& call : fake_.calls()) {
        EXPECT_EQ(call.status, 200) << call.action << " " << call.code;
        sts += call.action == "GetCallerIdentity";
        iam += call.action == "ListGroupsForUser";
    }
    EXPECT_EQ(sts, 2U);
    EXPECT_EQ(iam, 4U);
    // The audit log says how the caller proved who they are.
    const auto audit = server_.call("GET", "/v1/audit", server_.token("sec", {"sec-admin"}));
    EXPECT_NE(audit.body.find("\"issued\""), std::string::npos);
}

TEST_F(SshcaAwsTest, AWrongSecretIsA401NamingSignatureDoesNotMatch) {
    const auto r = call("GET", "/v1/me", credential({alice_key().access_key_id, "not-alices-secret", ""}));
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(error_code(r.body), "UNAUTHENTICATED");
    EXPECT_NE(message(r.body).find("SignatureDoesNotMatch"), std::string::npos) << r.body;
    ASSERT_EQ(fake_.calls().size(), 1U);  // STS was asked; IAM never
    EXPECT_EQ(fake_.calls()[0].code, "SignatureDoesNotMatch");
    const auto unknown = call("GET", "/v1/me", credential({"AKIANOBODY0000000000", "x", ""}));
    EXPECT_EQ(unknown.status, 401);
    EXPECT_NE(message(unknown.body).find("InvalidClientTokenId"), std::string::npos) << unknown.body;
    // A signature older than AWS's 15 minutes.
    const std::string stale = credential(alice());
    clock_.advance(std::chrono::minutes(16));
    const auto late = call("GET", "/v1/me", stale);
    EXPECT_EQ(late.status, 401);
    EXPECT_NE(message(late.body).find("Signature expired"), std::string::npos) << late.body;
}

TEST_F(SshcaAwsTest, AForgedForwardTargetIsRefusedWithoutCallingIt) {
    FakeAws other(clock_);
    other.add_key(alice_key());
    // Signed for another host: the CA never sends it there (nor to STS).
    const auto r = call("GET", "/v1/me", credential(alice(), other.url()));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(error_code(r.body), "INVALID_REQUEST");
    EXPECT_NE(message(r.body).find("must be a POST to " + fake_.url() + "/"), std::string::npos) << r.body;
    // Another action, extra parameters: same.
    const auto decoded = json::parse(*core::base64_decode(credential(alice()).substr(9))).as_object();
    for (const std::string body : {"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/x",
                                   "Action=GetCallerIdentity&Version=2011-06-15&Extra=1"}) {
        json::object o = decoded;
        o["body"] = json::string(body);
        const auto forged = call("GET", "/v1/me", "AWS4-STS " + encode(o));
        EXPECT_EQ(forged.status, 400) << forged.body;
    }
    EXPECT_TRUE(other.calls().empty());
    EXPECT_TRUE(fake_.calls().empty());
}

TEST_F(SshcaAwsTest, AnAssumedRoleIsRefused) {
    const auto r = call("GET", "/v1/me", credential({"ASIAROLE000000000001", "role-secret", "role-session-token"}));
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_NE(message(r.body).find("assumed-role"), std::string::npos) << r.body;
    // The token was checked by the fake: without it the same keys are an invalid token.
    const auto no_token = call("GET", "/v1/me", credential({"ASIAROLE000000000001", "role-secret", ""}));
    EXPECT_EQ(no_token.status, 401) << no_token.body;
}

TEST_F(SshcaAwsTest, AnUnreachableOrFailingStsIs503AndNotCountedAgainstTheCaller) {
    fake_.fail_all(503);
    for (int i = 0; i < 12; ++i) {  // more than max_failures_per_window: still 503, never 429
        const auto r = call("GET", "/v1/me", credential(alice()));
        ASSERT_EQ(r.status, 503) << r.body;
        EXPECT_EQ(error_code(r.body), "UNAVAILABLE");
    }
    fake_.fail_all(std::nullopt);
    EXPECT_EQ(call("GET", "/v1/me", credential(alice())).status, 200);
}

TEST_F(SshcaAwsTest, FailuresCountTowardTheAddressLimit) {
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(call("GET", "/v1/me", credential({alice_key().access_key_id, "wrong", ""})).status, 401);
    }
    EXPECT_EQ(call("GET", "/v1/me", credential(alice())).status, 429);
}

class SshcaAwsDownTest : public SshcaAwsTest {
protected:
    static AwsSettings down() {
        AwsSettings a;
        a.enabled = true;
        static const std::uint16_t kPort = moneta::testing::free_port();  // nothing listens there
        a.sts_endpoint = "http://127.0.0.1:" + std::to_string(kPort);
        a.iam_endpoint = a.sts_endpoint;
        a.credentials = {std::string(kCaKey), std::string(kCaSecret), ""};
        return a;
    }
    SshcaAwsDownTest() : SshcaAwsTest(down()) {}
};

TEST_F(SshcaAwsDownTest, StsDownIs503Unavailable) {
    const auto sts = AwsEndpoint::parse(down().sts_endpoint);
    const auto r = server_.call("GET", "/v1/me", {}, {},
                                {{"Authorization", "AWS4-STS " + make_sts_credential(alice(), "us-east-1", *sts,
                                                                                    clock_.wall_ms() / 1000)}});
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(error_code(r.body), "UNAVAILABLE");
    EXPECT_NE(message(r.body).find("STS did not answer"), std::string::npos) << r.body;
}

// The CLI end to end: `sshca login` with SSHCA_AUTH=aws signs GetCallerIdentity with the
// engineer's keys; the CA forwards it to the fake STS and lists the groups in the fake IAM. Real
// time here: the CLI signs with the system clock and the fake checks AWS's 15-minute skew.
TEST(SshcaAwsCliTest, LoginWithAwsKeysGetsACertificate) {
    const core::Clock& clock = core::SystemClock::instance();
    moneta::testing::TempDir dir("sshca-aws-cli-test-");
    FakeAws fake(clock);
    fake.add_key(alice_key());
    fake.add_key(FakeAwsKey{std::string(kCaKey), std::string(kCaSecret), "", "arn:aws:iam::123456789012:user/sshca",
                            "AIDACA", "123456789012", true});
    fake.set_groups("alice", {"video-eng"});
    CaServer server(clock, dir.path(), with_aws(aws_settings(fake)));
    ASSERT_TRUE(server.started());
    const auto home = dir.path() / "home";
    auto run = [&](std::string secret) {
        auto p = moneta::testing::Process::spawn(
            {(moneta::testing::binary_dir() / "services/sshca/sshca").string(), "login", "--no-agent"},
            {{"SSHCA_URL", "http://127.0.0.1:" + std::to_string(server.port())},
             {"SSHCA_HOME", home.string()},
             {"SSHCA_AUTH", "aws"},
             {"SSHCA_TOKEN", ""},
             {"AWS_ACCESS_KEY_ID", alice_key().access_key_id},
             {"AWS_SECRET_ACCESS_KEY", std::move(secret)},
             {"SSHCA_STS_ENDPOINT", fake.url()}},
            dir.path() / "cli.log");
        EXPECT_TRUE(p);
        return p ? p->wait_exit(std::chrono::seconds(60)).value_or(-1) : -1;
    };
    EXPECT_EQ(run(alice_key().secret_access_key), 0) << moneta::testing::read_file(dir.path() / "cli.log");
    EXPECT_TRUE(std::filesystem::exists(home / "id_ed25519-cert.pub"));
    EXPECT_EQ(run("not-alices-secret"), 1);
    const std::string log = moneta::testing::read_file(dir.path() / "cli.log");
    EXPECT_NE(log.find("SignatureDoesNotMatch"), std::string::npos) << log;
}

}  // namespace
}  // namespace moneta::sshca::testing
