#include "moneta/testing/stack.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <csignal>
#include <chrono>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "moneta/jwt/verifier.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::testing {

using namespace std::chrono_literals;

std::string random_alnum(std::size_t n) {
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::mt19937_64 gen(rd());
    std::uniform_int_distribution<std::size_t> pick(0, sizeof kChars - 2);
    std::string s(n, 'x');
    for (char& c : s) {
        c = kChars[pick(gen)];
    }
    return s;
}

core::Result<void> write_rsa_private_key(const std::filesystem::path& path) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
    if (!key) {
        return core::make_error(core::Errc::kInternal);
    }
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return core::make_error(core::Errc::kInternal);
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data, len);
    if (!out) {
        return core::make_error(core::Errc::kInternal);
    }
    return {};
}

Stack::Stack(StackOptions options) : opts_(std::move(options)), dir_("stack-") {}

Stack::~Stack() {
    // moneta first (it flushes progress to the internal API), then the rest.
    for (auto& m : instances_) {
        if (m.proc && m.proc->running()) {
            m.proc->stop(10s);
        }
    }
    if (nginx_) {
        nginx_->stop();
    }
    if (internal_api_) {
        internal_api_->stop();
    }
}

std::vector<std::pair<std::string, std::string>> Stack::moneta_environment(int i) const {
    std::vector<std::pair<std::string, std::string>> env{
        {"INTERNAL_API_TOKEN", internal_token_},
        {"MONETA_JWT_SECRET", secret_},
        {"MONETA_PORT", std::to_string(instance(i).port)},
        {"MONETA_ADMIN_PORT", std::to_string(instance(i).admin_port)},
        {"INTERNAL_API_PORT", std::to_string(ia_port_)},
        {"MONETA_THREADS", std::to_string(opts_.moneta_threads)},
        {"MONETA_LOG_FILE", dir_.file(moneta_log_name(i)).string()},
        {"MONETA_CDN_KEY_FILE", dir_.file("cdn_key.pem").string()},
        {"MONETA_DRM_SITE_KEY", "k" + std::string(31, 's')},
        {"MONETA_DRM_ACCESS_KEY", "a" + std::string(31, 'c')},
        {"MONETA_START_RATE_PER_MIN", "0"},
        {"MONETA_REDIS_PASSWORD", redis_password_},
        {"MONETA_EDGE_TOKEN", edge_token_},
        {"MONETA_ADMIN_TOKEN", admin_token_},
        {"MONETA_SESSION_KEY", session_key_},
    };
    if (cluster_) {
        std::string nodes;
        for (std::size_t n = 0; n < cluster_->size(); ++n) {
            nodes += (n == 0 ? "" : ",") + std::string("127.0.0.1:") + std::to_string(cluster_->port(n));
        }
        env.emplace_back("MONETA_REDIS_MODE", "cluster");
        env.emplace_back("MONETA_REDIS_NODES", nodes);
    } else {
        env.emplace_back("MONETA_REDIS_PORT", std::to_string(redis_->port()));
    }
    for (const auto& kv : opts_.moneta_env) {
        std::erase_if(env, [&](const auto& e) { return e.first == kv.first; });
        env.push_back(kv);
    }
    return env;
}

void Stack::pause_redis() {
    if (cluster_) {
        for (std::size_t i = 0; i < cluster_->size(); ++i) {
            cluster_->node(i).pause();
        }
    } else {
        redis_->pause();
    }
}

void Stack::resume_redis() {
    if (cluster_) {
        for (std::size_t i = 0; i < cluster_->size(); ++i) {
            cluster_->node(i).resume();
        }
    } else {
        redis_->resume();
    }
}

