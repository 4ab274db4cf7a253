// The `sshca` CLI (services/sshca/cli): the built binary against an in-process server, with a
// real ssh-agent for the agent hygiene of docs/sshca.md §0.6 (lifetime = the certificate's,
// stale identities removed), and the host commands' files (ETag, atomic replacement).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "commands.hpp"
#include "http.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/sshcert/certificate.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"
#include "sshca_fixture.hpp"

namespace moneta::sshca::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using moneta::testing::Process;

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

ino_t inode(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

struct CliRun {
    int status = -1;
    std::string output;
};

/// The CLI binary against the server on @p port, with @p env on top of the test's.
CliRun run_cli(std::uint16_t port, const fs::path& home, const fs::path& log, std::vector<std::string> args,
            std::vector<std::pair<std::string, std::string>> env) {
    args.insert(args.begin(), (moneta::testing::binary_dir() / "services/sshca/sshca").string());
    env.emplace_back("SSHCA_URL", "http://127.0.0.1:" + std::to_string(port));
    env.emplace_back("SSHCA_HOME", home.string());
    auto p = Process::spawn(std::move(args), std::move(env), log);
    CliRun r;
    if (!p) {
        r.output = "cannot start the CLI";
        return r;
    }
    r.status = p->wait_exit(60s).value_or(-1);
    r.output = p->read_log();
    return r;
}

class SshcaCliTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(server_.started());
        // A real agent on its own socket, stopped by PID in TearDown (Process' destructor).
        auto agent = Process::spawn({"ssh-agent", "-D", "-a", agent_sock_.string()}, {}, dir_.file("agent.log"));
        ASSERT_TRUE(agent) << "ssh-agent (openssh-client) missing";
        agent_.emplace(std::move(*agent));
        ASSERT_TRUE(moneta::testing::wait_until([&] { return fs::exists(agent_sock_); }, 10s, "ssh-agent's socket"));
    }

    /// Runs the CLI with @p extra environment on top of the test's.
    CliRun cli(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
        env.emplace_back("SSH_AUTH_SOCK", agent_sock_.string());
        return run_cli(server_.port(), home_, dir_.file("cli-" + std::to_string(++runs_) + ".log"), std::move(args),
                       std::move(env));
    }

    /// The agent's identities (`ssh-add -l`).
    std::string agent_list() {
        auto p = Process::spawn({"ssh-add", "-l"}, {{"SSH_AUTH_SOCK", agent_sock_.string()}},
                                dir_.file("list-" + std::to_string(++runs_) + ".log"));  // a log file per run
        if (!p) {
            return {};
        }
        (void)p->wait_exit(10s);
        return p->read_log();
    }

    std::string user_token(std::vector<std::string> groups = {"video-eng"}) { return server_.token("alice", groups); }
    std::string admin_token() { return server_.token("bob", {"sec-admin"}); }

    core::SystemClock& clock_ = core::SystemClock::instance();
    moneta::testing::TempDir dir_{"sshca-cli-"};
    CaServer server_{clock_, dir_.path() / "server"};
    fs::path home_ = dir_.path() / "home";
    fs::path agent_sock_ = dir_.path() / "agent.sock";
    std::optional<Process> agent_;
    int runs_ = 0;
};

