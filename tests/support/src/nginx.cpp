#include "moneta/testing/nginx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <random>
#include <utility>

#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::testing {
namespace {

void replace_all(std::string& text, std::string_view key, std::string_view value) {
    for (auto pos = text.find(key); pos != std::string::npos;
         pos = text.find(key, pos + value.size())) {
        text.replace(pos, key.size(), value);
    }
}

// First `@UPPER_CASE@` left in @p text outside comment lines, or empty. Lower-case words
// (`@timestamp` in the ECS log format) and comments (the header mentions "@VARS@") don't count.
std::string_view leftover_placeholder(std::string_view text) {
    std::size_t line_start = 0;
    while (line_start < text.size()) {
        auto line_end = text.find('\n', line_start);
        if (line_end == std::string_view::npos) {
            line_end = text.size();
        }
        const auto line = text.substr(line_start, line_end - line_start);
        line_start = line_end + 1;
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#') {
            continue;
        }
        for (auto at = line.find('@'); at != std::string_view::npos; at = line.find('@', at + 1)) {
            std::size_t end = at + 1;
            while (end < line.size() && ((line[end] >= 'A' && line[end] <= 'Z') || line[end] == '_')
            ) {
                ++end;
            }
            if (end > at + 1 && end < line.size() && line[end] == '@') {
                return line.substr(at, end - at + 1);
            }
        }
    }
    return {};
}

// Mode 0600 from the start (umask-independent): two of the files hold secrets.
bool write_file(const std::filesystem::path& path, std::string_view content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    bool ok = ::fchmod(fd, 0600) == 0;
    while (ok && !content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        if (ok) {
            content.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    return ::close(fd) == 0 && ok;
}

// stack.sh check_secret_shape: 16..256 characters of [A-Za-z0-9_-].
bool secret_shape_ok(std::string_view s) {
    return s.size() >= 16 && s.size() <= 256 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-';
           });
}

// stack.sh's range check: ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$
bool range_shape_ok(std::string_view s) {
    const auto slash = s.find('/');
    const auto addr = s.substr(0, slash);
    const bool addr_ok = !addr.empty() && std::all_of(addr.begin(), addr.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
    if (!addr_ok || slash == std::string_view::npos) {
        return addr_ok;
    }
    const auto bits = s.substr(slash + 1);
    return !bits.empty() && bits.size() <= 3 && std::all_of(bits.begin(), bits.end(), [](char c) {
               return c >= '0' && c <= '9';
           });
}

std::string random_token() {
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::string s(40, 'x');
    for (char& c : s) {
        c = kChars[rd() % (sizeof kChars - 1)];
    }
    return s;
}

// The upstream's server lines, as scripts/stack.sh render_nginx_conf writes them: passive health
// checks (an instance that failed once is left alone for 5 s, docs/edge.md).
std::string upstream_servers(const NginxTemplateVars& vars) {
    std::string out;
    std::vector<std::uint16_t> ports{vars.upstream_port};
    ports.insert(ports.end(), vars.extra_upstream_ports.begin(), vars.extra_upstream_ports.end());
    for (const std::uint16_t p : ports) {
        out.append(out.empty() ? "" : " ")
            .append("server 127.0.0.1:")
            .append(std::to_string(p))
            .append(" max_fails=1 fail_timeout=5s;");
    }
    return out;
}

// Same substitutions, same values as scripts/stack.sh render_nginx_conf.
std::string substitute(std::string_view text, const NginxTemplateVars& vars) {
    std::string conf(text);
    replace_all(conf, "@RUN_DIR@", vars.run_dir.string());
    replace_all(conf, "@CONF_DIR@", vars.conf_dir.string());
    replace_all(conf, "@WORKERS@", vars.workers);
    replace_all(conf, "@DAEMON@", vars.daemon);
    replace_all(conf, "@RATE_PER_SEC@", std::to_string(vars.rate_per_sec));
    replace_all(conf, "@RATE_BURST@", std::to_string(vars.rate_burst));
    replace_all(conf, "@MONETA_SERVERS@", upstream_servers(vars));
    replace_all(conf, "@EDGE_PORT@", std::to_string(vars.edge_port));
    replace_all(conf, "@STATUS_PORT@", std::to_string(vars.status_port));
    return conf;
}

}  // namespace

