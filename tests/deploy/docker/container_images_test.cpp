// deploy/docker and compose.yaml (docs/containers.md). Two halves:
// - ContainerFilesTest (no podman): the Dockerfiles' rules (Debian base by build arg, Release
//   builder, runtime packages from packages.txt, non-root, healthcheck, stop signal), that
//   packages.txt covers what the binaries load (ldd + dpkg -S), and that compose.yaml holds no
//   secret.
// - ContainerStackTest: the images built by podman from a Debian base made here with debootstrap,
//   the service binaries taken from this build tree (`--target prebuilt`), then redis,
//   internal_api, moneta and the edge run read-only, as non-root, on the host's loopback; a
//   playback start through the edge with a real token; SIGTERM drains moneta with status 0.
//   Where podman cannot run a container here it says why and skips (GTEST_SKIP), never passes.
#include <gtest/gtest.h>

#include <sys/types.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "moneta/jwt/verifier.hpp"
#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"
#include "podman.hpp"

namespace moneta::docker_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_source(const std::string& rel) { return testing::read_file(testing::source_dir() / rel); }

/// The stages of a Dockerfile: name ("" for an unnamed one) → its text, FROM line included.
std::vector<std::pair<std::string, std::string>> stages(const std::string& dockerfile) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(dockerfile);
    std::string line;
    const std::regex from(R"(^FROM\s+\S+(?:\s+AS\s+(\S+))?\s*$)", std::regex::icase);
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, from)) {
            out.emplace_back(m[1].str(), "");
        }
        if (!out.empty()) {
            out.back().second += line + "\n";
        }
    }
    return out;
}

/// The lines after @p header (a line of its own) that are indented deeper than it.
std::string yaml_block(const std::string& text, const std::string& header) {
    std::istringstream in(text);
    std::string line;
    std::string out;
    bool inside = false;
    const auto indent = header.find_first_not_of(' ');
    while (std::getline(in, line)) {
        if (!inside) {
            inside = line == header;
            continue;
        }
        const auto first = line.find_first_not_of(' ');
        if (first != std::string::npos && first <= indent && line[first] != '#') {
            break;
        }
        out += line + "\n";
    }
    return out;
}

std::string stage(const std::string& dockerfile, const std::string& name) {
    for (auto& [n, text] : stages(dockerfile)) {
        if (n == name) {
            return text;
        }
    }
    return {};
}

// ---- the files ---------------------------------------------------------------------------------

TEST(ContainerFilesTest, EveryImageHasADebianBaseArgANonRootUserAHealthcheckAndAStopSignal) {
    for (const std::string name : {"moneta", "internal_api", "redis", "edge"}) {
        SCOPED_TRACE(name);
        const std::string text = read_source("deploy/docker/" + name + ".Dockerfile");
        ASSERT_FALSE(text.empty());
        // The base is a build arg defaulting to Debian 12 slim, declared before the first FROM.
        const auto arg = text.find("ARG BASE_IMAGE=debian:12-slim\n");
        ASSERT_NE(arg, std::string::npos);
        EXPECT_LT(arg, text.find("\nFROM "));
        for (auto& [stage_name, body] : stages(text)) {
            EXPECT_TRUE(body.rfind("FROM ${BASE_IMAGE}", 0) == 0 || body.rfind("FROM runtime ", 0) == 0)
                << "stage " << stage_name << " starts from something else: " << body.substr(0, 60);
        }
        // The image that runs: the last stage, or the runtime stage the last one builds on.
        const std::string run_stage = stage(text, "runtime").empty() ? stages(text).back().second
                                                                      : stage(text, "runtime");
        std::smatch user;
        ASSERT_TRUE(std::regex_search(run_stage, user, std::regex(R"(\nUSER\s+(\S+))")));
        EXPECT_NE(user[1].str().substr(0, user[1].str().find(':')), "0");
        EXPECT_NE(user[1].str().substr(0, user[1].str().find(':')), "root");
        EXPECT_NE(run_stage.find("\nHEALTHCHECK "), std::string::npos);
        EXPECT_NE(run_stage.find("\nSTOPSIGNAL "), std::string::npos);
        EXPECT_NE(run_stage.find("\nENTRYPOINT [\"/usr/local/bin/moneta-entrypoint\"]"), std::string::npos);
        // Runtime libraries only: the packages of its own line in packages.txt, no compiler, no curl.
        const std::string key = name;
        EXPECT_NE(run_stage.find("sed -n 's/^" + key + ": *//p' /tmp/packages.txt"), std::string::npos);
        EXPECT_EQ(run_stage.find("^build:"), std::string::npos);
        EXPECT_EQ(run_stage.find("curl"), std::string::npos);
        EXPECT_FALSE(listed_packages(key).empty()) << "no '" << key << ":' line in packages.txt";
    }
    for (const std::string& pkg : listed_packages("moneta")) {
        EXPECT_EQ(pkg.find("-dev"), std::string::npos) << pkg;
    }
}