::testing::AssertionResult Stack::start() {
    secret_ = random_alnum(40);
    internal_token_ = "it-" + random_alnum(32);
    redis_password_ = random_alnum(32);
    edge_token_ = random_alnum(40);
    admin_token_ = random_alnum(40);
    session_key_ = random_alnum(40);
    cdn_origin_secret_ = random_alnum(40);
    if (auto key = write_rsa_private_key(dir_.file("cdn_key.pem")); !key) {
        return ::testing::AssertionFailure() << "cannot write the CDN key";
    }
    if (opts_.redis_cluster) {
        RedisClusterOptions co;
        co.password = redis_password_;
        co.node_timeout = opts_.cluster_node_timeout;
        auto cluster = RedisCluster::start(co);
        if (!cluster) {
            return ::testing::AssertionFailure() << "redis cluster: " << cluster.error().message();
        }
        cluster_.emplace(std::move(*cluster));
    } else {
        RedisServerOptions ro;
        ro.appendonly = opts_.redis_aof;
        ro.password = redis_password_;
        auto redis = RedisServer::start(ro);
        if (!redis) {
            return ::testing::AssertionFailure() << "redis: " << redis.error().message();
        }
        redis_.emplace(std::move(*redis));
    }
    ia_port_ = free_port();
    if (opts_.moneta_instances < 1 || opts_.moneta_instances > 2) {
        return ::testing::AssertionFailure() << "moneta_instances must be 1 or 2";
    }
    for (int i = 0; i < opts_.moneta_instances; ++i) {
        instance(i).port = free_port();
        instance(i).admin_port = free_port();
    }
    if (auto ok = start_internal_api(); !ok) {
        return ok;
    }
    for (int i = 0; i < opts_.moneta_instances; ++i) {
        if (auto ok = start_moneta(i); !ok) {
            return ok;
        }
    }
    if (!opts_.with_nginx) {
        return ::testing::AssertionSuccess();
    }
    NginxOptions no;
    no.upstream_port = instance(0).port;
    if (opts_.moneta_instances > 1) {
        no.extra_upstream_ports = {instance(1).port};
    }
    no.rate_per_sec = opts_.edge_rate_per_sec;
    no.rate_burst = opts_.edge_rate_burst;
    no.edge_token = edge_token_;
    no.cdn_origin_secret = cdn_origin_secret_;
    nginx_.emplace(no);
    if (auto ok = nginx_->start(); !ok) {
        return ok;
    }
    return wait_until([&] { return http_call(nginx_->port(), "GET", "/readyz", {}, {}, 1s).status == 200; }, 20s,
                      "nginx → moneta /readyz");
}

::testing::AssertionResult Stack::start_internal_api() {
    if (internal_api_ && internal_api_->running()) {
        return ::testing::AssertionFailure() << "internal_api is already running";
    }
    const auto src = source_dir();
    const auto bin = binary_dir();
    const auto fixtures = opts_.fixtures.empty() ? src / "fixtures/demo.json" : opts_.fixtures;
    std::vector<std::string> argv{(bin / "services/internal_api/internal_api").string(),
                                  "--config",
                                  (src / "services/internal_api/config/internal_api.json").string(),
                                  "--port",
                                  std::to_string(ia_port_),
                                  "--db",
                                  dir_.file("ia.sqlite").string(),
                                  "--fixtures",
                                  fixtures.string()};
    if (opts_.internal_api_fault_control) {
        argv.emplace_back("--fault-control");
    }
    // The first start keeps the log name "internal_api.log"; restarts get their own file.
    const std::string log =
        internal_api_starts_ == 0 ? "internal_api.log" : "internal_api." + std::to_string(internal_api_starts_) + ".log";
    ++internal_api_starts_;
    auto ia = Process::spawn(std::move(argv), {{"INTERNAL_API_TOKEN", internal_token_}}, dir_.file(log));
    if (!ia) {
        return ::testing::AssertionFailure() << "internal_api: " << ia.error().message();
    }
    internal_api_.emplace(std::move(*ia));
    if (auto ok = wait_until(
            [&] { return !internal_api_->running() || http_call(ia_port_, "GET", "/healthz", {}, {}, 1s).status == 200; },
            60s, "internal_api /healthz");
        !ok || !internal_api_->running()) {
        return ::testing::AssertionFailure() << "internal_api did not become ready:\n" << internal_api_->read_log();
    }
    return ::testing::AssertionSuccess();
}

void Stack::stop_internal_api() {
    if (internal_api_) {
        internal_api_->stop(20s);
    }
}

bool Stack::internal_api_running() { return internal_api_ && internal_api_->running(); }

::testing::AssertionResult Stack::start_moneta(int i) {
    Instance& m = instance(i);
    if (m.proc && m.proc->running()) {
        return ::testing::AssertionFailure() << "moneta " << i << " is already running";
    }
    const auto src = source_dir();
    const auto bin = binary_dir();
    // Instance 0 keeps the log names "moneta.<n>.log"; instance 1 has "moneta2.<n>.log".
    const std::string log = (i == 0 ? "moneta." : "moneta" + std::to_string(i + 1) + ".") + std::to_string(m.starts++) + ".log";
    auto p = Process::spawn(
        {(bin / "services/moneta/moneta").string(), "--config", (src / "services/moneta/config/moneta.json").string()},
        moneta_environment(i), dir_.file(log));
    if (!p) {
        return ::testing::AssertionFailure() << "moneta: " << p.error().message();
    }
    m.proc.emplace(std::move(*p));
    if (auto ok = wait_until(
            [&] { return !m.proc->running() || http_call(m.port, "GET", "/readyz", {}, {}, 1s).status == 200; },
            60s, "moneta /readyz");
        !ok || !m.proc->running()) {
        return ::testing::AssertionFailure() << "moneta " << i << " did not become ready:\n" << m.proc->read_log();
    }
    return ::testing::AssertionSuccess();
}

int Stack::stop_moneta(std::chrono::milliseconds grace, int i) {
    return instance(i).proc ? instance(i).proc->stop(grace) : -1;
}