TEST_F(SshcaCliTest, LoginWritesAKeyAndCertificateAndLoadsThemIntoTheAgentForTheirLifetime) {
    const auto login = cli({"login", "--ttl", "30m", "--principals", "zone-video-dev"}, {{"SSHCA_TOKEN", user_token()}});
    ASSERT_EQ(login.status, 0) << login.output;
    EXPECT_NE(login.output.find("principals zone-video-dev"), std::string::npos) << login.output;
    const auto cert = sshcert::Certificate::parse_line(read(home_ / "id_ed25519-cert.pub"));
    ASSERT_TRUE(cert) << cert.error().message;
    EXPECT_EQ(cert->principals, std::vector<std::string>{"zone-video-dev"});
    EXPECT_EQ(cert->valid_before - (cert->valid_after + 60), 1800U);  // backdated 60 s, 30 min
    struct stat st {};
    ASSERT_EQ(::stat(home_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700U);
    ASSERT_EQ(::stat((home_ / "id_ed25519").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0U) << "the private key is readable by others";

    // The agent holds the key and its certificate (ssh-add loads -cert.pub beside the key).
    const auto listed = agent_list();
    EXPECT_NE(listed.find(cert->key.fingerprint()), std::string::npos) << listed;
    EXPECT_NE(listed.find("ED25519-CERT"), std::string::npos) << listed;

    // A second login: a fresh key; the old key and certificate are gone from the agent.
    const auto again = cli({"login"}, {{"SSHCA_TOKEN", user_token()}});
    ASSERT_EQ(again.status, 0) << again.output;
    const auto second = sshcert::Certificate::parse_line(read(home_ / "id_ed25519-cert.pub"));
    ASSERT_TRUE(second);
    EXPECT_NE(second->key.fingerprint(), cert->key.fingerprint()) << "the key is not ephemeral";
    const auto after = agent_list();
    EXPECT_EQ(after.find(cert->key.fingerprint()), std::string::npos) << "stale identity left in the agent: " << after;
    EXPECT_NE(after.find(second->key.fingerprint()), std::string::npos) << after;

    const auto status = cli({"status"});
    EXPECT_EQ(status.status, 0) << status.output;
    EXPECT_NE(status.output.find("user=alice"), std::string::npos) << status.output;
    EXPECT_NE(status.output.find("agent      loaded"), std::string::npos) << status.output;

    const auto out = cli({"logout"});
    EXPECT_EQ(out.status, 0) << out.output;
    EXPECT_FALSE(fs::exists(home_ / "id_ed25519"));
    EXPECT_FALSE(fs::exists(home_ / "id_ed25519-cert.pub"));
    EXPECT_EQ(agent_list().find(second->key.fingerprint()), std::string::npos);
    EXPECT_NE(cli({"status"}).status, 0);
}

TEST_F(SshcaCliTest, RefusalsSayWhyAndChangeNothing) {
    const auto no_token = cli({"login"});
    EXPECT_EQ(no_token.status, 1);
    EXPECT_NE(no_token.output.find("SSHCA_TOKEN"), std::string::npos) << no_token.output;

    const auto denied = cli({"login", "--principals", "root-everywhere"}, {{"SSHCA_TOKEN", user_token()}});
    EXPECT_EQ(denied.status, 1);
    EXPECT_NE(denied.output.find("denied: principals not allowed for your groups: root-everywhere"), std::string::npos)
        << denied.output;
    const auto empty = cli({"login"}, {{"SSHCA_TOKEN", server_.token("carol", {"sec-admin"})}});
    EXPECT_EQ(empty.status, 1);
    EXPECT_NE(empty.output.find("no principals"), std::string::npos) << empty.output;
    const auto forged = cli({"login"}, {{"SSHCA_TOKEN", server_.token("alice", {"video-eng"}, 3600, "sshca",
                                                                       "another-secret-0123456789abcdefghij")}});
    EXPECT_EQ(forged.status, 1);
    EXPECT_NE(forged.output.find("does not accept your identity token"), std::string::npos) << forged.output;
    EXPECT_FALSE(fs::exists(home_ / "id_ed25519-cert.pub"));
    EXPECT_FALSE(fs::exists(home_ / "id_ed25519.new")) << "a refused login left its key behind";

    const auto bad_ttl = cli({"login", "--ttl", "soon"}, {{"SSHCA_TOKEN", user_token()}});
    EXPECT_EQ(bad_ttl.status, 2) << bad_ttl.output;
    const auto https = cli({"status"}, {{"SSHCA_URL", "https://ca.example"}});
    EXPECT_EQ(https.status, 2);
    EXPECT_NE(https.output.find("https"), std::string::npos) << https.output;
}

TEST_F(SshcaCliTest, HostSetupAndKrlSyncReplaceTheFileOnlyWhenTheKrlChanged) {
    const fs::path host = dir_.path() / "host";
    const auto setup = cli({"host", "setup", "--dir", host.string()});
    ASSERT_EQ(setup.status, 0) << setup.output;
    EXPECT_NE(setup.output.find("TrustedUserCAKeys " + (host / "user_ca.pub").string()), std::string::npos)
        << setup.output;
    EXPECT_EQ(read(host / "user_ca.pub"), server_.call("GET", "/v1/ca/user.pub").body);
    const std::string krl0 = read(host / "revoked.krl");
    EXPECT_EQ(krl0, server_.call("GET", "/v1/krl").body);
    EXPECT_EQ(read(host / "revoked.krl.etag"), "\"0\"");

    // Unchanged: a 304, the very same file (same inode).
    const ino_t before = inode(host / "revoked.krl");
    ASSERT_EQ(cli({"host", "krl-sync", "--out", (host / "revoked.krl").string()}).status, 0);
    EXPECT_EQ(inode(host / "revoked.krl"), before);

    // A revocation through the CLI: the next sync replaces the file (rename: a new inode) and
    // ssh-keygen finds the certificate in it.
    ASSERT_EQ(cli({"login"}, {{"SSHCA_TOKEN", user_token()}}).status, 0);
    const auto cert = sshcert::Certificate::parse_line(read(home_ / "id_ed25519-cert.pub"));
    ASSERT_TRUE(cert);
    const auto revoke = cli({"admin", "revoke", "--serial", std::to_string(cert->serial), "--reason", "laptop lost"},
                            {{"SSHCA_TOKEN", admin_token()}});
    ASSERT_EQ(revoke.status, 0) << revoke.output;
    EXPECT_NE(revoke.output.find("\"krl_version\":1"), std::string::npos) << revoke.output;
    const auto synced = cli({"host", "krl-sync", "--out", (host / "revoked.krl").string()});
    ASSERT_EQ(synced.status, 0) << synced.output;
    EXPECT_NE(inode(host / "revoked.krl"), before);
    EXPECT_EQ(read(host / "revoked.krl.etag"), "\"1\"");
    EXPECT_EQ(read(host / "revoked.krl"), server_.call("GET", "/v1/krl").body);
    EXPECT_FALSE(fs::exists(host / "revoked.krl.tmp"));

    // A non-admin cannot revoke; the admin lists and reads the audit log through the CLI.
    const auto not_admin = cli({"admin", "revoke", "--user", "alice"}, {{"SSHCA_TOKEN", user_token()}});
    EXPECT_EQ(not_admin.status, 1);
    EXPECT_NE(not_admin.output.find("only admins may revoke"), std::string::npos) << not_admin.output;
    const auto certs = cli({"admin", "certs", "--user", "alice"}, {{"SSHCA_TOKEN", admin_token()}});
    EXPECT_EQ(certs.status, 0) << certs.output;
    EXPECT_NE(certs.output.find("\"revoked\":true"), std::string::npos) << certs.output;
    const auto audit = cli({"admin", "audit", "--since", "1h"}, {{"SSHCA_TOKEN", admin_token()}});
    EXPECT_EQ(audit.status, 0) << audit.output;
    EXPECT_NE(audit.output.find("laptop lost"), std::string::npos) << audit.output;
}

TEST_F(SshcaCliTest, HostRenewWritesTheCertificateBesideTheKey) {
    const fs::path key = dir_.path() / "ssh_host_ed25519_key";
    auto keygen = Process::spawn({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.string()}, {},
                                 dir_.file("keygen.log"));
    ASSERT_TRUE(keygen);
    ASSERT_EQ(keygen->wait_exit(30s), 0);
    const auto no_token = cli({"host", "renew", "--key", key.string() + ".pub", "--hostname", "web1.example"});
    EXPECT_EQ(no_token.status, 1);
    const auto renewed = cli({"host", "renew", "--key", key.string() + ".pub", "--hostname", "web1.example",
                              "--hostname", "web1"},
                             {{"SSHCA_HOST_TOKEN", std::string(kHostToken)}});
    ASSERT_EQ(renewed.status, 0) << renewed.output;
    const auto cert = sshcert::Certificate::parse_line(read(key.string() + "-cert.pub"));
    ASSERT_TRUE(cert) << cert.error().message;
    EXPECT_EQ(cert->type, sshcert::CertType::kHost);
    EXPECT_EQ(cert->principals, (std::vector<std::string>{"web1.example", "web1"}));
}

// A CA whose clock is 5 minutes ahead of this machine's: the certificate is issued, and the CLI
// says the clocks differ (hosts check validity against their own clocks: design §0.4).
TEST(SshcaCliClockTest, ASkewedClockIsReportedAtLogin) {
    moneta::testing::TempDir dir("sshca-cli-skew-");
    const core::FakeClock ahead(core::SystemClock::instance().wall_ms() + 300'000);
    CaServer server(ahead, dir.path() / "server");
    ASSERT_TRUE(server.started());
    const auto login = run_cli(server.port(), dir.path() / "home", dir.file("login.log"), {"login", "--no-agent"},
                               {{"SSHCA_TOKEN", server.token("alice", {"video-eng"})}});
    EXPECT_EQ(login.status, 0) << login.output;
    const std::string said = "warning: this machine's clock is ";
    const auto at = login.output.find(said);
    ASSERT_NE(at, std::string::npos) << login.output;
    const int skew = std::atoi(login.output.c_str() + at + said.size());  // 300 less the seconds this took
    EXPECT_GE(skew, 290) << login.output;
    EXPECT_LE(skew, 300) << login.output;
    EXPECT_NE(login.output.find("s behind the CA's", at), std::string::npos) << login.output;
}

// `ensure` (what `sshca ssh` and the ssh_config Match line run) logs in again when the certificate
// ends within 2 minutes, and leaves a certificate with time left alone. The CA's clock is set so
// that its one-hour certificates end 60 s from now.
TEST(SshcaCliClockTest, EnsureRenewsACertificateAboutToExpireAndKeepsAFreshOne) {
    moneta::testing::TempDir dir("sshca-cli-ensure-");
    core::FakeClock clock(core::SystemClock::instance().wall_ms() - 3'540'000);
    CaServer server(clock, dir.path() / "server");
    ASSERT_TRUE(server.started());
    const fs::path home = dir.path() / "home";
    const std::vector<std::pair<std::string, std::string>> env{{"SSHCA_TOKEN", server.token("alice", {"video-eng"})},
                                                               {"SSH_AUTH_SOCK", ""}};
    const std::vector<std::pair<std::string, std::string>> no_token{{"SSH_AUTH_SOCK", ""}};
    ASSERT_EQ(run_cli(server.port(), home, dir.file("login.log"), {"login", "--no-agent"}, env).status, 0);
    const auto first = sshcert::Certificate::parse_line(read(home / "id_ed25519-cert.pub"));
    ASSERT_TRUE(first);

    const auto renewed = run_cli(server.port(), home, dir.file("ensure1.log"), {"ensure"}, env);
    ASSERT_EQ(renewed.status, 0) << renewed.output;
    EXPECT_NE(renewed.output.find("about to expire"), std::string::npos) << renewed.output;
    const auto second = sshcert::Certificate::parse_line(read(home / "id_ed25519-cert.pub"));
    ASSERT_TRUE(second);
    EXPECT_GT(second->serial, first->serial);

    // The CA's clock back to now: the next certificate has an hour; ensure keeps it.
    clock.set_wall_ms(core::SystemClock::instance().wall_ms());
    ASSERT_EQ(run_cli(server.port(), home, dir.file("login2.log"), {"login", "--no-agent"}, env).status, 0);
    const auto fresh = sshcert::Certificate::parse_line(read(home / "id_ed25519-cert.pub"));
    ASSERT_TRUE(fresh);
    const auto kept = run_cli(server.port(), home, dir.file("ensure2.log"), {"ensure", "--quiet"}, no_token);
    EXPECT_EQ(kept.status, 0) << kept.output;
    EXPECT_EQ(sshcert::Certificate::parse_line(read(home / "id_ed25519-cert.pub"))->serial, fresh->serial);

    // Expiring with no token to renew it: a clear refusal, nothing changed.
    clock.set_wall_ms(core::SystemClock::instance().wall_ms() - 3'540'000);
    ASSERT_EQ(run_cli(server.port(), home, dir.file("login3.log"), {"login", "--no-agent"}, env).status, 0);
    const auto stale = run_cli(server.port(), home, dir.file("ensure3.log"), {"ensure"}, no_token);
    EXPECT_EQ(stale.status, 1);
    EXPECT_NE(stale.output.find("expires within 2 minutes"), std::string::npos) << stale.output;
}

TEST(SshcaCliParseTest, DurationsAndUrls) {
    EXPECT_EQ(cli::parse_duration("90"), 90);
    EXPECT_EQ(cli::parse_duration("90m"), 5400);
    EXPECT_EQ(cli::parse_duration("1h"), 3600);
    EXPECT_EQ(cli::parse_duration("2d"), 172800);
    for (const char* bad : {"", "h", "-1h", "0", "1.5h", "1w", "1hh", "99999999d"}) {
        EXPECT_FALSE(cli::parse_duration(bad)) << bad;
    }
    const auto e = cli::Endpoint::parse("http://127.0.0.1:8083/");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(e->port, "8083");
    EXPECT_EQ(cli::Endpoint::parse("http://ca.internal")->port, "80");
    for (const char* bad : {"https://ca", "ftp://ca", "http://", "http://ca/v1", "http://ca:x", "http://ca:123456"}) {
        EXPECT_FALSE(cli::Endpoint::parse(bad)) << bad;
    }
}

}  // namespace
}  // namespace moneta::sshca::testing
