// The SSH CA end to end (issue 14): a real OpenSSH sshd (Debian openssh-server) on a free
// loopback port trusts the CA's user key (GET /v1/ca/user.pub), accepts the principals in
// AuthorizedPrincipalsFile and reads the KRL (GET /v1/krl) on every login; the real ssh client
// logs in with certificates from POST /v1/certs/user and trusts the host by its host
// certificate alone (POST /v1/certs/host, an @cert-authority line from GET /v1/ca/host.pub).
// sshd is started by the test with its own config, keys and pid file, and stopped by PID.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "openssh_tool.hpp"
#include "sshca_fixture.hpp"

namespace moneta::sshca::testing {
namespace {

namespace json = boost::json;
using moneta::testing::Process;
using sshcert::testing::OpensshTool;

constexpr const char* kSshd = "/usr/sbin/sshd";
constexpr std::string_view kAcceptedPrincipal = "zone-video-prod";

std::string current_user() {
    const passwd* pw = ::getpwuid(::getuid());
    return pw != nullptr ? pw->pw_name : "";
}

std::int64_t system_now_ms() { return core::SystemClock::instance().wall_ms(); }

struct SshRun {
    int status = -1;
    std::string output;
};

class SshdTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(server_.started());
        ASSERT_EQ(::access(kSshd, X_OK), 0) << kSshd << " missing: install openssh-server (MONETA_PACKAGES)";
        ASSERT_FALSE(user_.empty());
        if (::getuid() == 0) {
            // As root sshd separates privileges into its compiled-in chroot, /run/sshd, which
            // the package's service makes at boot; a container may not have run it.
            ::mkdir("/run/sshd", 0755);
        }
        const auto d = sshd_dir_.path();
        const auto host = sshd_ssh_.keygen({"-q", "-t", "ed25519", "-N", "", "-C", "test host", "-f",
                                            (d / "ssh_host_ed25519_key").string()});
        ASSERT_EQ(host.status, 0) << host.output;
        host_pub_ = read(d / "ssh_host_ed25519_key.pub");

        // The host's certificate, signed by the CA's host key with the bootstrap token.
        const auto hc = server_.call("POST", "/v1/certs/host", kHostToken,
                                     R"({"public_key":)" + json_string(trimmed(host_pub_)) +
                                         R"(,"hostnames":["127.0.0.1","localhost"]})");
        ASSERT_EQ(hc.status, 201) << hc.body;
        write(d / "ssh_host_ed25519_key-cert.pub", std::string(parse_json(hc.body).at("certificate").as_string()) + "\n");

        const auto user_ca = server_.call("GET", "/v1/ca/user.pub");
        ASSERT_EQ(user_ca.status, 200);
        write(d / "user_ca.pub", user_ca.body);
        std::filesystem::create_directories(d / "principals");
        write(d / "principals" / user_, std::string(kAcceptedPrincipal) + "\n");
        ASSERT_TRUE(sync_krl());

        port_ = moneta::testing::free_port();
        const auto config = d / "sshd_config";
        write(config, "Port " + std::to_string(port_) + "\n" +
                          "ListenAddress 127.0.0.1\n"
                          "HostKey " + (d / "ssh_host_ed25519_key").string() + "\n" +
                          "HostCertificate " + (d / "ssh_host_ed25519_key-cert.pub").string() + "\n" +
                          "PidFile " + (d / "sshd.pid").string() + "\n" +
                          "UsePAM no\n"
                          "StrictModes no\n"
                          "AuthorizedKeysFile none\n"
                          "PasswordAuthentication no\n"
                          "KbdInteractiveAuthentication no\n"
                          "LogLevel VERBOSE\n"
                          "TrustedUserCAKeys " + (d / "user_ca.pub").string() + "\n" +
                          "AuthorizedPrincipalsFile " + (d / "principals").string() + "/%u\n" +
                          "RevokedKeys " + (d / "revoked.krl").string() + "\n");
        auto sshd = Process::spawn({kSshd, "-D", "-e", "-f", config.string()}, {}, d / "sshd.log", d);
        ASSERT_TRUE(sshd) << "cannot start " << kSshd;
        sshd_.emplace(std::move(*sshd));
        ASSERT_TRUE(moneta::testing::wait_for_tcp(port_, std::chrono::seconds(10))) << sshd_->read_log();

        // The client's known_hosts for the plain host key (tests of user certificates).
        write(client_.file("known_hosts"), "[127.0.0.1]:" + std::to_string(port_) + " " + host_pub_);
    }

    void TearDown() override {
        if (sshd_) {
            sshd_->stop(std::chrono::seconds(5));
            if (HasFailure()) {
                std::cerr << "sshd log:\n" << sshd_->read_log();
            }
        }
    }

    static std::string read(const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    static void write(const std::filesystem::path& p, std::string_view content) {
        std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    }
    static std::string trimmed(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
            s.pop_back();
        }
        return s;
    }