void Stack::kill_moneta(int i) {
    if (instance(i).proc) {
        instance(i).proc->signal(SIGKILL);
        instance(i).proc->wait_exit(10s);
    }
}

void Stack::pause_internal_api() {
    if (internal_api_) {
        internal_api_->signal(SIGSTOP);
    }
}

void Stack::resume_internal_api() {
    if (internal_api_) {
        internal_api_->signal(SIGCONT);
    }
}

bool Stack::moneta_running(int i) { return instance(i).proc && instance(i).proc->running(); }

std::string Stack::token(std::string_view sub, std::string_view pid, std::int64_t ttl_s) const {
    auto signer = jwt::Signer::hs256("dev", secret_);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::string claims = R"({"sub":")" + std::string(sub) + "\"";
    if (!pid.empty()) {
        claims += R"(,"pid":")" + std::string(pid) + "\"";
    }
    claims += R"(,"iss":"moneta-dev","aud":"moneta","iat":)" + std::to_string(now) + R"(,"exp":)" +
              std::to_string(now + ttl_s) + "}";
    return signer->sign(claims);
}

namespace {

HttpReply api_call(std::uint16_t port, std::string_view method, std::string_view target, std::string_view body,
                   const std::string& token, HttpHeaders extra) {
    HttpHeaders h;
    bool has_ct = false;
    for (const auto& [k, v] : extra) {
        has_ct = has_ct || k == "Content-Type";
    }
    if (!has_ct && !body.empty()) {
        h.emplace_back("Content-Type", "application/json");
    }
    if (!token.empty()) {
        h.emplace_back("Authorization", "Bearer " + token);
    }
    for (auto& e : extra) {
        h.push_back(std::move(e));
    }
    return http_call(port, method, target, body, std::move(h));
}

double sum_series(const std::string& text, std::string_view name, std::string_view labels) {
    double sum = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name, 0) != 0 || line.size() <= name.size()) {
            continue;
        }
        const char next = line[name.size()];
        if ((next != ' ' && next != '{') || (!labels.empty() && line.find(labels) == std::string::npos)) {
            continue;
        }
        sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
}

}  // namespace

HttpReply Stack::call(std::string_view method, std::string_view target, std::string_view body,
                      const std::string& token, HttpHeaders extra) const {
    extra.emplace_back("X-Origin-Verify", cdn_origin_secret_);  // as CloudFront adds it
    return api_call(edge_port(), method, target, body, token, std::move(extra));
}

HttpReply Stack::call_edge_direct(std::string_view method, std::string_view target, std::string_view body,
                                  const std::string& token, HttpHeaders extra) const {
    return api_call(edge_port(), method, target, body, token, std::move(extra));
}

HttpReply Stack::call_moneta_as_edge(std::string_view method, std::string_view target, std::string_view body,
                                     const std::string& token, HttpHeaders extra) const {
    extra.push_back(edge_auth_header());
    return api_call(instance(0).port, method, target, body, token, std::move(extra));
}

HttpReply Stack::call_admin(std::string_view method, std::string_view target, std::string_view body) const {
    return api_call(instance(0).admin_port, method, target, body, admin_token_, {});
}

HttpReply Stack::call_moneta(std::string_view method, std::string_view target, std::string_view body,
                             const std::string& token, HttpHeaders extra) const {
    return api_call(instance(0).port, method, target, body, token, std::move(extra));
}

HttpReply Stack::call_internal(std::string_view method, std::string_view target, std::string_view body) const {
    return api_call(ia_port_, method, target, body, internal_token_, {});
}

::testing::AssertionResult Stack::set_internal_api_fault(std::string_view json) {
    const HttpReply r = api_call(ia_port_, "PUT", "/_fault", json, internal_token_, {});
    if (r.status == 200 || r.status == 204) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "PUT /_fault " << json << ": " << r.status << " " << r.body << r.error
                                         << (opts_.internal_api_fault_control ? "" : " (internal_api_fault_control is off)");
}

double Stack::metric(std::string_view name, std::string_view labels, int i) const {
    if (i < 0) {
        double total = 0;
        for (int k = 0; k < opts_.moneta_instances; ++k) {
            total += metric(name, labels, k);
        }
        return total;
    }
    return sum_series(http_call(instance(i).admin_port, "GET", "/metrics").body, name, labels);
}

double Stack::internal_api_calls(std::string_view endpoint) const {
    const std::string labels = endpoint.empty() ? std::string() : "endpoint=\"" + std::string(endpoint) + "\"";
    return sum_series(call_internal("GET", "/internal/metrics").body, "internal_api_requests_total", labels);
}

std::string Stack::moneta_log(int i) const { return read_file(dir_.file(moneta_log_name(i))); }

std::string Stack::moneta_output(int i) const {
    return instance(i).proc ? instance(i).proc->read_log() : std::string();
}

}  // namespace moneta::testing
