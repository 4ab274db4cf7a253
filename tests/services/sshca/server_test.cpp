// sshca-server's HTTP API (docs/sshca.md §6.1) against an in-process App on port 0: every
// endpoint and every row of the error table, with the certificates and the KRL read back by the
// real ssh-keygen (-L, -Q). Time is a FakeClock: the tokens, validity and the failure window
// follow it, so nothing waits.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "openssh_tool.hpp"
#include "sshca_fixture.hpp"

namespace moneta::sshca::testing {
namespace {

namespace json = boost::json;
using sshcert::testing::OpensshTool;

const std::vector<std::string> kVideo{"video-eng"};
const std::vector<std::string> kAdmin{"sec-admin"};

class SshcaServerTest : public ::testing::Test {
protected:
    explicit SshcaServerTest(ServerOptions options = {}) : server_(clock_, dir_.path(), std::move(options)) {}

    void SetUp() override { ASSERT_TRUE(server_.started()); }

    /// A fresh subject key (ssh-keygen -t @p type) and its public line.
    std::string key(std::string_view name, std::string_view type = "ed25519", int bits = 0) {
        std::string line = ssh_.generate_key(name, type, bits, "test@" + std::string(name));
        while (!line.empty() && line.back() == '\n') {
            line.pop_back();
        }
        return line;
    }

    std::string user_body(const std::string& public_key, const std::string& extra = "") const {
        return R"({"public_key":)" + json_string(public_key) + (extra.empty() ? "" : "," + extra) + "}";
    }

    /// POST /v1/certs/user; the reply as JSON (asserting 201).
    json::object issue(std::string_view token, const std::string& public_key, const std::string& extra = "") {
        const auto r = server_.call("POST", "/v1/certs/user", token, user_body(public_key, extra));
        EXPECT_EQ(r.status, 201) << r.body;
        const auto v = parse_json(r.body);
        return v.is_object() ? v.get_object() : json::object{};
    }

    /// `ssh-keygen -L` of @p certificate (written to @p name).
    std::string describe(std::string_view name, std::string_view certificate) {
        ssh_.write(name, std::string(certificate) + "\n", 0644);
        const auto run = ssh_.keygen({"-L", "-f", std::string(name)});
        EXPECT_EQ(run.status, 0) << run.output;
        return run.output;
    }

    /// `ssh-keygen -Q -f krl cert`: true when the KRL (GET /v1/krl) revokes it.
    bool krl_revokes(std::string_view cert_file) {
        const auto krl = server_.call("GET", "/v1/krl");
        EXPECT_EQ(krl.status, 200);
        ssh_.write("revoked.krl", krl.body, 0644);
        const auto run = ssh_.keygen({"-Q", "-f", "revoked.krl", std::string(cert_file)});
        EXPECT_TRUE(run.status == 0 || run.status == 1) << run.output;
        const bool revoked = run.output.find("REVOKED") != std::string::npos;
        EXPECT_EQ(revoked, run.status != 0) << run.output;
        if (!revoked) {
            EXPECT_NE(run.output.find(": ok"), std::string::npos) << run.output;
        }
        return revoked;
    }

    json::array items(const moneta::testing::HttpReply& r) {
        const auto v = parse_json(r.body);
        if (!v.is_object() || !v.get_object().contains("items")) {
            ADD_FAILURE() << r.body;
            return {};
        }
        return v.get_object().at("items").get_array();
    }

    std::int64_t now_s() const { return clock_.wall_ms() / 1000; }