core::Result<std::vector<std::pair<std::string, std::string>>> render_nginx_includes(
    const NginxEdgeTrust& trust
) {
    if (!secret_shape_ok(trust.edge_token) ||
        (!trust.cdn_origin_secret.empty() && !secret_shape_ok(trust.cdn_origin_secret))) {
        return core::make_error(core::Errc::kInvalidArgument);
    }
    std::string real_ip;
    std::string geo;
    for (const auto& range : trust.cdn_ranges) {
        if (!range_shape_ok(range)) {
            return core::make_error(core::Errc::kInvalidArgument);
        }
        real_ip.append("set_real_ip_from ").append(range).append(";\n");
        geo.append(range).append(" 1;\n");
    }
    std::string secret;
    if (!trust.cdn_origin_secret.empty()) {
        secret.append("\"~^").append(trust.cdn_origin_secret).append("$\" 1;\n");
    }
    std::string token;
    token.append("default \"").append(trust.edge_token).append("\";\n");
    return std::vector<std::pair<std::string, std::string>>{
        {"cdn_real_ip.conf", std::move(real_ip)},
        {"cdn_ranges.geo", std::move(geo)},
        {"cdn_origin_secret.map", std::move(secret)},
        {"edge_token.map", std::move(token)},
    };
}

core::Result<std::string> render_nginx_template(
    std::string_view text, const NginxTemplateVars& vars
) {
    std::string conf = substitute(text, vars);
    if (!leftover_placeholder(conf).empty()) {
        return core::make_error(core::Errc::kInvalidArgument);
    }
    return conf;
}

NginxServer::NginxServer(NginxOptions opts) : opts_(std::move(opts)), dir_("moneta-nginx-") {
    if (opts_.template_file.empty()) {
        opts_.template_file = source_dir() / "deploy/nginx/nginx.conf.template";
    }
    if (opts_.conf_dir.empty()) {
        opts_.conf_dir = source_dir() / "deploy/nginx";
    }
    if (opts_.program.empty()) {
        opts_.program = find_program("nginx");
    }
    if (opts_.edge_token.empty()) {
        opts_.edge_token = random_token();
    }
}

NginxServer::~NginxServer() { stop(); }

std::string NginxServer::read_error_log() const { return read_file(error_log_file()); }

std::string NginxServer::read_access_log() const { return read_file(access_log_file()); }

::testing::AssertionResult NginxServer::failure(std::string_view what) const {
    auto r = ::testing::AssertionFailure();
    r << "nginx (" << conf_file().string() << "): " << what;
    for (const char* name : {"nginx-t.out", "nginx.out"}) {
        if (const auto text = read_file(dir_.file(name)); !text.empty()) {
            r << "\n--- " << name << " ---\n" << text;
        }
    }
    r << "\n--- error.log ---\n" << read_error_log();
    return r;
}

::testing::AssertionResult NginxServer::render() {
    if (opts_.upstream_port == 0) {
        return ::testing::AssertionFailure() << "NginxOptions::upstream_port is required";
    }
    const std::string text = read_file(opts_.template_file);
    if (text.empty()) {
        return ::testing::AssertionFailure() << "cannot read " << opts_.template_file.string();
    }
    port_ = opts_.edge_port != 0 ? opts_.edge_port : free_port();
    status_port_ = opts_.status_port != 0 ? opts_.status_port : free_port();
    NginxTemplateVars vars;
    vars.run_dir = dir_.path();
    vars.conf_dir = opts_.conf_dir;
    vars.rate_per_sec = opts_.rate_per_sec;
    vars.rate_burst = opts_.rate_burst;
    vars.upstream_port = opts_.upstream_port;
    vars.extra_upstream_ports = opts_.extra_upstream_ports;
    vars.edge_port = port_;
    vars.status_port = status_port_;
    conf_ = substitute(text, vars);
    if (const auto left = leftover_placeholder(conf_); !left.empty()) {
        return ::testing::AssertionFailure()
               << opts_.template_file.string()
               << " has a placeholder the helper does not fill: " << left;
    }
    if (!write_file(conf_file(), conf_)) {
        return ::testing::AssertionFailure() << "cannot write " << conf_file().string();
    }
    const auto includes = render_nginx_includes(
        {.edge_token = opts_.edge_token,
         .cdn_origin_secret = opts_.cdn_origin_secret,
         .cdn_ranges = opts_.cdn_ranges}
    );
    if (!includes) {
        return ::testing::AssertionFailure()
               << "NginxOptions: a secret is not 16..256 characters of [A-Za-z0-9_-], or a CDN "
                  "range is not an address/CIDR";
    }
    for (const auto& [name, content] : *includes) {
        if (!write_file(dir_.file(name), content)) {
            return ::testing::AssertionFailure() << "cannot write " << dir_.file(name).string();
        }
    }
    return ::testing::AssertionSuccess();
}