TEST(ContainerFilesTest, ServiceImagesDefaultToAReleaseBuildSharedByBothDockerfiles) {
    const std::string moneta = read_source("deploy/docker/moneta.Dockerfile");
    const std::string internal_api = read_source("deploy/docker/internal_api.Dockerfile");
    const std::string builder = stage(moneta, "builder");
    ASSERT_FALSE(builder.empty());
    // Byte for byte the same stage: the second image's build is a cache hit of the first one's.
    EXPECT_EQ(builder, stage(internal_api, "builder"));
    EXPECT_NE(builder.find("sed -n 's/^build: *//p' /tmp/packages.txt"), std::string::npos);
    EXPECT_NE(builder.find("-DCMAKE_BUILD_TYPE=Release"), std::string::npos);
    EXPECT_NE(builder.find("-DMONETA_BUILD_TESTS=OFF"), std::string::npos);
    for (const auto& [name, text] : {std::pair{std::string("moneta"), moneta}, std::pair{std::string("internal_api"), internal_api}}) {
        SCOPED_TRACE(name);
        const auto all = stages(text);
        ASSERT_GE(all.size(), 4u);
        // The default target (the last stage) takes the binary from the builder; `prebuilt` from
        // the `bin` build context; both on the same runtime stage.
        EXPECT_EQ(all.back().first, name);
        EXPECT_NE(all.back().second.find("FROM runtime AS " + name), std::string::npos);
        EXPECT_NE(all.back().second.find("COPY --from=builder /out/" + name + " /usr/local/bin/" + name),
                  std::string::npos);
        const std::string prebuilt = stage(text, "prebuilt");
        EXPECT_NE(prebuilt.find("FROM runtime AS prebuilt"), std::string::npos);
        EXPECT_NE(prebuilt.find("COPY --from=bin " + name + " /usr/local/bin/" + name), std::string::npos);
        EXPECT_NE(builder.find("/build/services/" + name + "/" + name + " /out/" + name), std::string::npos);
    }
    // internal_api writes its SQLite file, and only there: a declared volume.
    EXPECT_NE(stage(internal_api, "runtime").find("VOLUME [\"/var/lib/internal_api\"]"), std::string::npos);
    EXPECT_EQ(stage(moneta, "runtime").find("VOLUME"), std::string::npos);
}

TEST(ContainerFilesTest, RuntimePackagesCoverWhatTheBinariesLoad) {
    // The binaries of this build tree (ASan in ./dev test: then libasan8 and libubsan1 are the
    // only packages allowed beyond the list; the test's images get them as EXTRA_PACKAGES).
    const std::set<std::string> sanitizer = {"libasan8", "libubsan1"};
    for (const auto& [name, rel] : {std::pair{std::string("moneta"), std::string("services/moneta/moneta")},
                                    std::pair{std::string("internal_api"), std::string("services/internal_api/internal_api")}}) {
        SCOPED_TRACE(name);
        std::string error;
        const auto needed = runtime_packages_of(testing::binary_dir() / rel, error);
        ASSERT_TRUE(needed) << error;
        ASSERT_FALSE(needed->empty());
        const auto listed = listed_packages(name);
        for (const auto& pkg : *needed) {
            if (pkg == "libc6" || sanitizer.count(pkg) > 0) {
                continue;
            }
            EXPECT_NE(std::find(listed.begin(), listed.end(), pkg), listed.end())
                << name << " loads a library of " << pkg << ", which packages.txt's '" << name
                << ":' line lacks";
        }
    }
}