    moneta::testing::TempDir dir_{"sshca-server-test-"};
    core::FakeClock clock_;
    CaServer server_;
    OpensshTool ssh_;
};

TEST_F(SshcaServerTest, PublicEndpointsServeTheCaKeysAndHealth) {
    const auto health = server_.call("GET", "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(parse_json(health.body).at("status"), "ok");

    const auto user_ca = server_.call("GET", "/v1/ca/user.pub");
    ASSERT_EQ(user_ca.status, 200);
    EXPECT_EQ(user_ca.body.rfind("ssh-ed25519 ", 0), 0U) << user_ca.body;
    EXPECT_EQ(std::count(user_ca.body.begin(), user_ca.body.end(), '\n'), 1) << "one active user CA key";
    ssh_.write("user_ca.pub", user_ca.body, 0644);
    const auto fp = ssh_.keygen({"-l", "-f", "user_ca.pub"});
    EXPECT_EQ(fp.status, 0) << fp.output;

    const auto host_ca = server_.call("GET", "/v1/ca/host.pub");
    ASSERT_EQ(host_ca.status, 200);
    EXPECT_EQ(host_ca.body.rfind("@cert-authority * ssh-ed25519 ", 0), 0U) << host_ca.body;
    // The host CA is another key than the user CA.
    const std::string user_blob = user_ca.body.substr(12, user_ca.body.find_first_of(" \n", 12) - 12);
    EXPECT_EQ(host_ca.body.find(user_blob), std::string::npos);
}

TEST_F(SshcaServerTest, IssuesAUserCertificateSshKeygenReads) {
    const std::string token = server_.token("alice", kVideo);
    const auto pub = key("alice");
    const auto first = issue(token, pub, R"("principals":["zone-video-prod"])");
    ASSERT_TRUE(first.contains("certificate"));
    EXPECT_EQ(first.at("serial").to_number<std::int64_t>(), 1);
    EXPECT_EQ(first.at("valid_after").to_number<std::int64_t>(), now_s() - 60) << "backdated 60 s";
    EXPECT_EQ(first.at("valid_before").to_number<std::int64_t>(), now_s() + 3600) << "default ttl 1 h";
    EXPECT_EQ(first.at("server_time").to_number<std::int64_t>(), now_s());
    const std::string key_id(first.at("key_id").as_string());
    EXPECT_EQ(key_id.rfind("user=alice groups=video-eng req=", 0), 0U) << key_id;
    EXPECT_NE(key_id.find(" ip=127.0.0.1"), std::string::npos) << key_id;

    const std::string listing = describe("alice-cert.pub", first.at("certificate").as_string());
    EXPECT_NE(listing.find("user certificate"), std::string::npos) << listing;
    EXPECT_NE(listing.find("Serial: 1\n"), std::string::npos) << listing;
    EXPECT_NE(listing.find("Key ID: \"" + key_id + "\""), std::string::npos) << listing;
    EXPECT_NE(listing.find("Principals: \n                zone-video-prod\n"), std::string::npos) << listing;
    EXPECT_NE(listing.find("Critical Options: (none)"), std::string::npos) << listing;
    EXPECT_NE(listing.find("Extensions: \n                permit-pty\n"), std::string::npos) << listing;
    EXPECT_NE(listing.find("Signing CA: ED25519 " + std::string(first.at("ca_fingerprint").as_string())),
              std::string::npos)
        << listing;

    // No principals asked: every one the groups grant; serials grow.
    const auto second = issue(token, pub);
    EXPECT_EQ(second.at("serial").to_number<std::int64_t>(), 2);
    EXPECT_EQ(second.at("principals"), (json::array{"zone-video-dev", "zone-video-prod"}));
    const std::string listing2 = describe("alice-cert2.pub", second.at("certificate").as_string());
    EXPECT_NE(listing2.find("zone-video-dev\n                zone-video-prod\n"), std::string::npos) << listing2;

    // A longer ttl within the group maximum, and an allowed extra extension.
    const auto third = issue(token, pub, R"("ttl_s":28800,"extensions":["permit-pty","permit-port-forwarding"])");
    EXPECT_EQ(third.at("valid_before").to_number<std::int64_t>(), now_s() + 28800);
    EXPECT_NE(describe("alice-cert3.pub", third.at("certificate").as_string()).find("permit-port-forwarding"),
              std::string::npos);
}

TEST_F(SshcaServerTest, BoundGroupsGetTheirCriticalOptions) {
    const auto issued = issue(server_.token("ci", {"deploy-bot"}), key("bot"));
    const std::string listing = describe("bot-cert.pub", issued.at("certificate").as_string());
    EXPECT_NE(listing.find("force-command /usr/local/bin/deploy"), std::string::npos) << listing;
    EXPECT_NE(listing.find("source-address 127.0.0.0/8,10.0.0.0/8"), std::string::npos) << listing;
    EXPECT_NE(listing.find("Extensions: (none)"), std::string::npos) << listing;
}

TEST_F(SshcaServerTest, MeShowsWhatTheGroupsGrant) {
    const auto r = server_.call("GET", "/v1/me", server_.token("alice", {"video-eng", "oncall", "no-such-group"}));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto me = parse_json(r.body);
    EXPECT_EQ(me.at("user"), "alice");
    EXPECT_EQ(me.at("groups"), (json::array{"oncall", "video-eng"}));
    EXPECT_EQ(me.at("principals"), (json::array{"root-everywhere", "zone-video-dev", "zone-video-prod"}));
    EXPECT_EQ(me.at("max_ttl_s").to_number<std::int64_t>(), 86400);
    EXPECT_EQ(me.at("admin"), false);
}

TEST_F(SshcaServerTest, RefusesMissingForgedExpiredAndForeignTokensWith401) {
    const std::string body = user_body(key("alice"));
    const std::vector<std::pair<std::string, std::string>> tokens{
        {"missing", ""},
        {"forged", server_.token("alice", kVideo, 3600, "sshca", "another-secret-that-is-long-enough-0123")},
        {"expired", server_.token("alice", kVideo, -120)},
        {"wrong audience", server_.token("alice", kVideo, 3600, "moneta")},
        {"not a jwt", "abc.def.ghi"},
    };
    for (const auto& [what, token] : tokens) {
        const auto r = server_.call("POST", "/v1/certs/user", token, body);
        EXPECT_EQ(r.status, 401) << what << ": " << r.body;
        EXPECT_EQ(error_code(r.body), "UNAUTHENTICATED") << what;
        EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer") << what;
    }
    // A scheme other than Bearer is no token either.
    const auto basic = server_.call("GET", "/v1/me", {}, {}, {{"Authorization", "Basic YWxpY2U6eA=="}});
    EXPECT_EQ(basic.status, 401);
    EXPECT_EQ(server_.call("GET", "/v1/certs").status, 401);
    EXPECT_EQ(server_.call("GET", "/v1/audit").status, 401);
    EXPECT_EQ(server_.call("POST", "/v1/revocations", {}, R"({"serial":1})").status, 401);
}

TEST_F(SshcaServerTest, RefusesWhatThePolicyDoesNotAllowWith403) {
    const std::string token = server_.token("alice", kVideo);
    const std::string pub = key("alice");
    struct Case {
        std::string what;
        std::string extra;
        std::string mentions;
    };
    const std::vector<Case> cases{
        {"principal", R"("principals":["zone-video-prod","root-everywhere"])", "root-everywhere"},
        {"ttl", R"("ttl_s":28801)", "28800"},
        {"extension", R"("extensions":["permit-agent-forwarding"])", "permit-agent-forwarding"},
    };
    for (const auto& c : cases) {
        const auto r = server_.call("POST", "/v1/certs/user", token, user_body(pub, c.extra));
        EXPECT_EQ(r.status, 403) << c.what << ": " << r.body;
        EXPECT_EQ(error_code(r.body), "FORBIDDEN") << c.what;
        EXPECT_NE(r.body.find(c.mentions), std::string::npos) << c.what << ": " << r.body;
    }
    // A user in no group the policy knows gets nothing.
    const auto stranger = server_.call("POST", "/v1/certs/user", server_.token("eve", {"marketing"}), user_body(pub));
    EXPECT_EQ(stranger.status, 403) << stranger.body;
    // A bound group cannot move its source-address.
    const auto moved = server_.call("POST", "/v1/certs/user", server_.token("ci", {"deploy-bot"}),
                                    user_body(pub, R"("source_address":"192.0.2.0/24")"));
    EXPECT_EQ(moved.status, 403) << moved.body;
}

TEST_F(SshcaServerTest, RefusesAnEmptyPrincipalSetWith422) {
    const std::string pub = key("admin");
    // An admin group grants no principal: nothing to sign.
    const auto none = server_.call("POST", "/v1/certs/user", server_.token("root", kAdmin), user_body(pub));
    EXPECT_EQ(none.status, 422) << none.body;
    EXPECT_EQ(error_code(none.body), "EMPTY_PRINCIPALS");
    const auto empty = server_.call("POST", "/v1/certs/user", server_.token("alice", kVideo),
                                    user_body(pub, R"("principals":[])"));
    EXPECT_EQ(empty.status, 422) << empty.body;
    EXPECT_EQ(error_code(empty.body), "EMPTY_PRINCIPALS");
}

TEST_F(SshcaServerTest, RefusesBadKeysAndBodiesWith400) {
    const std::string token = server_.token("alice", kVideo);
    const std::string pub = key("alice");
    const std::vector<std::pair<std::string, std::string>> bodies{
        {"rsa-2048", user_body(key("rsa2048", "rsa", 2048))},
        {"garbage key", user_body("ssh-ed25519 AAAAnotbase64!!")},
        {"not a key", user_body("hello")},
        {"private key", user_body("-----BEGIN OPENSSH PRIVATE KEY-----")},
        {"unknown member", user_body(pub, R"("principal":"zone-video-prod")")},
        {"no key", R"({"ttl_s":3600})"},
        {"ttl as string", user_body(pub, R"("ttl_s":"3600")")},
        {"not json", "public_key=ssh-ed25519"},
        {"ttl below the minimum", user_body(pub, R"("ttl_s":59)")},
    };
    for (const auto& [what, body] : bodies) {
        const auto r = server_.call("POST", "/v1/certs/user", token, body);
        EXPECT_EQ(r.status, 400) << what << ": " << r.body;
    }
    const std::string dsa = key("dsa", "dsa");
    const auto r = server_.call("POST", "/v1/certs/user", token, user_body(dsa));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(error_code(r.body), "INVALID_KEY") << r.body;
    // Accepted: RSA from 3072 bits, ECDSA P-256.
    issue(token, key("rsa3072", "rsa", 3072));
    issue(token, key("p256", "ecdsa", 256));
}

TEST_F(SshcaServerTest, ListsOwnCertificatesAndAdminsListEveryone) {
    const std::string alice = server_.token("alice", kVideo);
    const std::string bob = server_.token("bob", {"oncall"});
    const std::string admin = server_.token("root", kAdmin);
    issue(alice, key("alice"));
    issue(bob, key("bob1"));
    issue(bob, key("bob2"));

    const auto own = items(server_.call("GET", "/v1/certs", alice));
    ASSERT_EQ(own.size(), 1U);
    EXPECT_EQ(own[0].at("subject"), "alice");
    EXPECT_EQ(own[0].at("kind"), "user");
    EXPECT_EQ(own[0].at("revoked"), false);
    EXPECT_EQ(items(server_.call("GET", "/v1/certs?user=alice", alice)).size(), 1U);
    const auto foreign = server_.call("GET", "/v1/certs?user=bob", alice);
    EXPECT_EQ(foreign.status, 403) << foreign.body;
    EXPECT_EQ(error_code(foreign.body), "FORBIDDEN");

    EXPECT_EQ(items(server_.call("GET", "/v1/certs", admin)).size(), 3U);
    const auto bobs = items(server_.call("GET", "/v1/certs?user=bob", admin));
    ASSERT_EQ(bobs.size(), 2U);
    EXPECT_EQ(bobs[0].at("serial").to_number<std::int64_t>(), 3) << "newest first";

    // active=1 leaves out revoked and expired certificates.
    ASSERT_EQ(server_.call("POST", "/v1/revocations", admin, R"({"serial":3})").status, 201);
    const auto active = items(server_.call("GET", "/v1/certs?user=bob&active=1", admin));
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(active[0].at("serial").to_number<std::int64_t>(), 2);
    clock_.advance(std::chrono::hours(25));
    EXPECT_EQ(items(server_.call("GET", "/v1/certs?active=1", server_.token("root", kAdmin))).size(), 0U);
    EXPECT_EQ(server_.call("GET", "/v1/certs?active=yes", server_.token("root", kAdmin)).status, 400);
    EXPECT_EQ(server_.call("GET", "/v1/certs?colour=red", server_.token("root", kAdmin)).status, 400);
}

TEST_F(SshcaServerTest, RevocationsAreAdminOnlyAndReachTheKrl) {
    const std::string alice = server_.token("alice", kVideo);
    const std::string admin = server_.token("root", kAdmin);
    const std::string pub_a = key("a");
    const std::string pub_b = key("b");
    const std::string pub_c = key("c");
    const auto a = issue(alice, pub_a);
    const auto b = issue(alice, pub_b);
    const auto c = issue(alice, pub_c);
    const auto d = issue(server_.token("bob", {"oncall"}), key("d"));
    ssh_.write("a-cert.pub", std::string(a.at("certificate").as_string()) + "\n", 0644);
    ssh_.write("b-cert.pub", std::string(b.at("certificate").as_string()) + "\n", 0644);
    ssh_.write("c-cert.pub", std::string(c.at("certificate").as_string()) + "\n", 0644);
    ssh_.write("d-cert.pub", std::string(d.at("certificate").as_string()) + "\n", 0644);

    // Before any revocation: version 0, nothing revoked.
    const auto krl0 = server_.call("GET", "/v1/krl");
    ASSERT_EQ(krl0.status, 200);
    EXPECT_EQ(krl0.header("ETag"), "\"0\"");
    EXPECT_EQ(krl0.header("Content-Type"), "application/octet-stream");
    EXPECT_FALSE(krl_revokes("a-cert.pub"));
    const auto unchanged = server_.call("GET", "/v1/krl", {}, {}, {{"If-None-Match", "\"0\""}});
    EXPECT_EQ(unchanged.status, 304);
    EXPECT_TRUE(unchanged.body.empty());

    const auto denied = server_.call("POST", "/v1/revocations", alice, R"({"serial":1})");
    EXPECT_EQ(denied.status, 403) << denied.body;
    EXPECT_FALSE(krl_revokes("a-cert.pub"));

    // By serial.
    const auto by_serial = server_.call("POST", "/v1/revocations", admin, R"({"serial":1,"reason":"laptop lost"})");
    ASSERT_EQ(by_serial.status, 201) << by_serial.body;
    EXPECT_EQ(parse_json(by_serial.body).at("krl_version").to_number<std::int64_t>(), 1);
    EXPECT_EQ(parse_json(by_serial.body).at("serials"), json::array{1});
    EXPECT_TRUE(krl_revokes("a-cert.pub"));
    EXPECT_FALSE(krl_revokes("b-cert.pub"));
    const auto stale = server_.call("GET", "/v1/krl", {}, {}, {{"If-None-Match", "\"0\""}});
    EXPECT_EQ(stale.status, 200);
    EXPECT_EQ(stale.header("ETag"), "\"1\"");
    EXPECT_EQ(server_.call("GET", "/v1/krl", {}, {}, {{"If-None-Match", "\"1\""}}).status, 304);

    const auto unknown = server_.call("POST", "/v1/revocations", admin, R"({"serial":999})");
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    EXPECT_EQ(error_code(unknown.body), "NOT_FOUND");
    EXPECT_EQ(server_.call("POST", "/v1/revocations", admin, R"({"key_id":"user=nobody"})").status, 404);
    EXPECT_EQ(server_.call("GET", "/v1/krl").header("ETag"), "\"1\"") << "a refused revocation changes nothing";

    // By key id.
    const auto by_key_id = server_.call("POST", "/v1/revocations", admin,
                                        R"({"key_id":)" + json_string(b.at("key_id").as_string()) + "}");
    ASSERT_EQ(by_key_id.status, 201) << by_key_id.body;
    EXPECT_TRUE(krl_revokes("b-cert.pub"));

    // By public key: every certificate of that key, and the key itself.
    EXPECT_FALSE(krl_revokes("c-cert.pub"));
    const auto by_key = server_.call("POST", "/v1/revocations", admin, R"({"public_key":)" + json_string(pub_c) + "}");
    ASSERT_EQ(by_key.status, 201) << by_key.body;
    EXPECT_EQ(parse_json(by_key.body).at("serials"), json::array{3});
    EXPECT_TRUE(krl_revokes("c-cert.pub"));
    ssh_.write("c.pub.copy", pub_c + "\n", 0644);
    EXPECT_TRUE(krl_revokes("c.pub.copy")) << "the raw key is revoked too";

    // By user: bob's unexpired certificates.
    EXPECT_FALSE(krl_revokes("d-cert.pub"));
    const auto by_user = server_.call("POST", "/v1/revocations", admin, R"({"user":"bob"})");
    ASSERT_EQ(by_user.status, 201) << by_user.body;
    EXPECT_EQ(parse_json(by_user.body).at("serials"), json::array{4});
    EXPECT_TRUE(krl_revokes("d-cert.pub"));
    EXPECT_EQ(server_.call("GET", "/v1/krl").header("ETag"), "\"4\"");

    // Exactly one selector; well-typed values.
    for (const std::string body : {R"({})", R"({"serial":1,"user":"bob"})", R"({"serial":0})", R"({"serial":"1"})",
                                   R"({"serial":1,"why":"x"})", R"({"key_id":""})"}) {
        EXPECT_EQ(server_.call("POST", "/v1/revocations", admin, body).status, 400) << body;
    }
}

TEST_F(SshcaServerTest, AuditLogIsAdminOnlyAndRecordsEveryDecision) {
    const std::string alice = server_.token("alice", kVideo);
    const std::string admin = server_.token("root", kAdmin);
    const std::string pub = key("alice");
    issue(alice, pub);
    EXPECT_EQ(server_.call("POST", "/v1/certs/user", alice, user_body(pub, R"("ttl_s":99999)")).status, 403);
    EXPECT_EQ(server_.call("POST", "/v1/certs/user", "not-a-token", user_body(pub)).status, 401);
    ASSERT_EQ(server_.call("POST", "/v1/revocations", admin, R"({"serial":1,"reason":"test"})").status, 201);

    const auto refused = server_.call("GET", "/v1/audit", alice);
    EXPECT_EQ(refused.status, 403) << refused.body;

    const auto events = items(server_.call("GET", "/v1/audit", admin));
    std::vector<std::string> names;
    for (const auto& e : events) {
        names.emplace_back(e.at("event").as_string());
        EXPECT_EQ(e.at("ip"), "127.0.0.1");
    }
    EXPECT_EQ(names, (std::vector<std::string>{"issued", "denied", "auth_failed", "revoked"}));
    ASSERT_EQ(events.size(), 4U);
    EXPECT_EQ(events[0].at("actor"), "alice");
    EXPECT_EQ(events[0].at("detail").at("serial").to_number<std::int64_t>(), 1);
    EXPECT_EQ(events[1].at("detail").at("status").to_number<std::int64_t>(), 403);
    EXPECT_EQ(events[2].at("actor"), "");
    EXPECT_EQ(events[3].at("actor"), "root");
    EXPECT_EQ(events[3].at("detail").at("reason"), "test");
    for (const auto& e : events) {
        EXPECT_EQ(e.at("detail").as_object().contains("token"), false);
    }

    // since= is in seconds: nothing after now.
    clock_.advance(std::chrono::seconds(10));
    const std::string later = server_.token("root", kAdmin);
    EXPECT_EQ(items(server_.call("GET", "/v1/audit?since=" + std::to_string(now_s()), later)).size(), 0U);
    EXPECT_EQ(server_.call("GET", "/v1/audit?since=-1", later).status, 400);
}

TEST_F(SshcaServerTest, HostCertificatesNeedTheHostTokenOrAnAdmin) {
    const std::string host_pub = key("ssh_host_ed25519_key");
    const std::string body = R"({"public_key":)" + json_string(host_pub) + R"(,"hostnames":["web1.example.com","10.1.2.3"]})";
    const auto r = server_.call("POST", "/v1/certs/host", kHostToken, body);
    ASSERT_EQ(r.status, 201) << r.body;
    const auto issued = parse_json(r.body);
    EXPECT_EQ(issued.at("valid_before").to_number<std::int64_t>(), now_s() + 30 * 86400);
    const std::string listing = describe("host-cert.pub", issued.at("certificate").as_string());
    EXPECT_NE(listing.find("host certificate"), std::string::npos) << listing;
    EXPECT_NE(listing.find("web1.example.com\n                10.1.2.3\n"), std::string::npos) << listing;
    // Signed by the host CA, not the user CA.
    ssh_.write("host_ca.pub", server_.call("GET", "/v1/ca/host.pub").body.substr(17), 0644);  // drop "@cert-authority *"
    const auto host_fp = ssh_.keygen({"-l", "-f", "host_ca.pub"});
    ASSERT_EQ(host_fp.status, 0) << host_fp.output;
    const std::string fingerprint = host_fp.output.substr(host_fp.output.find("SHA256:"), 50);
    EXPECT_NE(listing.find(fingerprint.substr(0, fingerprint.find(' '))), std::string::npos) << listing;

    EXPECT_EQ(server_.call("POST", "/v1/certs/host", {}, body).status, 401);
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", "wrong-host-token-0123456789", body).status, 401);
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", server_.token("alice", kVideo), body).status, 403);
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", server_.token("root", kAdmin), body).status, 201);
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", kHostToken,
                           R"({"public_key":)" + json_string(host_pub) + R"(,"hostnames":[]})")
                  .status,
              422);
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", kHostToken,
                           R"({"public_key":)" + json_string(host_pub) + R"(,"hostnames":["a b"]})")
                  .status,
              400);
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", kHostToken,
                           R"({"public_key":)" + json_string(host_pub) + R"(,"hostnames":["h"],"ttl_s":99999999})")
                  .status,
              403);
}

