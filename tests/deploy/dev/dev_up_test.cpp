// `./dev up` / `./dev down` as a developer runs them: a fresh MONETA_DEV_DIR, every port moved to
// a free one, the test build's binaries (MONETA_PREBUILT_DIR). Checks the printed curl gives 201
// through nginx, what each process holds (environment, files, modes), that a kill -9'ed moneta
// nobody reaps (a zombie) is restarted by the next `./dev up`, and that `./dev down` stops all.
// `./dev up --cluster`: six redis-server formed into a cluster once, two moneta instances in
// cluster mode behind nginx, `./dev status` showing the nodes, `./dev down` stopping them all.
//
// The test process makes itself a child subreaper, so the stack's processes (orphaned when
// `./dev` exits) become its children; it reaps none of them until the end. That is a container
// without an init: a killed process stays a zombie.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "dev_support.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::dev_test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::vector<std::string> kServices = {"nginx", "moneta", "internal_api", "redis", "stack_exporter",
                                            "prometheus", "alertmanager", "sshca", "demo_sshd"};

// The curl ./dev up prints (backslash-continued lines), as one shell command.
std::string printed_curl(const std::string& output) {
    const auto at = output.find("  curl -i -X POST");
    if (at == std::string::npos) {
        return {};
    }
    std::string cmd;
    std::istringstream in(output.substr(at));
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\\') {
            cmd += line.substr(0, line.size() - 1);
            continue;
        }
        cmd += line;
        break;
    }
    return cmd;
}

// True when 127.0.0.1:@p port can be bound now.
bool bindable(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// A base port for the six cluster nodes: base .. base+5 and their bus ports (+10000) free, all
// below Linux's ephemeral range (32768-60999: an outgoing connection may hold one unseen).
int free_cluster_base() {
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(20000, 22000);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int base = pick(rng);
        bool ok = true;
        for (int i = 0; i < 6 && ok; ++i) {
            ok = bindable(base + i) && bindable(base + i + 10000);
        }
        if (ok) {
            return base;
        }
    }
    return -1;
}

std::string user_name() {
    const passwd* pw = ::getpwuid(::getuid());
    return pw != nullptr ? pw->pw_name : "";
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

bool is_private(const fs::path& p, fs::perms want) {
    std::error_code ec;
    return (fs::status(p, ec).permissions() & fs::perms::mask) == want;
}

class DevUpTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        // A checkout's .dev is world-traversable; nginx's workers (nobody, when run as root)
        // need that for their temp paths.
        fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        env_ = {
            {"MONETA_DEV_DIR", dir_.path().string()},
            {"MONETA_PREBUILT_DIR", testing::binary_dir().string()},
            {"MONETA_EDGE_PORT", std::to_string(testing::free_port())},
            {"MONETA_PORT", std::to_string(testing::free_port())},
            {"MONETA_ADMIN_PORT", std::to_string(testing::free_port())},
            {"INTERNAL_API_PORT", std::to_string(testing::free_port())},
            {"MONETA_REDIS_PORT", std::to_string(testing::free_port())},
            {"MONETA_EDGE_STATUS_PORT", std::to_string(testing::free_port())},
            {"MONETA_EXPORTER_PORT", std::to_string(testing::free_port())},
            {"MONETA_PROMETHEUS_PORT", std::to_string(testing::free_port())},
            {"MONETA_ALERTMANAGER_PORT", std::to_string(testing::free_port())},
            {"SSHCA_PORT", std::to_string(testing::free_port())},
            {"SSHCA_DEMO_SSH_PORT", std::to_string(testing::free_port())},
            {"MONETA_EDGE_WORKERS", "1"},
        };
    }

    void TearDown() override {
        run_dev({"down"}, env_, dir_.file("teardown.log"), 120s);
        // Anything still running after that is killed by pid, and every child reaped.
        for (const auto& name : services_) {
            const pid_t pid = pidfile_pid(pidfile(name));
            if (pid > 0 && proc_state(pid) && proc_state(pid) != 'Z' && started_.count(name) &&
                started_.at(name) == proc_starttime(pid)) {
                ::kill(pid, SIGKILL);
            }
        }
        for (const auto& [name, pid] : seen_) {
            reap(pid, 10s);
        }
        ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    }

    std::string env(const std::string& name) const {
        for (const auto& [k, v] : env_) {
            if (k == name) {
                return v;
            }
        }
        return {};
    }
    fs::path pidfile(const std::string& name) const { return dir_.path() / "run" / (name + ".pid"); }
    fs::path secret(const std::string& name) const { return dir_.path() / "secrets" / name; }

    // Records the pids the pid files name now (for TearDown).
    void remember_pids() {
        for (const auto& name : services_) {
            const pid_t pid = pidfile_pid(pidfile(name));
            if (pid > 0) {
                seen_.emplace(name + std::to_string(pid), pid);
                started_[name] = proc_starttime(pid);
            }
        }
    }

    BashResult up(const std::string& log) {
        auto r = run_dev({"up"}, env_, dir_.file(log), 300s);
        remember_pids();
        return r;
    }

    ::testing::AssertionResult curl_gives_201(const std::string& output) {
        const auto cmd = printed_curl(output);
        if (cmd.empty()) {
            return ::testing::AssertionFailure() << "no curl in:\n" << output;
        }
        auto curl = testing::Process::spawn({"bash", "-c", cmd + " -sS --max-time 10"}, {}, dir_.file("curl.log"));
        if (!curl) {
            return ::testing::AssertionFailure() << curl.error().message();
        }
        const auto status = curl->wait_exit(30s);
        const auto text = curl->read_log();
        if (status != 0 || text.rfind("HTTP/1.1 201", 0) != 0) {
            return ::testing::AssertionFailure() << cmd << "\n→ " << text.substr(0, 600);
        }
        return ::testing::AssertionSuccess();
    }

    testing::TempDir dir_{"dev-up-"};
    Env env_;
    std::vector<std::string> services_ = kServices;  ///< pid file names TearDown kills if left
    std::map<std::string, pid_t> seen_;
    std::map<std::string, std::string> started_;
};