TEST(ContainerFilesTest, ComposeTakesSecretsFromFilesAndRunsEveryServiceReadOnly) {
    const std::string compose = read_source("compose.yaml");
    ASSERT_FALSE(compose.empty());
    // Every secret the services read is a compose secret backed by a file, never a value here.
    for (const std::string name : {"MONETA_JWT_SECRET", "INTERNAL_API_TOKEN", "MONETA_REDIS_PASSWORD",
                                   "MONETA_EDGE_TOKEN", "MONETA_ADMIN_TOKEN", "MONETA_SESSION_KEY",
                                   "MONETA_DRM_SITE_KEY", "MONETA_DRM_ACCESS_KEY", "cdn_key.pem"}) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(std::regex_search(compose, std::regex("\n  " + std::regex_replace(name, std::regex(R"(\.)"), R"(\.)") +
                                                          R"(:\n    file: \S+)")));
        EXPECT_FALSE(std::regex_search(compose, std::regex(name + R"(\s*[=:]\s*[A-Za-z0-9_-]{8,})")))
            << "a value for " << name << " in compose.yaml";
    }
    for (const std::string service : {"redis", "internal-api", "moneta", "edge"}) {
        SCOPED_TRACE(service);
        const std::string body = yaml_block(compose, "  " + service + ":");
        ASSERT_FALSE(body.empty());
        EXPECT_NE(body.find("read_only: true"), std::string::npos);
        EXPECT_NE(body.find("- /tmp"), std::string::npos);
        EXPECT_NE(body.find("BASE_IMAGE: ${MONETA_BASE_IMAGE:-debian:12-slim}"), std::string::npos);
        EXPECT_EQ(body.find("environment:\n      MONETA_JWT_SECRET"), std::string::npos);
    }
    // Redis as ./dev up runs it: append-only file, fsync every second.
    const std::string redis = read_source("deploy/docker/redis-start.sh");
    EXPECT_NE(redis.find("appendonly yes"), std::string::npos);
    EXPECT_NE(redis.find("appendfsync everysec"), std::string::npos);
}

// ---- the images, run ---------------------------------------------------------------------------

class ContainerStackTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string why;
        auto p = Podman::open(testing::binary_dir() / "tests/deploy/docker/podman", why);
        if (!p) {
            GTEST_SKIP() << "container test skipped: " << why;
        }
        podman_.emplace(std::move(*p));
        std::printf("[ containers ] %s\n", podman_->description().c_str());
    }

    void TearDown() override {
        if (!podman_) {
            return;
        }
        // By id, newest first; volumes made for this test go with their containers (-v).
        for (auto it = containers_.rbegin(); it != containers_.rend(); ++it) {
            if (HasFailure()) {
                auto logs = (*podman_)({"logs", "--tail", "40", it->second}, 60s);
                std::printf("---- %s (last lines) ----\n%s\n", it->first.c_str(), logs.output.c_str());
            }
            (void)(*podman_)({"rm", "-f", "-v", "-t", "0", it->second}, 120s);
        }
    }

    /// podman build of deploy/docker/<file>.Dockerfile (context: the source tree).
    ::testing::AssertionResult build(const std::string& file, const std::string& tag,
                                     std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"build", "--format", "docker", "--network", "host", "--build-arg",
                                         "BASE_IMAGE=" + podman_->base_image(), "-f",
                                         (testing::source_dir() / ("deploy/docker/" + file + ".Dockerfile")).string(),
                                         "-t", tag};
        for (auto& f : podman_->resource_flags()) {
            args.push_back(f);
        }
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(testing::source_dir().string());
        const auto started = std::chrono::steady_clock::now();
        auto r = (*podman_)(args, 900s);
        std::printf("[ containers ] built %s in %lld s\n", tag.c_str(),
                    static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count()));
        if (!r.ok()) {
            return ::testing::AssertionFailure() << "podman build " << file << ": "
                                                 << r.output.substr(r.output.size() > 4000 ? r.output.size() - 4000 : 0);
        }
        return ::testing::AssertionSuccess();
    }

    /// podman run -d: read-only root, only /tmp writable (tmpfs), the host's network (loopback
    /// ports), each secret file mounted at /run/secrets/<name>. @return the container id.
    std::string run(const std::string& name, const std::string& image, const std::map<std::string, std::string>& env,
                    const std::vector<std::string>& secrets) {
        std::vector<std::string> args = {"run", "-d", "--name", name, "--network", "host", "--read-only",
                                         "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,size=64m,mode=1777",
                                         "--health-interval", "disable"};
        for (auto& f : podman_->resource_flags()) {
            args.push_back(f);
        }
        for (const auto& [k, v] : env) {
            args.insert(args.end(), {"-e", k + "=" + v});
        }
        for (const auto& s : secrets) {
            args.insert(args.end(), {"-v", secrets_.file(s).string() + ":/run/secrets/" + s + ":ro"});
        }
        args.push_back(image);
        auto r = (*podman_)(args, 120s);
        if (!r.ok()) {
            ADD_FAILURE() << "podman run " << name << ": " << r.output;
            return {};
        }
        // The id is the last line (podman may log warnings before it).
        std::string id = r.output;
        while (!id.empty() && id.back() == '\n') {
            id.pop_back();
        }
        id = id.substr(id.rfind('\n') == std::string::npos ? 0 : id.rfind('\n') + 1);
        containers_.emplace_back(name, id);
        return id;
    }

    std::string inspect(const std::string& id, const std::string& format) {
        auto r = (*podman_)({"inspect", "--format", format, id}, 60s);
        std::string out = r.output;
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
            out.pop_back();
        }
        out = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
        return out;
    }

    /// The image's own HEALTHCHECK, run by podman (no systemd timers here), until it passes.
    [[nodiscard]] ::testing::AssertionResult wait_healthy(const std::string& id, std::chrono::seconds timeout) {
        std::string last;
        bool exited = false;
        auto ok = testing::wait_until(
            [&] {
                auto r = (*podman_)({"healthcheck", "run", id}, 30s);
                last = r.output;
                // A container that exited will never be healthy: stop waiting.
                exited = !r.ok() && inspect(id, "{{.State.Running}}") == "false";
                return r.ok() || exited;
            },
            timeout, "healthy");
        if (exited) {
            return ::testing::AssertionFailure() << "the container exited (status "
                                                 << inspect(id, "{{.State.ExitCode}}") << ") before it was healthy";
        }
        if (!ok) {
            return ::testing::AssertionFailure() << ok.message() << "; last healthcheck: " << last;
        }
        return ::testing::AssertionSuccess();
    }

    void write_secret(const std::string& name, const std::string& value) {
        std::ofstream(secrets_.file(name)) << value << "\n";
        fs::permissions(secrets_.file(name), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                                 fs::perms::others_read);
    }

    std::optional<Podman> podman_;
    std::vector<std::pair<std::string, std::string>> containers_;  ///< name, id
    testing::TempDir secrets_{"docker-secrets-"};
};

std::string random_token(std::size_t n) {
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device rd;
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += kAlphabet[rd() % (sizeof kAlphabet - 1)];
    }
    return s;
}