    /// GET /v1/krl written the way `sshca host krl-sync` does: a temp file renamed over the
    /// old one, so sshd never reads half a KRL.
    /// The host's side as docs/sshca.md tells it: `sshca host krl-sync --out revoked.krl` (the
    /// CLI binary: ETag, then an atomic rename); true when the file then holds the CA's KRL.
    bool sync_krl() {
        auto cli = Process::spawn({(moneta::testing::binary_dir() / "services/sshca/sshca").string(), "host",
                                   "krl-sync", "--out", sshd_dir_.file("revoked.krl").string()},
                                  {{"SSHCA_URL", "http://127.0.0.1:" + std::to_string(server_.port())}},
                                  sshd_dir_.file("krl-sync.log"));
        if (!cli) {
            ADD_FAILURE() << "cannot run the sshca CLI";
            return false;
        }
        const auto status = cli->wait_exit(std::chrono::seconds(30));
        EXPECT_EQ(status, 0) << cli->read_log();
        const auto krl = server_.call("GET", "/v1/krl");
        return status == 0 && krl.status == 200 && read(sshd_dir_.file("revoked.krl")) == krl.body;
    }

    /// A client key pair @p name and a certificate for it (@p extra: more request members);
    /// the response, asserting 201.
    json::object login(std::string_view name, const std::vector<std::string>& groups, const std::string& extra = "") {
        const std::string pub = trimmed(client_.generate_key(name, "ed25519", 0, std::string(name)));
        const auto r = server_.call("POST", "/v1/certs/user", server_.token(user_, groups),
                                    R"({"public_key":)" + json_string(pub) + (extra.empty() ? "" : "," + extra) + "}");
        EXPECT_EQ(r.status, 201) << r.body;
        const auto v = parse_json(r.body);
        if (!v.is_object()) {
            return {};
        }
        client_.write(std::string(name) + "-cert.pub", std::string(v.at("certificate").as_string()) + "\n", 0644);
        return v.get_object();
    }

    /// `ssh … $USER@127.0.0.1 echo hi` with key @p name and its certificate.
    SshRun ssh(std::string_view name, std::string_view known_hosts = "known_hosts") {
        const std::string key = client_.file(name).string();
        std::vector<std::string> argv{"ssh",
                                      "-F", "/dev/null",
                                      "-i", key,
                                      "-o", "CertificateFile=" + key + "-cert.pub",
                                      "-o", "IdentitiesOnly=yes",
                                      "-o", "IdentityAgent=none",
                                      "-o", "UserKnownHostsFile=" + client_.file(known_hosts).string(),
                                      "-o", "GlobalKnownHostsFile=/dev/null",
                                      "-o", "StrictHostKeyChecking=yes",
                                      "-o", "BatchMode=yes",
                                      "-o", "ConnectTimeout=5",
                                      "-p", std::to_string(port_),
                                      user_ + "@127.0.0.1",
                                      "echo", "hi"};
        SshRun out;
        const auto log = client_.file("ssh-" + std::to_string(++ssh_runs_) + ".log");
        auto p = Process::spawn(argv, {}, log, client_.dir());
        if (!p) {
            ADD_FAILURE() << "cannot start ssh (openssh-client)";
            return out;
        }
        const auto status = p->wait_exit(std::chrono::seconds(30));
        if (!status) {
            ADD_FAILURE() << "ssh did not exit within 30 s";
            p->stop();
        }
        out.status = status.value_or(-1);
        out.output = p->read_log();
        return out;
    }

    void expect_login(std::string_view name) {
        const auto r = ssh(name);
        EXPECT_EQ(r.status, 0) << r.output;
        EXPECT_EQ(r.output, "hi\n");
    }
    void expect_denied(std::string_view name) {
        const auto r = ssh(name);
        EXPECT_EQ(r.status, 255) << r.output;
        EXPECT_NE(r.output.find("Permission denied (publickey)"), std::string::npos) << r.output;
        EXPECT_EQ(r.output.find("hi\n"), std::string::npos) << r.output;
    }
    /// Lines of sshd's log mentioning @p text.
    bool sshd_logged(std::string_view text) { return sshd_->read_log().find(text) != std::string::npos; }

    std::string admin() const { return server_.token("sec-admin-user", {"sec-admin"}); }

    moneta::testing::TempDir ca_dir_{"sshca-sshd-ca-"};
    moneta::testing::TempDir sshd_dir_{"sshca-sshd-"};
    core::FakeClock clock_{system_now_ms()};  // real time: sshd checks validity against it
    CaServer server_{clock_, ca_dir_.path()};
    OpensshTool client_;
    OpensshTool sshd_ssh_;
    std::string user_ = current_user();
    std::string host_pub_;
    std::uint16_t port_ = 0;
    std::optional<Process> sshd_;
    int ssh_runs_ = 0;
};

TEST_F(SshdTest, AGrantedPrincipalLogsIn) {
    const auto cert = login("alice", {"video-eng"}, R"("principals":["zone-video-prod"])");
    expect_login("alice");
    // sshd's log names the certificate: the join between the CA's audit log and the host's.
    EXPECT_TRUE(sshd_logged("ID " + std::string(cert.at("key_id").as_string()) + " (serial " +
                            std::to_string(cert.at("serial").to_number<std::int64_t>()) + ")"))
        << sshd_->read_log();
    // Without the certificate the same key is nobody.
    std::filesystem::remove(client_.file("alice-cert.pub"));
    expect_denied("alice");
}