TEST_F(SshcaServerTest, MetricsCountWhatHappened) {
    const std::string alice = server_.token("alice", kVideo);
    const std::string pub = key("alice");
    issue(alice, pub);
    issue(alice, pub);
    EXPECT_EQ(server_.call("POST", "/v1/certs/user", alice, user_body(pub, R"("ttl_s":99999)")).status, 403);
    EXPECT_EQ(server_.call("GET", "/v1/me", "bad").status, 401);
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", kHostToken,
                           R"({"public_key":)" + json_string(pub) + R"(,"hostnames":["h1"]})")
                  .status,
              201);
    EXPECT_EQ(server_.call("POST", "/v1/revocations", server_.token("root", kAdmin), R"({"serial":1})").status, 201);

    const auto m = server_.call("GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    for (const char* line : {"sshca_certificates_issued_total{kind=\"user\"} 2\n",
                             "sshca_certificates_issued_total{kind=\"host\"} 1\n",
                             "sshca_certificates_denied_total 1\n", "sshca_revocations_total 1\n",
                             "sshca_auth_failures_total 1\n", "sshca_auth_rate_limited_total 0\n"}) {
        EXPECT_NE(m.body.find(line), std::string::npos) << line << "\n" << m.body;
    }
}

// One identity cannot grow the certificate table without bound: 60 user certificates per user
// per rolling hour, the 61st refused (429, audited) while another user is unaffected, and the
// window moves with the clock.
TEST_F(SshcaServerTest, UserCertificatesPerUserAreBoundedPerHour) {
    const std::string pub = key("bounded");
    const std::string alice = server_.token("alice", {"video-eng"});
    for (std::int64_t i = 0; i < kMaxUserCertsPerHour; ++i) {
        ASSERT_EQ(server_.call("POST", "/v1/certs/user", alice, user_body(pub)).status, 201) << i;
    }
    const auto refused = server_.call("POST", "/v1/certs/user", alice, user_body(pub));
    EXPECT_EQ(refused.status, 429) << refused.body;
    EXPECT_EQ(error_code(refused.body), "RATE_LIMITED");
    EXPECT_EQ(server_.call("POST", "/v1/certs/user", server_.token("dave", {"video-eng"}), user_body(pub)).status, 201);
    clock_.advance(std::chrono::minutes(61));
    EXPECT_EQ(server_.call("POST", "/v1/certs/user", server_.token("alice", {"video-eng"}), user_body(pub)).status, 201);
}