std::vector<std::string> NginxServer::base_args() const {
    std::vector<std::string> args = {
        opts_.program,
        "-p",
        dir_.path().string(),
        "-c",
        conf_file().string(),
        "-e",
        error_log_file().string()};
    if (!opts_.master_process) {
        args.insert(args.end(), {"-g", "master_process off;"});
    }
    return args;
}

::testing::AssertionResult NginxServer::check_config() {
    if (opts_.program.empty()) {
        return ::testing::AssertionFailure() << "nginx is not installed (apt-get install nginx "
                                                "libnginx-mod-http-headers-more-filter)";
    }
    if (auto ok = render(); !ok) {
        return ok;
    }
    auto args = base_args();
    args.insert(args.begin() + 1, {"-t", "-q"});
    std::error_code ec;
    std::filesystem::remove(dir_.file("nginx-t.out"), ec);
    auto proc = Process::spawn(std::move(args), {}, dir_.file("nginx-t.out"));
    if (!proc) {
        return failure("cannot run nginx -t: " + proc.error().message());
    }
    const auto status = proc->wait_exit(std::chrono::seconds(20));
    if (!status) {
        return failure("nginx -t did not finish within 20 s");
    }
    if (*status != 0) {
        return failure("nginx -t failed with status " + std::to_string(*status));
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult NginxServer::launch() {
    auto proc = Process::spawn(base_args(), {}, dir_.file("nginx.out"));
    if (!proc) {
        return failure("cannot start: " + proc.error().message());
    }
    process_.emplace(std::move(*proc));
    // Ready = the edge port accepts; an early exit (bad config, port taken) ends the wait too.
    const auto ready = wait_until(
        [&] { return !process_->running() || tcp_port_open(port_); },
        opts_.ready_timeout,
        "nginx to accept connections"
    );
    if (!process_->running()) {
        const int status = process_->exit_status().value_or(255);
        process_.reset();
        return failure("exited during startup with status " + std::to_string(status));
    }
    if (!ready) {
        process_.reset();  // SIGKILL + reap
        return failure("127.0.0.1:" + std::to_string(port_) + " not accepting: " + ready.message());
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult NginxServer::start() {
    if (process_) {
        return ::testing::AssertionFailure() << "nginx is already started (pid " << pid() << ")";
    }
    if (opts_.master_process && ::geteuid() == 0) {
        // Workers drop to `nobody`; let them reach their temp paths under the (0700) run dir.
        std::error_code ec;
        std::filesystem::permissions(
            dir_.path(),
            std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                std::filesystem::perms::others_exec,
            ec
        );
    }
    // A free port can be taken before nginx binds it: with an automatic port, try a few.
    const int attempts = opts_.edge_port == 0 ? 4 : 1;
    ::testing::AssertionResult last = ::testing::AssertionFailure();
    for (int i = 0; i < attempts; ++i) {
        std::error_code ec;
        std::filesystem::remove(error_log_file(), ec);
        std::filesystem::remove(dir_.file("nginx.out"), ec);
        if (auto ok = check_config(); !ok) {
            return ok;
        }
        last = launch();
        if (last || read_error_log().find("Address already in use") == std::string::npos) {
            return last;
        }
    }
    return last;
}

std::optional<int> NginxServer::stop(std::chrono::milliseconds grace) {
    if (!process_) {
        return std::nullopt;
    }
    // SIGTERM is nginx's fast shutdown; a master waits for its workers before it exits.
    const int status = process_->stop(grace);
    process_.reset();
    return status;
}

bool NginxServer::running() { return process_ && process_->running(); }

}  // namespace moneta::testing