TEST_F(DevUpTest, UpOnMovedPortsServesAndDownStopsEverything) {
    auto first = up("up1.log");
    ASSERT_EQ(first.status, 0) << first.output;
    EXPECT_NE(first.output.find("http://127.0.0.1:" + env("MONETA_EDGE_PORT") + "/v1/playback/sessions"),
              std::string::npos);
    EXPECT_TRUE(curl_gives_201(first.output));
    // The observability URLs are printed and answer (docs/observability.md).
    const std::string prometheus = "http://127.0.0.1:" + env("MONETA_PROMETHEUS_PORT");
    const std::string alertmanager = "http://127.0.0.1:" + env("MONETA_ALERTMANAGER_PORT");
    EXPECT_NE(first.output.find(prometheus), std::string::npos) << first.output;
    EXPECT_NE(first.output.find(alertmanager), std::string::npos) << first.output;
    for (const char* port : {"MONETA_PROMETHEUS_PORT", "MONETA_ALERTMANAGER_PORT"}) {
        const auto ready = testing::http_call(static_cast<std::uint16_t>(std::stoi(env(port))), "GET", "/-/ready");
        EXPECT_EQ(ready.status, 200) << port << ": " << ready.error;
    }
    // The exporter's registrations carry no secret (the internal API's token is a file name).
    const auto sd = testing::http_call(static_cast<std::uint16_t>(std::stoi(env("MONETA_EXPORTER_PORT"))), "GET", "/sd");
    EXPECT_EQ(sd.status, 200);
    EXPECT_NE(sd.body.find("\"__meta_consul_service\":\"moneta\""), std::string::npos) << sd.body;
    // moneta's entry is its own registration with the exporter's agent endpoints (docs/consul.md):
    // its ID is moneta-<host>-<port> and its TTL check is passing.
    const auto services = testing::http_call(static_cast<std::uint16_t>(std::stoi(env("MONETA_EXPORTER_PORT"))), "GET",
                                             "/v1/agent/services");
    EXPECT_EQ(services.status, 200);
    EXPECT_NE(services.body.find("-" + env("MONETA_PORT") + "\",\"Service\":\"moneta\""), std::string::npos)
        << services.body;
    EXPECT_EQ(sd.body.find("\"moneta-" + env("MONETA_PORT") + "\""), std::string::npos) << "no static moneta entry";

    // ---- secrets: generated, private, and each process holds only its own -------------------
    EXPECT_TRUE(is_private(dir_.path() / "secrets", fs::perms::owner_all));
    std::map<std::string, std::string> value;
    for (const char* name : {"jwt_hs256", "internal_api_token", "redis_password", "edge_token", "admin_token",
                             "session_key", "cdn_origin_secret", "drm_site_key", "drm_access_key", "sshca_jwt_hs256",
                             "sshca_ca_passphrase", "sshca_host_token"}) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(is_private(secret(name), fs::perms::owner_read | fs::perms::owner_write));
        value[name] = testing::read_file(secret(name));
        while (!value[name].empty() && value[name].back() == '\n') {
            value[name].pop_back();
        }
        EXPECT_GE(value[name].size(), 32U);
        EXPECT_EQ(first.output.find(value[name]), std::string::npos) << name << " printed by ./dev up";
        EXPECT_EQ(sd.body.find(value[name]), std::string::npos) << name << " served by /sd";
    }
    const std::map<std::string, std::string> moneta_needs = {
        {"MONETA_JWT_SECRET", value["jwt_hs256"]},
        {"INTERNAL_API_TOKEN", value["internal_api_token"]},
        {"MONETA_REDIS_PASSWORD", value["redis_password"]},
        {"MONETA_EDGE_TOKEN", value["edge_token"]},
        {"MONETA_ADMIN_TOKEN", value["admin_token"]},
        {"MONETA_SESSION_KEY", value["session_key"]},
        {"MONETA_DRM_SITE_KEY", value["drm_site_key"]},
        {"MONETA_DRM_ACCESS_KEY", value["drm_access_key"]},
    };
    const pid_t moneta = pidfile_pid(pidfile("moneta"));
    const pid_t internal_api = pidfile_pid(pidfile("internal_api"));
    const pid_t redis = pidfile_pid(pidfile("redis"));
    const pid_t nginx = pidfile_pid(pidfile("nginx"));
    ASSERT_GT(moneta, 0);
    ASSERT_GT(internal_api, 0);
    ASSERT_GT(redis, 0);
    ASSERT_GT(nginx, 0);
    const auto moneta_env = proc_environ(moneta);
    for (const auto& [name, v] : moneta_needs) {
        EXPECT_EQ(moneta_env.count(name) ? moneta_env.at(name) : "(unset)", v) << name;
    }
    EXPECT_EQ(moneta_env.count("MONETA_CDN_ORIGIN_SECRET"), 0U);  // nginx's, not moneta's
    EXPECT_EQ(moneta_env.count("CONSUL_HTTP_ADDR") ? moneta_env.at("CONSUL_HTTP_ADDR") : "(unset)",
              "127.0.0.1:" + env("MONETA_EXPORTER_PORT"));
    const auto ia_env = proc_environ(internal_api);
    ASSERT_FALSE(ia_env.empty());
    for (const auto& [name, v] : moneta_needs) {
        EXPECT_EQ(ia_env.count(name), name == "INTERNAL_API_TOKEN" ? 1U : 0U) << name;
    }
    // redis-server and the nginx master write their titles over their environ area, so /proc
    // cannot show what they got (DevEnvironmentTest checks their lists). Their command lines and
    // the run dir: no secret on a command line; the files holding them are 0600.
    for (const pid_t pid : {redis, nginx, moneta, internal_api, pidfile_pid(pidfile("sshca"))}) {
        const auto cmdline = testing::read_file("/proc/" + std::to_string(pid) + "/cmdline");
        for (const auto& [name, v] : value) {
            EXPECT_EQ(cmdline.find(v), std::string::npos) << name << " on the command line of " << pid;
        }
    }
    // The SSH CA: its own three secrets and no one else's (and no one else has its), its keys
    // encrypted under the dev dir, and an identity token from `./dev token --sshca` accepted.
    const std::map<std::string, std::string> sshca_needs = {{"SSHCA_JWT_SECRET", value["sshca_jwt_hs256"]},
                                                            {"SSHCA_CA_PASSPHRASE", value["sshca_ca_passphrase"]},
                                                            {"SSHCA_HOST_TOKEN", value["sshca_host_token"]}};
    const pid_t sshca = pidfile_pid(pidfile("sshca"));
    ASSERT_GT(sshca, 0);
    const auto sshca_env = proc_environ(sshca);
    for (const auto& [name, v] : sshca_needs) {
        EXPECT_EQ(sshca_env.count(name) ? sshca_env.at(name) : "(unset)", v) << name;
        EXPECT_EQ(moneta_env.count(name), 0U) << name << " in moneta's environment";
    }
    for (const auto& [name, v] : moneta_needs) {
        EXPECT_EQ(sshca_env.count(name), 0U) << name << " in sshca's environment";
    }
    for (const char* key : {"user_ca.key", "host_ca.key"}) {
        const auto file = dir_.path() / "sshca/keys" / key;
        EXPECT_TRUE(is_private(file, fs::perms::owner_read | fs::perms::owner_write)) << key;
        EXPECT_EQ(testing::read_file(file).rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----", 0), 0U) << key;
    }
    EXPECT_NE(first.output.find("http://127.0.0.1:" + env("SSHCA_PORT")), std::string::npos) << first.output;
    auto token = run_dev({"token", "--sshca", "--sub", "alice", "--groups", "video-eng"}, env_, dir_.file("token.log"), 60s);
    ASSERT_EQ(token.status, 0) << token.output;
    while (!token.output.empty() && token.output.back() == '\n') {
        token.output.pop_back();
    }
    const auto me = testing::http_call(static_cast<std::uint16_t>(std::stoi(env("SSHCA_PORT"))), "GET", "/v1/me", {},
                                       {{"Authorization", "Bearer " + token.output}});
    EXPECT_EQ(me.status, 200) << me.body;
    EXPECT_NE(me.body.find("\"user\":\"alice\""), std::string::npos) << me.body;
    EXPECT_NE(me.body.find("zone-video-prod"), std::string::npos) << me.body;

    // README's path from a login to an ssh session, through ./dev sshca, into the demo sshd
    // (which trusts only the CA; its host certificate is checked through known_hosts' CA line).
    Env cli = env_;
    cli.emplace_back("SSHCA_TOKEN", token.output);
    cli.emplace_back("SSHCA_HOME", (dir_.path() / "cli-home").string());
    cli.emplace_back("SSH_AUTH_SOCK", "");
    const auto login = run_dev({"sshca", "login"}, cli, dir_.file("login.log"), 60s);
    ASSERT_EQ(login.status, 0) << login.output;
    EXPECT_NE(login.output.find("zone-video-dev"), std::string::npos) << login.output;
    const auto cert_status = run_dev({"sshca", "status"}, cli, dir_.file("sshca-status.log"), 60s);
    EXPECT_EQ(cert_status.status, 0) << cert_status.output;
    EXPECT_NE(cert_status.output.find("user=alice groups=video-eng"), std::string::npos) << cert_status.output;
    const auto hello = run_dev({"sshca", "ssh", "-p", env("SSHCA_DEMO_SSH_PORT"), "-o",
                                "UserKnownHostsFile=" + (dir_.path() / "sshd/known_hosts").string(), "-o",
                                "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", user_name() + "@127.0.0.1",
                                "echo", "hello-from-sshd"},
                               cli, dir_.file("ssh.log"), 60s);
    EXPECT_EQ(hello.status, 0) << hello.output;
    EXPECT_NE(hello.output.find("hello-from-sshd"), std::string::npos) << hello.output;
    const auto logged_out = run_dev({"sshca", "logout"}, cli, dir_.file("logout.log"), 60s);
    EXPECT_EQ(logged_out.status, 0) << logged_out.output;
    EXPECT_FALSE(fs::exists(dir_.path() / "cli-home/id_ed25519-cert.pub"));

    const auto owner_rw = fs::perms::owner_read | fs::perms::owner_write;
    EXPECT_TRUE(is_private(dir_.path() / "run/redis.conf", owner_rw));
    EXPECT_NE(testing::read_file(dir_.path() / "run/redis.conf").find("requirepass " + value["redis_password"]),
              std::string::npos);
    for (const char* f : {"nginx.conf", "edge_token.map", "cdn_origin_secret.map"}) {
        EXPECT_TRUE(is_private(dir_.path() / "run/nginx" / f, owner_rw)) << f;
    }
    const auto redis_port = static_cast<std::uint16_t>(std::stoi(env("MONETA_REDIS_PORT")));
    const auto noauth = testing::raw_exchange(redis_port, "PING\r\n", 300ms);
    EXPECT_EQ(noauth.rfind("-NOAUTH", 0), 0U) << noauth;

    // ---- kill -9 moneta; nobody reaps it: `./dev up` must start a new one --------------------
    ASSERT_EQ(::kill(moneta, SIGKILL), 0);
    ASSERT_TRUE(testing::wait_until([&] { return proc_state(moneta) == 'Z'; }, 10s, "moneta to be a zombie"));
    const auto status = run_dev({"status"}, env_, dir_.file("status.log"), 60s);
    EXPECT_NE(status.output.find("moneta        stopped"), std::string::npos) << status.output;
    EXPECT_NE(status.output.find("nginx         running"), std::string::npos) << status.output;

    auto second = up("up2.log");
    ASSERT_EQ(second.status, 0) << second.output;
    EXPECT_EQ(second.output.find("moneta already running"), std::string::npos) << second.output;
    EXPECT_NE(second.output.find("starting moneta"), std::string::npos) << second.output;
    EXPECT_NE(second.output.find("nginx already running"), std::string::npos) << second.output;
    const pid_t restarted = pidfile_pid(pidfile("moneta"));
    EXPECT_NE(restarted, moneta);
    EXPECT_EQ(proc_state(moneta), 'Z');  // the old one is still unreaped: the verdict did not need it gone
    EXPECT_TRUE(curl_gives_201(second.output));

    // ---- ./dev down stops everything (and does not wait out its timeouts for zombies) --------
    std::vector<pid_t> pids;
    for (const auto& name : kServices) {
        pids.push_back(pidfile_pid(pidfile(name)));
    }
    const auto began = std::chrono::steady_clock::now();
    const auto down = run_dev({"down"}, env_, dir_.file("down.log"), 120s);
    ASSERT_EQ(down.status, 0) << down.output;
    EXPECT_EQ(down.output.find("did not stop"), std::string::npos) << down.output;
    EXPECT_LT(std::chrono::steady_clock::now() - began, 40s) << down.output;
    for (std::size_t i = 0; i < kServices.size(); ++i) {
        SCOPED_TRACE(kServices[i]);
        EXPECT_FALSE(fs::exists(pidfile(kServices[i])));
        const auto state = proc_state(pids[i]);
        EXPECT_TRUE(!state || *state == 'Z') << "still running: pid " << pids[i] << " state " << *state;
    }
    for (const char* port : {"MONETA_EDGE_PORT", "MONETA_PORT", "MONETA_ADMIN_PORT", "INTERNAL_API_PORT",
                             "MONETA_REDIS_PORT", "MONETA_EDGE_STATUS_PORT", "MONETA_EXPORTER_PORT",
                             "MONETA_PROMETHEUS_PORT", "MONETA_ALERTMANAGER_PORT"}) {
        EXPECT_FALSE(testing::tcp_port_open(static_cast<std::uint16_t>(std::stoi(env(port))))) << port;
    }
    const auto after = run_dev({"status"}, env_, dir_.file("status2.log"), 60s);
    EXPECT_EQ(after.output.find("running"), std::string::npos) << after.output;
}