class SshcaRateLimitTest : public SshcaServerTest {
protected:
    static ServerOptions limited() {
        ServerOptions o;
        o.failures.max_failures = 3;
        o.failures.window = std::chrono::seconds(60);
        return o;
    }
    SshcaRateLimitTest() : SshcaServerTest(limited()) {}
};

TEST_F(SshcaRateLimitTest, RepeatedFailuresFromOneAddressGet429UntilTheWindowEnds) {
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(server_.call("GET", "/v1/me", "forged-" + std::to_string(i)).status, 401) << i;
    }
    // Limited: even a valid token from that address is refused, without being checked.
    const auto limited = server_.call("GET", "/v1/me", server_.token("alice", kVideo));
    EXPECT_EQ(limited.status, 429) << limited.body;
    EXPECT_EQ(error_code(limited.body), "RATE_LIMITED");
    EXPECT_EQ(limited.header("Retry-After"), "60");
    EXPECT_EQ(server_.call("POST", "/v1/certs/host", kHostToken, "{}").status, 429) << "host calls too";

    // Another address is unaffected.
    const auto other = moneta::testing::http_call_from("127.0.0.2", server_.port(), "GET", "/v1/me", {},
                                                       {{"Authorization", "Bearer " + server_.token("bob", kVideo)}});
    EXPECT_EQ(other.status, 200) << other.error << other.body;

    // Once the window has passed, the address may try again.
    clock_.advance(std::chrono::seconds(60));
    EXPECT_EQ(server_.call("GET", "/v1/me", server_.token("alice", kVideo)).status, 200);

    const auto m = server_.call("GET", "/metrics");
    EXPECT_NE(m.body.find("sshca_auth_rate_limited_total 2\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("sshca_auth_failures_total 3\n"), std::string::npos) << m.body;
    // The audit log has the failures, not one row per refused call after the limit.
    std::size_t auth_failed = 0;
    for (const auto& e : items(server_.call("GET", "/v1/audit", server_.token("root", kAdmin)))) {
        auth_failed += e.at("event") == "auth_failed" ? 1 : 0;
    }
    EXPECT_EQ(auth_failed, 3U);
}

}  // namespace
}  // namespace moneta::sshca::testing