TEST_F(SshdTest, AGroupWithoutThePrincipalIsRefusedAndItsCertificateDenied) {
    const std::string pub = trimmed(client_.generate_key("web0", "ed25519", 0, "web0"));
    const auto refused = server_.call("POST", "/v1/certs/user", server_.token(user_, {"web-eng"}),
                                      R"({"public_key":)" + json_string(pub) + R"(,"principals":["zone-video-prod"]})");
    EXPECT_EQ(refused.status, 403) << refused.body;
    // What web-eng may have (zone-web-prod) this host does not accept.
    login("web", {"web-eng"});
    expect_denied("web");
}

TEST_F(SshdTest, AnExpiredCertificateIsDenied) {
    // Issued by a server whose clock is two days back, with the shortest lifetime.
    clock_.set_wall_ms(system_now_ms() - 2 * 86'400'000);
    const auto cert = login("old", {"video-eng"}, R"("ttl_s":60)");
    clock_.set_wall_ms(system_now_ms());
    EXPECT_LT(cert.at("valid_before").to_number<std::int64_t>(), system_now_ms() / 1000);
    expect_denied("old");
    // A current certificate for the same key works: only the validity was wrong.
    const std::string pub = trimmed(client_.read("old.pub"));
    const auto fresh = server_.call("POST", "/v1/certs/user", server_.token(user_, {"video-eng"}),
                                    R"({"public_key":)" + json_string(pub) + "}");
    ASSERT_EQ(fresh.status, 201) << fresh.body;
    client_.write("old-cert.pub", std::string(parse_json(fresh.body).at("certificate").as_string()) + "\n", 0644);
    expect_login("old");
}

TEST_F(SshdTest, RevocationsReachSshdThroughTheKrlWithoutARestart) {
    const auto by_serial = login("s", {"video-eng"});
    const auto by_key_id = login("k", {"oncall"});
    const auto by_key = login("p", {"video-eng"});
    const auto survivor = login("x", {"video-eng"});
    for (const char* name : {"s", "k", "p", "x"}) {
        expect_login(name);
    }
    const auto sshd_pid = sshd_->pid();
    const std::string token = admin();

    auto revoke = [&](const std::string& body) {
        const auto r = server_.call("POST", "/v1/revocations", token, body);
        EXPECT_EQ(r.status, 201) << body << ": " << r.body;
        ASSERT_TRUE(sync_krl());
    };
    revoke(R"({"serial":)" + std::to_string(by_serial.at("serial").to_number<std::int64_t>()) + "}");
    expect_denied("s");
    expect_login("k");

    revoke(R"({"key_id":)" + json_string(by_key_id.at("key_id").as_string()) + "}");
    expect_denied("k");
    expect_login("p");

    revoke(R"({"public_key":)" + json_string(trimmed(client_.read("p.pub"))) + "}");
    expect_denied("p");
    // A new certificate for a revoked key is no way back in.
    const auto again = server_.call("POST", "/v1/certs/user", server_.token(user_, {"video-eng"}),
                                    R"({"public_key":)" + json_string(trimmed(client_.read("p.pub"))) + "}");
    ASSERT_EQ(again.status, 201) << again.body;
    client_.write("p-cert.pub", std::string(parse_json(again.body).at("certificate").as_string()) + "\n", 0644);
    expect_denied("p");

    expect_login("x");
    EXPECT_TRUE(sshd_->running());
    EXPECT_EQ(sshd_->pid(), sshd_pid);
    EXPECT_TRUE(sshd_logged("revoked")) << sshd_->read_log();
    (void)survivor;
}

TEST_F(SshdTest, TheHostIsTrustedByItsCertificateAlone) {
    login("alice", {"video-eng"});
    const auto host_ca = server_.call("GET", "/v1/ca/host.pub");
    ASSERT_EQ(host_ca.status, 200);
    client_.write("known_hosts_ca", host_ca.body, 0644);
    const auto r = ssh("alice", "known_hosts_ca");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "hi\n");
    // Without the CA line the host is unknown, and StrictHostKeyChecking refuses it (no prompt).
    client_.write("known_hosts_empty", "", 0644);
    const auto unknown = ssh("alice", "known_hosts_empty");
    EXPECT_EQ(unknown.status, 255) << unknown.output;
    EXPECT_NE(unknown.output.find("Host key verification failed"), std::string::npos) << unknown.output;
    // The user CA is not a host CA.
    const std::string user_ca = server_.call("GET", "/v1/ca/user.pub").body;
    client_.write("known_hosts_wrong_ca", "@cert-authority * " + user_ca, 0644);
    const auto wrong = ssh("alice", "known_hosts_wrong_ca");
    EXPECT_EQ(wrong.status, 255) << wrong.output;
}

}  // namespace
}  // namespace moneta::sshca::testing