// ./dev up --cluster on moved ports: the cluster formed (3 masters, 3 replicas, every slot), two
// moneta instances in cluster mode behind nginx, a start through nginx, a second up that keeps the
// formed cluster, a plain `./dev up` refused while it runs, a killed master replaced by its replica
// (status shows it) and restarted by the next up, and `./dev down` stopping all of it.
TEST_F(DevUpTest, ClusterUpFormsTheClusterAndTwoInstancesAndDownStopsAll) {
    const int base = free_cluster_base();
    ASSERT_GT(base, 0) << "no six free ports with free bus ports";
    env_.emplace_back("MONETA_CLUSTER_PORT", std::to_string(base));
    env_.emplace_back("MONETA_PORT_2", std::to_string(testing::free_port()));
    env_.emplace_back("MONETA_ADMIN_PORT_2", std::to_string(testing::free_port()));
    services_ = {"nginx", "moneta", "moneta_2", "internal_api", "stack_exporter", "prometheus", "alertmanager"};
    std::vector<std::string> node_ports;
    for (int i = 0; i < 6; ++i) {
        node_ports.push_back(std::to_string(base + i));
        services_.push_back("redis-cluster-" + node_ports.back());
    }

    auto first = run_dev({"up", "--cluster"}, env_, dir_.file("up1.log"), 300s);
    remember_pids();
    ASSERT_EQ(first.status, 0) << first.output;
    EXPECT_NE(first.output.find("forming the redis cluster"), std::string::npos) << first.output;
    EXPECT_NE(first.output.find("http://127.0.0.1:" + env("MONETA_PORT_2")), std::string::npos) << first.output;
    for (const auto& port : node_ports) {
        EXPECT_NE(first.output.find("127.0.0.1:" + port), std::string::npos) << port;
    }
    EXPECT_TRUE(curl_gives_201(first.output));
    EXPECT_EQ(testing::read_file(dir_.path() / "run/mode"), "cluster\n");

    // Both instances: cluster mode with the six seeds, each on its own ports, both in nginx's upstream.
    std::string seeds;
    for (const auto& port : node_ports) {
        seeds += (seeds.empty() ? "" : ",") + std::string("127.0.0.1:") + port;
    }
    const auto nginx_conf = testing::read_file(dir_.path() / "run/nginx/nginx.conf");
    const std::tuple<std::string, std::string, std::string> instances[] = {
        {"moneta", "MONETA_PORT", "MONETA_ADMIN_PORT"},
        {"moneta_2", "MONETA_PORT_2", "MONETA_ADMIN_PORT_2"},
    };
    for (const auto& [name, port, admin] : instances) {
        SCOPED_TRACE(name);
        const pid_t pid = pidfile_pid(pidfile(name));
        ASSERT_GT(pid, 0);
        const auto e = proc_environ(pid);
        EXPECT_EQ(e.count("MONETA_REDIS_MODE") ? e.at("MONETA_REDIS_MODE") : "(unset)", "cluster");
        EXPECT_EQ(e.count("MONETA_REDIS_NODES") ? e.at("MONETA_REDIS_NODES") : "(unset)", seeds);
        EXPECT_EQ(e.count("MONETA_PORT") ? e.at("MONETA_PORT") : "(unset)", env(port));
        EXPECT_EQ(e.count("MONETA_ADMIN_PORT") ? e.at("MONETA_ADMIN_PORT") : "(unset)", env(admin));
        const auto ready = testing::http_call(static_cast<std::uint16_t>(std::stoi(env(admin))), "GET", "/readyz");
        EXPECT_EQ(ready.status, 200) << ready.error;
        EXPECT_NE(nginx_conf.find("server 127.0.0.1:" + env(port) + " "), std::string::npos);
    }

    // Each node: its config private with the password for clients and for replication.
    auto password = testing::read_file(secret("redis_password"));
    while (!password.empty() && password.back() == '\n') {
        password.pop_back();
    }
    for (const auto& port : node_ports) {
        const auto conf = dir_.path() / "run/redis-cluster" / (port + ".conf");
        EXPECT_TRUE(is_private(conf, fs::perms::owner_read | fs::perms::owner_write)) << port;
        const auto text = testing::read_file(conf);
        EXPECT_NE(text.find("requirepass " + password), std::string::npos) << port;
        EXPECT_NE(text.find("masterauth "), std::string::npos) << port;
        EXPECT_NE(text.find("cluster-enabled yes"), std::string::npos) << port;
        EXPECT_NE(text.find("appendfsync everysec"), std::string::npos) << port;
        const auto noauth = testing::raw_exchange(static_cast<std::uint16_t>(std::stoi(port)), "PING\r\n", 300ms);
        EXPECT_EQ(noauth.rfind("-NOAUTH", 0), 0U) << port << ": " << noauth;
    }

    const auto status = run_dev({"status"}, env_, dir_.file("status.log"), 60s);
    EXPECT_NE(status.output.find("cluster_state:ok"), std::string::npos) << status.output;
    EXPECT_EQ(count_of(status.output, "master   slots"), 3U) << status.output;
    EXPECT_EQ(count_of(status.output, "replica  of"), 3U) << status.output;
    EXPECT_NE(status.output.find("moneta_2      running"), std::string::npos) << status.output;

    // Again: everything already running, the formed cluster kept (never created twice).
    auto second = run_dev({"up", "--cluster"}, env_, dir_.file("up2.log"), 300s);
    ASSERT_EQ(second.status, 0) << second.output;
    EXPECT_NE(second.output.find("already formed"), std::string::npos) << second.output;
    EXPECT_EQ(second.output.find("forming"), std::string::npos) << second.output;
    // A single-Redis up would leave both instances on the cluster: refused.
    auto single = run_dev({"up"}, env_, dir_.file("up3.log"), 60s);
    EXPECT_NE(single.status, 0);
    EXPECT_NE(single.output.find("./dev down first"), std::string::npos) << single.output;

    // kill -9 of a master (left unreaped: a zombie): its replica takes its slots, status shows the
    // dead node and keeps going; the next up restarts it into the same cluster.
    const pid_t master = pidfile_pid(pidfile("redis-cluster-" + node_ports[0]));
    ASSERT_GT(master, 0);
    ASSERT_EQ(::kill(master, SIGKILL), 0);
    std::string after_kill;
    EXPECT_TRUE(testing::wait_until(
        [&] {
            after_kill = run_dev({"status"}, env_, dir_.file("status_kill.log"), 60s).output;
            return after_kill.find("cluster_state:ok") != std::string::npos &&
                   count_of(after_kill, "master   slots") == 3U;
        },
        30s, "a replica to take the killed master's slots"))
        << after_kill;
    EXPECT_TRUE(std::regex_search(after_kill, std::regex("\\n  " + node_ports[0] + " +stopped +no answer\\n")))
        << after_kill;
    auto third = run_dev({"up", "--cluster"}, env_, dir_.file("up4.log"), 300s);
    remember_pids();
    ASSERT_EQ(third.status, 0) << third.output;
    EXPECT_NE(third.output.find("starting redis-cluster-" + node_ports[0]), std::string::npos) << third.output;
    EXPECT_NE(third.output.find("already formed"), std::string::npos) << third.output;
    std::string rejoined;
    EXPECT_TRUE(testing::wait_until(
        [&] {
            rejoined = run_dev({"status"}, env_, dir_.file("status_rejoin.log"), 60s).output;
            return count_of(rejoined, "master   slots") == 3U && count_of(rejoined, "replica  of") == 3U;
        },
        30s, "the restarted node to rejoin as a replica"))
        << rejoined;

    std::vector<pid_t> pids;
    for (const auto& name : services_) {
        pids.push_back(pidfile_pid(pidfile(name)));
        EXPECT_GT(pids.back(), 0) << name;
    }
    const auto down = run_dev({"down"}, env_, dir_.file("down.log"), 120s);
    ASSERT_EQ(down.status, 0) << down.output;
    EXPECT_EQ(down.output.find("did not stop"), std::string::npos) << down.output;
    for (std::size_t i = 0; i < services_.size(); ++i) {
        SCOPED_TRACE(services_[i]);
        EXPECT_FALSE(fs::exists(pidfile(services_[i])));
        const auto state = proc_state(pids[i]);
        EXPECT_TRUE(!state || *state == 'Z') << "still running: pid " << pids[i] << " state " << *state;
    }
    for (const auto& port : node_ports) {
        EXPECT_FALSE(testing::tcp_port_open(static_cast<std::uint16_t>(std::stoi(port)))) << port;
    }
    EXPECT_FALSE(fs::exists(dir_.path() / "run/mode"));
    EXPECT_TRUE(fs::exists(dir_.path() / "redis-cluster" / node_ports[0] / "nodes.conf"));  // kept for the next up
}

}  // namespace
}  // namespace moneta::dev_test
