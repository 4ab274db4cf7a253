/// @file moneta/testing/nginx.hpp
/// @brief The shipped edge config (deploy/nginx) rendered and run as a real nginx for tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moneta/core/result.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta::testing {

/// Values for the template's @NAME@ placeholders. Each one is filled exactly as
/// scripts/stack.sh render_nginx_conf fills it; the defaults are that script's defaults, except
/// workers ("auto" there, 1 here so keep-alive and rate-limit state live in one process).
struct NginxTemplateVars {
    std::filesystem::path run_dir;    ///< @RUN_DIR@: pid, logs and temp paths
    std::filesystem::path conf_dir;   ///< @CONF_DIR@: where proxy_headers.conf is included from
    std::string workers = "1";        ///< @WORKERS@
    std::string daemon = "off";       ///< @DAEMON@
    int rate_per_sec = 50;            ///< @RATE_PER_SEC@ (MONETA_EDGE_RATE_PER_SEC)
    int rate_burst = 100;             ///< @RATE_BURST@ (MONETA_EDGE_RATE_BURST)
    std::uint16_t upstream_port = 0;  ///< @MONETA_SERVERS@: the first upstream server
    std::vector<std::uint16_t> extra_upstream_ports;  ///< @MONETA_SERVERS@: more moneta instances
    std::uint16_t edge_port = 0;      ///< @EDGE_PORT@
    std::uint16_t status_port = 0;    ///< @STATUS_PORT@: stub_status on loopback (MONETA_EDGE_STATUS_PORT)
};

/// What the edge trusts, rendered into the files nginx.conf includes from its run dir, exactly as
/// scripts/stack.sh render_nginx_conf renders MONETA_EDGE_TOKEN, MONETA_CDN_ORIGIN_SECRET and
/// MONETA_CDN_RANGES (docs/edge.md "CDN trust").
struct NginxEdgeTrust {
    std::string edge_token;               ///< X-Edge-Auth towards moneta (required)
    std::string cdn_origin_secret;        ///< the CDN's X-Origin-Verify value; empty = none
    std::vector<std::string> cdn_ranges;  ///< CDN peer addresses/CIDRs; empty = none
};

/// The included files as (file name, content): cdn_real_ip.conf, cdn_ranges.geo,
/// cdn_origin_secret.map, edge_token.map.
/// @return kInvalidArgument when a secret is not 16..256 characters of [A-Za-z0-9_-] or a range
/// is not an address/CIDR (the checks of stack.sh, which refuses them the same way).
core::Result<std::vector<std::pair<std::string, std::string>>> render_nginx_includes(
    const NginxEdgeTrust& trust
);

/// Replaces every placeholder in @p text (a copy of nginx.conf.template).
/// @return the config, or kInvalidArgument when an `@UPPER_CASE@` placeholder this function
/// does not know is left on a non-comment line (a template change that this helper and
/// stack.sh must both follow).
core::Result<std::string> render_nginx_template(
    std::string_view text, const NginxTemplateVars& vars
);

struct NginxOptions {
    std::uint16_t upstream_port = 0;  ///< required: where "moneta" listens
    std::vector<std::uint16_t> extra_upstream_ports;  ///< further moneta instances (upstream servers)
    std::uint16_t edge_port = 0;      ///< 0 = a free port (retried when another process wins it)
    std::uint16_t status_port = 0;    ///< stub_status listener; 0 = a free port
    int rate_per_sec = 50;
    int rate_burst = 100;
    /// false runs nginx as one process (`-g "master_process off;"`). That is the default because
    /// only the direct child gets PR_SET_PDEATHSIG: a killed master leaves its workers running,
    /// still bound to the port. true runs master + 1 worker exactly as stack.sh does.
    bool master_process = false;
    /// X-Edge-Auth nginx sends to the upstream; empty = a random one (see NginxServer::edge_token).
    std::string edge_token;
    /// The CDN's secret origin header value (X-Origin-Verify); empty = no secret-header trust.
    std::string cdn_origin_secret;
    /// CDN peer ranges (set_real_ip_from + geo); empty = none. E.g. {"127.0.0.2/32"} and
    /// http_call_from("127.0.0.2", ...) for a request "from the CDN".
    std::vector<std::string> cdn_ranges;
    std::filesystem::path template_file;  ///< empty = <source>/deploy/nginx/nginx.conf.template
    std::filesystem::path conf_dir;       ///< empty = <source>/deploy/nginx
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
    std::string program;  ///< nginx binary; empty = find_program("nginx")
};

/// A real nginx running the rendered edge config in its own TempDir, in the foreground
/// (`daemon off`), stopped by PID. Every failure message carries nginx's error.log and output.
///
/// Usage:
/// @code
///   NginxServer edge({.upstream_port = stub.port()});
///   ASSERT_TRUE(edge.start());
///   auto reply = http_call(edge.port(), "GET", "/healthz");
/// @endcode
/// Not copyable or movable (hold it in a std::optional or unique_ptr). The destructor stops
/// nginx (SIGTERM, then SIGKILL) before its directory is removed.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class NginxServer {
public:
    explicit NginxServer(NginxOptions opts);
    NginxServer(const NginxServer&) = delete;
    NginxServer& operator=(const NginxServer&) = delete;
    ~NginxServer();

    /// Renders the template into run_dir()/nginx.conf and the files it includes (all mode 0600),
    /// picking the edge port if needed.
    [[nodiscard]] ::testing::AssertionResult render();
    /// render(), then `nginx -t -q -p <run> -c <run>/nginx.conf -e <run>/error.log` (bounded).
    [[nodiscard]] ::testing::AssertionResult check_config();
    /// check_config(), then starts nginx and waits until the edge port accepts connections.
    [[nodiscard]] ::testing::AssertionResult start();
    /// Graceful-then-forced stop (SIGTERM, up to @p grace, then SIGKILL); no-op when not running.
    /// @return the exit status (0 for a clean nginx shutdown), nullopt when it was not running.
    std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
    bool running();

    std::uint16_t port() const noexcept { return port_; }
    /// The loopback listener serving GET /stub_status (deploy/nginx, for tools/stack_exporter).
    std::uint16_t status_port() const noexcept { return status_port_; }
    std::uint16_t upstream_port() const noexcept { return opts_.upstream_port; }
    /// The X-Edge-Auth value nginx adds to every proxied request (fixed at construction).
    const std::string& edge_token() const noexcept { return opts_.edge_token; }
    const std::string& cdn_origin_secret() const noexcept { return opts_.cdn_origin_secret; }
    pid_t pid() const noexcept { return process_ ? process_->pid() : -1; }
    const std::filesystem::path& run_dir() const noexcept { return dir_.path(); }
    std::filesystem::path conf_file() const { return dir_.file("nginx.conf"); }
    std::filesystem::path error_log_file() const { return dir_.file("error.log"); }
    std::filesystem::path access_log_file() const { return dir_.file("access.log"); }
    /// The rendered config (empty before render()).
    const std::string& conf_text() const noexcept { return conf_; }
    std::string read_error_log() const;
    std::string read_access_log() const;

private:
    std::vector<std::string> base_args() const;
    ::testing::AssertionResult launch();
    ::testing::AssertionResult failure(std::string_view what) const;

    NginxOptions opts_;
    std::uint16_t port_ = 0;
    std::uint16_t status_port_ = 0;
    std::string conf_;
    TempDir dir_;  // declared before process_: destroyed after the stop
    std::optional<Process> process_;
};

}  // namespace moneta::testing