TEST_F(ContainerStackTest, ImagesServePlaybackReadOnlyAsNonRootAndMonetaDrainsOnSigterm) {
    // ---- images: the service binaries of this build tree, the rest as shipped ----
    testing::TempDir bin("docker-bin-");
    std::set<std::string> extra;
    for (const auto& rel : {"services/moneta/moneta", "services/internal_api/internal_api"}) {
        const fs::path binary = testing::binary_dir() / rel;
        ASSERT_TRUE(fs::exists(binary)) << binary;
        fs::copy_file(binary, bin.path() / binary.filename());
        std::string error;
        const auto pkgs = runtime_packages_of(binary, error);
        ASSERT_TRUE(pkgs) << error;
        for (const auto& p : *pkgs) {
            if (p == "libasan8" || p == "libubsan1") {
                extra.insert(p);
            }
        }
    }
    std::string extra_packages;
    for (const auto& p : extra) {
        extra_packages += (extra_packages.empty() ? "" : " ") + p;
    }
    const std::vector<std::string> prebuilt = {"--target", "prebuilt", "--build-context", "bin=" + bin.path().string(),
                                               "--build-arg", "EXTRA_PACKAGES=" + extra_packages};
    ASSERT_TRUE(build("moneta", "localhost/moneta:test", prebuilt));
    ASSERT_TRUE(build("internal_api", "localhost/moneta-internal-api:test", prebuilt));
    ASSERT_TRUE(build("redis", "localhost/moneta-redis:test"));
    ASSERT_TRUE(build("edge", "localhost/moneta-edge:test"));
    // The healthcheck survives the build (an OCI-format image would drop it).
    for (const std::string image : {"localhost/moneta:test", "localhost/moneta-internal-api:test"}) {
        auto hc = (*podman_)({"image", "inspect", "--format", "{{json .HealthCheck}}", image}, 60s);
        EXPECT_NE(hc.output.find("moneta-probe"), std::string::npos) << image << ": " << hc.output;
    }

    // ---- secrets, as compose's file secrets: one file each, mounted at /run/secrets/<name> ----
    const std::string jwt_secret = random_token(48);
    write_secret("MONETA_JWT_SECRET", jwt_secret);
    write_secret("INTERNAL_API_TOKEN", "it-" + random_token(32));
    write_secret("MONETA_REDIS_PASSWORD", random_token(32));
    write_secret("MONETA_EDGE_TOKEN", random_token(40));
    write_secret("MONETA_ADMIN_TOKEN", random_token(40));
    write_secret("MONETA_SESSION_KEY", random_token(40));
    write_secret("MONETA_DRM_SITE_KEY", random_token(32));
    write_secret("MONETA_DRM_ACCESS_KEY", random_token(32));
    auto key = run_command({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                            secrets_.file("cdn_key.pem").string()},
                           60s);
    ASSERT_TRUE(key.ok()) << key.output;
    fs::permissions(secrets_.file("cdn_key.pem"), fs::perms::others_read | fs::perms::group_read, fs::perm_options::add);

    // ---- the stack on free loopback ports ----
    const auto redis_port = std::to_string(testing::free_port());
    const auto ia_port = std::to_string(testing::free_port());
    const auto moneta_port = std::to_string(testing::free_port());
    const auto admin_port = std::to_string(testing::free_port());
    const auto edge_port = std::to_string(testing::free_port());
    const auto status_port = std::to_string(testing::free_port());
    const std::string tag = std::to_string(::getpid());
    const std::string asan = "detect_leaks=0:abort_on_error=0";  // LeakSanitizer needs ptrace

    const auto redis = run("moneta-test-redis-" + tag, "localhost/moneta-redis:test",
                           {{"MONETA_REDIS_PORT", redis_port}}, {"MONETA_REDIS_PASSWORD"});
    const auto ia = run("moneta-test-internal-api-" + tag, "localhost/moneta-internal-api:test",
                        {{"INTERNAL_API_PORT", ia_port}, {"INTERNAL_API_ADDRESS", "127.0.0.1"}, {"ASAN_OPTIONS", asan}},
                        {"INTERNAL_API_TOKEN"});
    ASSERT_FALSE(redis.empty());
    ASSERT_FALSE(ia.empty());
    ASSERT_TRUE(wait_healthy(redis, 60s));
    ASSERT_TRUE(wait_healthy(ia, 120s));
    const auto moneta = run("moneta-test-moneta-" + tag, "localhost/moneta:test",
                            {{"MONETA_ADDRESS", "127.0.0.1"},
                             {"MONETA_ADMIN_ADDRESS", "127.0.0.1"},
                             {"MONETA_PORT", moneta_port},
                             {"MONETA_ADMIN_PORT", admin_port},
                             {"MONETA_THREADS", "2"},
                             {"MONETA_REDIS_HOST", "127.0.0.1"},
                             {"MONETA_REDIS_PORT", redis_port},
                             {"INTERNAL_API_HOST", "localhost"},  // a name, resolved as in compose
                             {"INTERNAL_API_PORT", ia_port},
                             {"MONETA_START_RATE_PER_MIN", "0"},
                             {"ASAN_OPTIONS", asan}},
                            {"MONETA_JWT_SECRET", "INTERNAL_API_TOKEN", "MONETA_REDIS_PASSWORD", "MONETA_EDGE_TOKEN",
                             "MONETA_ADMIN_TOKEN", "MONETA_SESSION_KEY", "MONETA_DRM_SITE_KEY", "MONETA_DRM_ACCESS_KEY",
                             "cdn_key.pem"});
    ASSERT_FALSE(moneta.empty());
    ASSERT_TRUE(wait_healthy(moneta, 120s));
    const auto edge = run("moneta-test-edge-" + tag, "localhost/moneta-edge:test",
                          {{"MONETA_UPSTREAM", "127.0.0.1:" + moneta_port},
                           {"MONETA_EDGE_PORT", edge_port},
                           {"MONETA_EDGE_STATUS_PORT", status_port}},
                          {"MONETA_EDGE_TOKEN"});
    ASSERT_FALSE(edge.empty());
    ASSERT_TRUE(wait_healthy(edge, 60s));

    // ---- non-root, read-only root ----
    for (const auto& [name, id] : containers_) {
        SCOPED_TRACE(name);
        EXPECT_EQ(inspect(id, "{{.HostConfig.ReadonlyRootfs}}"), "true");
        // The service itself (PID 1 in the container, seen from the host), not the image's word.
        const std::string pid = inspect(id, "{{.State.Pid}}");
        const std::string status = testing::read_file("/proc/" + pid + "/status");
        std::smatch uid;
        ASSERT_TRUE(std::regex_search(status, uid, std::regex(R"(\nUid:\s+(\d+)\s+(\d+))"))) << status;
        EXPECT_NE(uid[1].str(), "0");
        EXPECT_NE(uid[2].str(), "0");
        auto write = (*podman_)({"exec", id, "/bin/sh", "-c", "touch /usr/local/bin/x"}, 60s);
        EXPECT_FALSE(write.ok());
        EXPECT_NE(write.output.find("Read-only file system"), std::string::npos) << write.output;
    }
    EXPECT_EQ(inspect(moneta, "{{.Config.User}}"), "10001:10001");

    // ---- a playback start through the edge, with a token signed by the container's secret ----
    auto signer = jwt::Signer::hs256("dev", jwt_secret);
    ASSERT_TRUE(signer) << signer.error();
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string token = signer->sign(R"({"sub":"a_1","pid":"p_1","iss":"moneta-dev","aud":"moneta","iat":)" +
                                           std::to_string(now) + R"(,"exp":)" + std::to_string(now + 600) + "}");
    const std::string body =
        R"({"content_id":"m_1","device":{"id":"d-1","type":"web","name":"Laptop"},"capabilities":{"protocols":["dash"],"drm":["widevine"],"video_codecs":["avc"],"max_height":1080}})";
    auto started = testing::http_call(static_cast<std::uint16_t>(std::stoi(edge_port)), "POST", "/v1/playback/sessions",
                                      body, {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}},
                                      10s);
    ASSERT_EQ(started.status, 201) << started.error << started.body;
    EXPECT_NE(started.body.find("\"session_id\":\"ps_"), std::string::npos) << started.body;
    // Without the token: refused (the start above was the token's doing).
    auto anonymous = testing::http_call(static_cast<std::uint16_t>(std::stoi(edge_port)), "POST",
                                        "/v1/playback/sessions", body, {{"Content-Type", "application/json"}}, 10s);
    EXPECT_EQ(anonymous.status, 401) << anonymous.body;

    // ---- SIGTERM: moneta drains and exits 0 well within its deadline (drain_ms 10 s + final
    // flush 10 s); podman would SIGKILL after 25 s and the status would be 137 ----
    const auto stop_started = std::chrono::steady_clock::now();
    auto stop = (*podman_)({"stop", "-t", "25", moneta}, 120s);
    const auto took = std::chrono::steady_clock::now() - stop_started;
    ASSERT_TRUE(stop.ok()) << stop.output;
    EXPECT_EQ(inspect(moneta, "{{.State.ExitCode}}"), "0");
    EXPECT_LT(took, 21s);
    auto logs = (*podman_)({"logs", moneta}, 60s);
    EXPECT_NE(logs.output.find("moneta stopping: draining in-flight requests"), std::string::npos) << logs.output;
    EXPECT_NE(logs.output.find("\"message\":\"moneta stopped\""), std::string::npos) << logs.output;
    // The internal API stops on SIGTERM too.
    auto stop_ia = (*podman_)({"stop", "-t", "15", ia}, 120s);
    ASSERT_TRUE(stop_ia.ok()) << stop_ia.output;
    EXPECT_EQ(inspect(ia, "{{.State.ExitCode}}"), "0");
}

}  // namespace
}  // namespace moneta::docker_test
