// The shipped edge config (deploy/nginx) run by a real nginx in front of a recording upstream
// stub: path allow-list, dot-segment refusal, size limits, the request-header allow-list, the
// JSON error model for nginx's own errors, rate limiting, upstream keep-alive and upstream loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/nginx.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"
#include "upstream_stub.hpp"

namespace moneta::deploy_test {
namespace {

using namespace std::chrono_literals;
using testing::HttpHeaders;
using testing::HttpReply;

constexpr std::size_t kMaxBody = 16 * 1024;  // client_max_body_size (api.md §4 413)
constexpr std::string_view kEdgeToken = "edge-token-0123456789abcdefABCDEF";
constexpr std::string_view kOriginSecret = "Origin-Secret_0123456789abcdefXYZ";

bool is_request_id(std::string_view id) {
    return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()
    )
        .count();
}

// The response is an error nginx produced itself, in the api.md §4 model:
// {"error":{"code","message","retryable","details":{}},"server_time_ms":<now>}, JSON content
// type, the edge's request id, and no Server header.
::testing::AssertionResult is_edge_error(
    const HttpReply& r, int status, std::string_view code, bool retryable
) {
    if (!r.ok()) {
        return ::testing::AssertionFailure() << "transport error: " << r.error;
    }
    auto fail = [&] {
        return ::testing::AssertionFailure()
               << "status " << r.status << ", body: " << r.body << "\n";
    };
    if (r.status != status) {
        return fail() << "expected status " << status;
    }
    if (r.header("Content-Type").value_or("").rfind("application/json", 0) != 0) {
        return fail() << "Content-Type is " << r.header("Content-Type").value_or("(none)");
    }
    if (!is_request_id(r.header("X-Request-Id").value_or(""))) {
        return fail() << "X-Request-Id is " << r.header("X-Request-Id").value_or("(none)");
    }
    if (r.header("Server")) {
        return fail() << "Server header present: " << *r.header("Server");
    }
    boost::system::error_code ec;
    const auto doc = boost::json::parse(r.body, ec);
    if (ec || !doc.is_object()) {
        return fail() << "body is not a JSON object";
    }
    const auto& top = doc.as_object();
    const auto* err = top.if_contains("error");
    const auto* ts = top.if_contains("server_time_ms");
    if (top.size() != 2 || err == nullptr || !err->is_object() || ts == nullptr ||
        !ts->is_int64()) {
        return fail() << "expected exactly {error:{...}, server_time_ms:<int>}";
    }
    if (std::abs(ts->as_int64() - now_ms()) > 60'000) {
        return fail() << "server_time_ms is not the current time";
    }
    const auto& e = err->as_object();
    const auto* c = e.if_contains("code");
    const auto* m = e.if_contains("message");
    const auto* rt = e.if_contains("retryable");
    const auto* d = e.if_contains("details");
    if (c == nullptr || !c->is_string() || c->as_string() != code) {
        return fail() << "expected code " << code;
    }
    if (m == nullptr || !m->is_string() || m->as_string().empty()) {
        return fail() << "message missing";
    }
    if (rt == nullptr || !rt->is_bool() || rt->as_bool() != retryable) {
        return fail() << "expected retryable " << std::boolalpha << retryable;
    }
    if (d == nullptr || !d->is_object()) {
        return fail() << "details is not an object";
    }
    return ::testing::AssertionSuccess();
}

std::string chunked(std::string_view body) {
    std::string out;
    for (std::size_t at = 0; at < body.size(); at += 4000) {
        const auto part = body.substr(at, 4000);
        char size[16];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", part.size());
        out.append(size, static_cast<std::size_t>(n)).append(part).append("\r\n");
    }
    return out.append("0\r\n\r\n");
}

class NginxEdgeTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto stub = UpstreamStub::start();
        ASSERT_TRUE(stub) << stub.error().message();
        stub_ = std::move(*stub);
        // Generous limits: only RateLimit* tests want 429s.
        ASSERT_TRUE(start_edge(1000, 1000));
    }

    // Every edge of these tests trusts the CDN's origin secret kOriginSecret; @p cdn_ranges adds
    // trusted peer ranges.
    [[nodiscard]] ::testing::AssertionResult start_edge(
        int rate_per_sec, int burst, std::vector<std::string> cdn_ranges = {}
    ) {
        edge_.reset();
        testing::NginxOptions opts;
        opts.upstream_port = stub_->port();
        opts.rate_per_sec = rate_per_sec;
        opts.rate_burst = burst;
        opts.edge_token = kEdgeToken;
        opts.cdn_origin_secret = kOriginSecret;
        opts.cdn_ranges = std::move(cdn_ranges);
        edge_.emplace(std::move(opts));
        return edge_->start();
    }

    std::uint16_t port() const { return edge_->port(); }

    HttpReply get(std::string_view target, HttpHeaders headers = {}) const {
        return testing::http_call(port(), "GET", target, {}, std::move(headers));
    }

    // A GET from the local address @p source (127.0.0.1 or another loopback alias).
    HttpReply get_from(std::string_view source, std::string_view target, HttpHeaders headers = {})
        const {
        return testing::http_call_from(source, port(), "GET", target, {}, std::move(headers));
    }

    // Sends @p raw on a fresh connection and parses the first response.
    HttpReply raw(std::string_view bytes) const {
        const auto data = testing::raw_exchange(port(), bytes, 5s);
        auto reply = testing::parse_http_reply(data);
        if (!reply) {
            HttpReply bad;
            bad.error = "no complete response; got: " + data;
            return bad;
        }
        return *reply;
    }

    std::unique_ptr<UpstreamStub> stub_;
    std::optional<testing::NginxServer> edge_;  // destroyed first: nginx stops before the stub
};

// ---- the helper and the template -------------------------------------------------------------

TEST(NginxTemplateTest, RendersLikeStackShAndPassesNginxT) {
    // The helper's rendering must stay byte-identical to what ./dev up starts.
    testing::TempDir dev("edge-dev-");
    const auto src = testing::source_dir();
    auto bash = testing::Process::spawn(
        {"bash",
         "-c",
         "set -eu; source \"$ROOT/scripts/lib.sh\"; source \"$ROOT/scripts/stack.sh\"; "
         "render_nginx_conf"},
        {{"ROOT", src.string()},
         {"MONETA_DEV_DIR", dev.path().string()},
         {"MONETA_PORT", "41001"},
         {"MONETA_EDGE_PORT", "41000"},
         {"MONETA_EDGE_STATUS_PORT", "41002"},
         {"MONETA_EDGE_WORKERS", "1"},
         {"MONETA_EDGE_RATE_PER_SEC", "7"},
         {"MONETA_EDGE_RATE_BURST", "9"},
         {"MONETA_EDGE_TOKEN", std::string(kEdgeToken)},
         {"MONETA_CDN_ORIGIN_SECRET", std::string(kOriginSecret)},
         {"MONETA_CDN_RANGES", "130.176.0.0/17, 2600:9000::/28 127.0.0.2"}},
        dev.file("render.log")
    );
    ASSERT_TRUE(bash) << bash.error().message();
    ASSERT_EQ(bash->wait_exit(30s), 0) << bash->read_log();

    testing::NginxTemplateVars vars;
    vars.run_dir = dev.path() / "run/nginx";
    vars.conf_dir = src / "deploy/nginx";
    vars.workers = "1";
    vars.rate_per_sec = 7;
    vars.rate_burst = 9;
    vars.upstream_port = 41001;
    vars.edge_port = 41000;
    vars.status_port = 41002;
    const auto conf = testing::render_nginx_template(
        testing::read_file(src / "deploy/nginx/nginx.conf.template"), vars
    );
    ASSERT_TRUE(conf) << conf.error().message();
    EXPECT_EQ(*conf, testing::read_file(vars.run_dir / "nginx.conf"));
    EXPECT_NE(conf->find("listen 127.0.0.1:41000 "), std::string::npos);
    EXPECT_NE(conf->find("server 127.0.0.1:41001 max_fails=1 fail_timeout=5s;"), std::string::npos);
    EXPECT_NE(conf->find("rate=7r/s"), std::string::npos);
    EXPECT_NE(conf->find("burst=9 nodelay"), std::string::npos);
    EXPECT_NE(conf->find("listen 127.0.0.1:41002;"), std::string::npos);

    // The files nginx.conf includes: the same bytes, and private (two of them hold secrets).
    const auto includes = testing::render_nginx_includes(
        {.edge_token = std::string(kEdgeToken),
         .cdn_origin_secret = std::string(kOriginSecret),
         .cdn_ranges = {"130.176.0.0/17", "2600:9000::/28", "127.0.0.2"}}
    );
    ASSERT_TRUE(includes);
    ASSERT_EQ(includes->size(), 4U);
    const auto private_file = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
    for (const auto& [name, content] : *includes) {
        SCOPED_TRACE(name);
        EXPECT_EQ(content, testing::read_file(vars.run_dir / name));
        EXPECT_EQ(std::filesystem::status(vars.run_dir / name).permissions(), private_file);
    }
    EXPECT_EQ(std::filesystem::status(vars.run_dir / "nginx.conf").permissions(), private_file);
    EXPECT_EQ(
        testing::read_file(vars.run_dir / "cdn_real_ip.conf"),
        "set_real_ip_from 130.176.0.0/17;\nset_real_ip_from 2600:9000::/28;\n"
        "set_real_ip_from 127.0.0.2;\n"
    );
    EXPECT_NE(
        testing::read_file(vars.run_dir / "edge_token.map").find(kEdgeToken), std::string::npos
    );
    // The secrets live only in the include files, never in nginx.conf.
    EXPECT_EQ(conf->find(kEdgeToken), std::string::npos);
    EXPECT_EQ(conf->find(kOriginSecret), std::string::npos);
}

TEST(NginxTemplateTest, BadSecretsAndRangesAreRefusedWithoutEchoingThem) {
    const auto src = testing::source_dir();
    struct Case {
        const char* name;
        std::vector<std::pair<std::string, std::string>> env;
        std::string leak;  // must not appear in the output
    };
    const std::string quote_token = "0123456789abcdef\"; include /etc/passwd; \"";
    const Case cases[] = {
        {"no edge token", {}, ""},
        {"short edge token", {{"MONETA_EDGE_TOKEN", "short-secret"}}, "short-secret"},
        {"edge token with a quote", {{"MONETA_EDGE_TOKEN", quote_token}}, "passwd"},
        {"origin secret with a regex",
         {{"MONETA_EDGE_TOKEN", std::string(kEdgeToken)},
          {"MONETA_CDN_ORIGIN_SECRET", "0123456789abcdef.*"}},
         "abcdef.*"},
        {"bad range",
         {{"MONETA_EDGE_TOKEN", std::string(kEdgeToken)},
          {"MONETA_CDN_RANGES", "10.0.0.0/8;include"}},
         ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        testing::TempDir dev("edge-bad-secret-");
        auto env = c.env;
        env.emplace_back("ROOT", src.string());
        env.emplace_back("MONETA_DEV_DIR", dev.path().string());
        env.emplace_back("MONETA_PORT", "41001");
        env.emplace_back("MONETA_EDGE_PORT", "41000");
        auto bash = testing::Process::spawn(
            {"bash",
             "-c",
             "set -eu; source \"$ROOT/scripts/lib.sh\"; source \"$ROOT/scripts/stack.sh\"; "
             "render_nginx_conf"},
            env,
            dev.file("render.log")
        );
        ASSERT_TRUE(bash) << bash.error().message();
        EXPECT_NE(bash->wait_exit(30s), 0) << bash->read_log();
        const auto out = bash->read_log();
        EXPECT_NE(out.find("error:"), std::string::npos) << out;
        if (!c.leak.empty()) {
            EXPECT_EQ(out.find(c.leak), std::string::npos) << out;
        }
        EXPECT_FALSE(std::filesystem::exists(dev.path() / "run/nginx/nginx.conf"));
    }
    // The helper refuses the same values.
    EXPECT_FALSE(testing::render_nginx_includes({.edge_token = "short"}));
    EXPECT_FALSE(testing::render_nginx_includes({.edge_token = quote_token}));
    EXPECT_FALSE(testing::render_nginx_includes(
        {.edge_token = std::string(kEdgeToken), .cdn_origin_secret = "0123456789abcdef.*"}
    ));
    EXPECT_FALSE(testing::render_nginx_includes(
        {.edge_token = std::string(kEdgeToken), .cdn_ranges = {"10.0.0.0/8;include"}}
    ));
    EXPECT_TRUE(testing::render_nginx_includes({.edge_token = std::string(kEdgeToken)}));
}

TEST(NginxTemplateTest, UnknownPlaceholderIsAnError) {
    const auto conf = testing::render_nginx_template("listen @EDGE_PORT@; x @NEW_THING@;", {});
    ASSERT_FALSE(conf);
    EXPECT_EQ(conf.error(), core::make_error(core::Errc::kInvalidArgument));
    // Lower-case '@' words (the ECS "@timestamp" key) and comments are not placeholders.
    EXPECT_TRUE(testing::render_nginx_template(R"('{"@timestamp":"$time_iso8601"}')", {}));
    EXPECT_TRUE(testing::render_nginx_template("  # rendered with @VARS@ replaced\nx;", {}));
}

TEST(NginxTemplateTest, BrokenConfigFailsWithNginxsOwnMessage) {
    testing::TempDir dir("edge-bad-");
    const auto tmpl = dir.file("bad.conf.template");
    {
        std::string text =
            testing::read_file(testing::source_dir() / "deploy/nginx/nginx.conf.template");
        text += "\nthis_is_not_a_directive on;\n";
        std::ofstream out(tmpl);
        ASSERT_TRUE(out << text);
    }
    testing::NginxOptions opts;
    opts.upstream_port = 1;
    opts.template_file = tmpl;
    testing::NginxServer edge(std::move(opts));
    const auto checked = edge.check_config();
    ASSERT_FALSE(checked);
    EXPECT_NE(std::string(checked.message()).find("this_is_not_a_directive"), std::string::npos)
        << checked.message();
    EXPECT_FALSE(edge.start());
    EXPECT_FALSE(edge.running());
}

TEST(NginxTemplateTest, MasterProcessModeStartsAndStopsCleanlyByPid) {
    auto stub = UpstreamStub::start();
    ASSERT_TRUE(stub) << stub.error().message();
    testing::NginxOptions opts;
    opts.upstream_port = (*stub)->port();
    opts.master_process = true;  // exactly as stack.sh runs it
    testing::NginxServer edge(std::move(opts));
    ASSERT_TRUE(edge.start());
    EXPECT_EQ(testing::http_call(edge.port(), "GET", "/healthz").status, 200);
    EXPECT_EQ((*stub)->request_count(), 1U);
    EXPECT_EQ(edge.stop(), 0);  // the master reaped its worker and exited cleanly
    EXPECT_FALSE(testing::http_call(edge.port(), "GET", "/healthz", {}, {}, 1s).ok());
}

// ---- two moneta instances (issue 13: ./dev up --cluster runs two) ---------------------------

TEST(NginxUpstreamTest, TwoInstancesBothServeAndADeadOneIsSkipped) {
    auto a = UpstreamStub::start();
    auto b = UpstreamStub::start();
    ASSERT_TRUE(a && b);
    testing::NginxOptions opts;
    opts.upstream_port = (*a)->port();
    opts.extra_upstream_ports = {(*b)->port()};
    testing::NginxServer edge(std::move(opts));
    ASSERT_TRUE(edge.start());
    EXPECT_NE(edge.conf_text().find("server 127.0.0.1:" + std::to_string((*b)->port()) + " max_fails=1"),
              std::string::npos);
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(testing::http_call(edge.port(), "GET", "/healthz").status, 200);
    }
    // Round robin over both.
    EXPECT_GE((*a)->request_count(), 5U);
    EXPECT_GE((*b)->request_count(), 5U);
    EXPECT_EQ((*a)->request_count() + (*b)->request_count(), 20U);
}

TEST(NginxUpstreamTest, ARefusedConnectGoesToTheOtherInstanceEvenForAPost) {
    auto b = UpstreamStub::start();
    ASSERT_TRUE(b);
    testing::NginxOptions opts;
    opts.upstream_port = testing::free_port();  // nothing listens: connect() is refused
    opts.extra_upstream_ports = {(*b)->port()};
    testing::NginxServer edge(std::move(opts));
    ASSERT_TRUE(edge.start());
    // The request never reached the dead instance, so even a POST (a start) is passed on, once.
    for (int i = 0; i < 6; ++i) {
        const auto r = testing::http_call(edge.port(), "POST", "/v1/playback/sessions", R"({"content_id":"m_1"})",
                                          {{"Content-Type", "application/json"}});
        EXPECT_EQ(r.status, 200) << r.body;
    }
    EXPECT_EQ((*b)->request_count(), 6U);
}

// ---- path allow-list (api.md §5.8) -----------------------------------------------------------

TEST_F(NginxEdgeTest, AllowListedPathsReachUpstreamVerbatim) {
    const std::pair<std::string, std::string> allowed[] = {
        {"POST", "/v1/playback/sessions"},
        {"POST", "/v1/playback/sessions/s_1/heartbeat"},
        {"GET", "/v1/playback/sessions"},
        {"DELETE", "/v1/playback/sessions/s_2"},
        {"GET", "/v1/me/progress?content_ids=a,b,c"},
        {"PUT", "/v1/me/progress/m_1"},
        {"GET", "/v1/me/continue-watching?limit=20"},
        {"GET", "/healthz"},
        {"GET", "/readyz"},
    };
    std::size_t expected = 0;
    for (const auto& [method, target] : allowed) {
        SCOPED_TRACE(method + " " + target);
        const std::string body = method == "POST" || method == "PUT" ? R"({"k":1})" : "";
        const auto r = testing::http_call(
            port(), method, target, body, {{"Content-Type", "application/json"}}
        );
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_NE(r.body.find(R"("ok":true)"), std::string::npos) << r.body;
        ASSERT_EQ(stub_->request_count(), ++expected);
        const auto got = stub_->last_request();
        EXPECT_EQ(got.request_line, method + " " + target + " HTTP/1.1");
        EXPECT_EQ(got.body, body);
    }
}

TEST_F(NginxEdgeTest, OtherPathsAreJson404AndNeverReachUpstream) {
    for (const char* target :
         {"/",
          "/metrics",
          "/internal/accounts/a_1",
          "/v1/other",
          "/v1/playback",
          "/v1/me",
          "/v1/PLAYBACK/sessions",
          "/v1/mex/progress",
          "/healthz/x",
          "/readyz2",
          "/admin",
          "/v2/playback/sessions",
          "/_edge_error/404",
          "/_edge_error/429",
          "/favicon.ico",
          "/stub_status"}) {
        SCOPED_TRACE(target);
        const auto r = get(target, {{"Host", "evil.example"}});
        EXPECT_TRUE(is_edge_error(r, 404, "NOT_FOUND", false));
        // No redirect of any kind (nginx's slash-appending 301 would reflect the client's Host).
        EXPECT_FALSE(r.header("Location")) << *r.header("Location");
    }
    EXPECT_TRUE(
        is_edge_error(testing::http_call(port(), "POST", "/metrics", "{}"), 404, "NOT_FOUND", false)
    );
    EXPECT_TRUE(is_edge_error(get("/v1/playback?next=/v1/playback/"), 404, "NOT_FOUND", false));
    EXPECT_EQ(stub_->request_count(), 0U);
}

// The exporter's source (tools/stack_exporter, docs/observability.md): nginx's counters on a
// loopback listener of their own. The edge port answers /stub_status with its JSON 404 (above).
TEST_F(NginxEdgeTest, StubStatusIsServedOnTheStatusPortOnly) {
    const auto before = testing::http_call(edge_->status_port(), "GET", "/stub_status");
    ASSERT_TRUE(before.ok()) << before.error;
    EXPECT_EQ(before.status, 200);
    EXPECT_NE(before.body.find("Active connections:"), std::string::npos) << before.body;
    EXPECT_NE(before.body.find("server accepts handled requests"), std::string::npos) << before.body;
    EXPECT_EQ(testing::http_call(edge_->status_port(), "GET", "/").status, 404);
    EXPECT_EQ(testing::http_call(edge_->status_port(), "GET", "/v1/playback/sessions").status, 404);
    EXPECT_EQ(stub_->request_count(), 0U);
}

TEST_F(NginxEdgeTest, DotSegmentsAndEncodedSeparatorsAreRefusedBeforeUpstream) {
    // nginx matches locations on the normalised path but forwards the raw one (ops.md §0.3):
    // anything that normalises into a proxied location is refused with 400 ...
    for (const char* target :
         {"/v1/playback/./sessions",
          "/v1/playback/../me/progress",
          "/v1/me/../playback/sessions",
          "/v1/playback/sessions/..",
          "/v1/playback/sessions/.",
          "/v1/playback/%2e/sessions",
          "/v1/playback/%2E%2E/playback/sessions",
          "/v1/playback/..%2fme/progress",
          "/v1/playback/a%2Fb",
          "/v1/playback/a%2fb",
          "/v1/me/progress/a%5Cb",
          "/v1/me/progress/a%5cb",
          "/v1/playback/a%00b",
          "/v1/playback/sessions?x=/../y"}) {
        SCOPED_TRACE(target);
        EXPECT_TRUE(is_edge_error(get(target), 400, "INVALID_REQUEST", false));
    }
    // ... and what normalises outside every proxied location is the allow-list's 404.
    for (const char* target :
         {"/v1/playback/../../metrics",
          "/v1/playback/%2e%2e/x",
          "/v1/me/%2E%2E/%2e%2e/internal/x"}) {
        SCOPED_TRACE(target);
        EXPECT_TRUE(is_edge_error(get(target), 404, "NOT_FOUND", false));
    }
    EXPECT_EQ(stub_->request_count(), 0U);
    // Control: the same location with a clean path does reach the upstream.
    EXPECT_EQ(get("/v1/playback/sessions").status, 200);
    EXPECT_EQ(stub_->request_count(), 1U);
}

// ---- size limits (api.md §4, ops.md §6) ------------------------------------------------------

TEST_F(NginxEdgeTest, BodyOver16KiBIs413WithContentLengthOrChunked) {
    const std::string over(kMaxBody + 1, 'a');
    const std::string at_limit(kMaxBody, 'b');

    EXPECT_TRUE(is_edge_error(
        testing::http_call(port(), "POST", "/v1/playback/sessions", over),
        413,
        "PAYLOAD_TOO_LARGE",
        false
    ));
    const auto chunked_over =
        raw("POST /v1/playback/sessions HTTP/1.1\r\nHost: a\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            chunked(over));
    EXPECT_TRUE(is_edge_error(chunked_over, 413, "PAYLOAD_TOO_LARGE", false));
    EXPECT_EQ(stub_->request_count(), 0U);

    // Exactly 16 KiB passes, chunked bodies reach the upstream re-framed by Content-Length.
    EXPECT_EQ(testing::http_call(port(), "POST", "/v1/playback/sessions", at_limit).status, 200);
    ASSERT_EQ(stub_->request_count(), 1U);
    EXPECT_EQ(stub_->last_request().body, at_limit);
    const auto ok =
        raw("POST /v1/playback/sessions HTTP/1.1\r\nHost: a\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            chunked(at_limit));
    EXPECT_EQ(ok.status, 200) << ok.error << ok.body;
    ASSERT_EQ(stub_->request_count(), 2U);
    const auto got = stub_->last_request();
    EXPECT_EQ(got.body, at_limit);
    EXPECT_EQ(got.header("Content-Length"), std::to_string(kMaxBody));
    EXPECT_EQ(got.count("Transfer-Encoding"), 0U) << got.dump();
}

TEST_F(NginxEdgeTest, UriOver8KiBIs414Json) {
    const std::string long_target = "/v1/playback/sessions/" + std::string(9000, 'a');
    EXPECT_TRUE(is_edge_error(get(long_target), 414, "URI_TOO_LONG", false));
    EXPECT_EQ(stub_->request_count(), 0U);
    // Control: a long but allowed URI passes, so the 414 above is about the size.
    const std::string fits = "/v1/playback/sessions/" + std::string(7000, 'a');
    EXPECT_EQ(get(fits).status, 200);
    ASSERT_EQ(stub_->request_count(), 1U);
    EXPECT_EQ(stub_->last_request().target, fits);
}

TEST_F(NginxEdgeTest, HeadersOverTheLimitAre431HeadersTooLargeJson) {
    // Documented (docs/edge.md): a header line over 8 KiB is a 431 HEADERS_TOO_LARGE, as at
    // moneta. nginx reports it as 494 internally; `error_page 494 =431` sets the status.
    EXPECT_TRUE(is_edge_error(
        get("/v1/playback/sessions", {{"X-Big", std::string(9000, 'x')}}),
        431,
        "HEADERS_TOO_LARGE",
        false
    ));
    // Several large headers that do not fit the 4 x 8 KiB buffers together.
    HttpHeaders many;
    for (int i = 0; i < 5; ++i) {
        many.emplace_back("X-Big-" + std::to_string(i), std::string(7000, 'y'));
    }
    EXPECT_TRUE(is_edge_error(get("/v1/playback/sessions", many), 431, "HEADERS_TOO_LARGE", false));
    EXPECT_EQ(stub_->request_count(), 0U);
    // Control: a 6 KiB header line is fine (and, not being allow-listed, is not forwarded).
    EXPECT_EQ(get("/v1/playback/sessions", {{"X-Big", std::string(6000, 'z')}}).status, 200);
    ASSERT_EQ(stub_->request_count(), 1U);
    EXPECT_EQ(stub_->last_request().count("X-Big"), 0U);
}

// ---- request headers: allow-list (ops.md §6) -------------------------------------------------

TEST_F(NginxEdgeTest, SpoofableAndHopByHopHeadersAreNotForwarded) {
    testing::HttpConnection conn(port());
    ASSERT_TRUE(conn.is_open());
    const auto r = conn.call(
        "GET",
        "/v1/me/progress?content_ids=a",
        {},
        {{"Host", "evil.example"},
         {"Connection", "keep-alive, X-Hop"},
         {"X-Hop", "1"},
         {"Keep-Alive", "timeout=100"},
         {"TE", "trailers"},
         {"Trailer", "X-Checksum"},
         {"Upgrade", "websocket"},
         {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
         {"Proxy-Connection", "keep-alive"},
         {"Forwarded", "for=6.6.6.6;proto=https"},
         {"X-Forwarded-For", "6.6.6.6"},
         {"X-Forwarded-Host", "evil.example"},
         {"X-Forwarded-Proto", "https"},
         {"X-Forwarded-Port", "443"},
         {"X-Real-IP", "6.6.6.6"},
         {"True-Client-IP", "6.6.6.6"},
         {"CF-Connecting-IP", "6.6.6.6"},
         {"X-Viewer-Country", "US"},
         {"CloudFront-Viewer-Country", "US"},
         {"X-Edge-Auth", "client-chosen-edge-token"},
         {"X-Origin-Verify", "client-guessed-origin-secret"},
         {"X-Request-Id", "client-chosen-id"},
         {"Cookie", "session=abc"},
         {"X-Original-URL", "/metrics"},
         {"X-Rewrite-URL", "/metrics"},
         {"X-HTTP-Method-Override", "DELETE"},
         {"X-Account-Id", "a_victim"},
         {"X-Internal-Token", "guess"},
         {"X_Underscored", "1"}}
    );
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(stub_->request_count(), 1U);
    const auto got = stub_->last_request();
    // Exactly the headers the edge sets itself: nothing the client sent got through.
    std::multiset<std::string> names;
    for (const auto& h : got.headers) {
        names.insert(lower(h.first));
    }
    EXPECT_EQ(
        names,
        (std::multiset<std::string>{"host", "x-forwarded-for", "x-request-id", "x-edge-auth"})
    ) << got.dump();
    EXPECT_EQ(got.header("Host"), "moneta.internal");
    EXPECT_EQ(got.header("X-Forwarded-For"), "127.0.0.1");
    EXPECT_EQ(got.header("X-Edge-Auth"), kEdgeToken);
    EXPECT_TRUE(is_request_id(got.header("X-Request-Id").value_or(""))) << got.dump();
}

TEST_F(NginxEdgeTest, AbsoluteFormTargetCannotChooseTheUpstreamHost) {
    const auto r =
        raw("GET http://evil.example/healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    ASSERT_EQ(stub_->request_count(), 1U);
    const auto got = stub_->last_request();
    EXPECT_EQ(got.header("Host"), "moneta.internal") << got.dump();
    EXPECT_EQ(got.count("Host"), 1U);
}

TEST_F(NginxEdgeTest, EndToEndHeadersAndBodyReachUpstreamUnchanged) {
    const std::string token = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhXzEifQ.c2lnbmF0dXJl";
    const HttpHeaders sent = {
        {"Authorization", token},
        {"Content-Type", "application/json; charset=utf-8"},
        {"Idempotency-Key", "7c4a8d09-ca37-4d1e-9d4b-1f0e0c6a2b3d"},
        {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        {"tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
        {"elastic-apm-traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        {"X-Request-Timeout-Ms", "1500"},
        {"User-Agent", "MonetaPlayer/3.1 (web)"},
    };
    const std::string body = R"({"content_id":"m_1","device":{"id":"d-1","type":"web"}})";
    const auto r = testing::http_call(port(), "POST", "/v1/playback/sessions", body, sent);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    ASSERT_EQ(stub_->request_count(), 1U);
    const auto got = stub_->last_request();
    for (const auto& [name, value] : sent) {
        SCOPED_TRACE(name);
        EXPECT_EQ(got.count(name), 1U) << got.dump();
        EXPECT_EQ(got.header(name), value);
    }
    EXPECT_EQ(got.body, body);
    EXPECT_EQ(got.header("Content-Length"), std::to_string(body.size()));
    // The access log has the request (written in nginx's log phase, after the reply: poll) but
    // never the credential.
    const auto id = got.header("X-Request-Id").value_or("?");
    EXPECT_TRUE(testing::wait_until(
        [&] { return edge_->read_access_log().find(id) != std::string::npos; },
        5s,
        "the access log line"
    ));
    const auto log = edge_->read_access_log();
    EXPECT_NE(log.find(R"("url.path":"/v1/playback/sessions")"), std::string::npos) << log;
    EXPECT_EQ(log.find("eyJhbGciOiJIUzI1NiJ9"), std::string::npos) << log;
}

TEST_F(NginxEdgeTest, RequestIdIsTheEdgesOwnAndReachesTheClient) {
    const auto a = get("/v1/playback/sessions", {{"X-Request-Id", "client-chosen-id"}});
    const auto b = get("/v1/playback/sessions", {{"X-Request-Id", "client-chosen-id"}});
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(b.status, 200);
    const auto reqs = stub_->requests();
    ASSERT_EQ(reqs.size(), 2U);
    const auto id_a = reqs[0].header("X-Request-Id").value_or("");
    const auto id_b = reqs[1].header("X-Request-Id").value_or("");
    EXPECT_TRUE(is_request_id(id_a)) << reqs[0].dump();
    EXPECT_TRUE(is_request_id(id_b)) << reqs[1].dump();
    EXPECT_NE(id_a, id_b);
    EXPECT_EQ(reqs[0].count("X-Request-Id"), 1U);
    // The upstream's echo (moneta's behaviour) passes through once, unchanged.
    EXPECT_EQ(a.headers_named("X-Request-Id"), std::vector<std::string>{id_a});

    // The edge's own errors carry the id, and the access log records the same one.
    const auto e = get("/metrics", {{"X-Request-Id", "client-chosen-id"}});
    ASSERT_TRUE(is_edge_error(e, 404, "NOT_FOUND", false));
    const auto id_e = *e.header("X-Request-Id");
    for (const auto& id : {id_a, id_b, id_e}) {
        EXPECT_TRUE(testing::wait_until(
            [&] {
                return edge_->read_access_log().find(R"("http.request.id":")" + id + "\"") !=
                       std::string::npos;
            },
            5s,
            "request id " + id + " in the access log"
        )) << edge_->read_access_log();
    }
    EXPECT_EQ(edge_->read_access_log().find("client-chosen-id"), std::string::npos);
}

// ---- the edge's credential and CDN trust (docs/edge.md "CDN trust") ---------------------------

TEST_F(NginxEdgeTest, EdgeAuthIsAlwaysTheEdgesOwnAndNeverLogged) {
    // A client's X-Edge-Auth is replaced, on every proxied location, with or without the CDN.
    ASSERT_EQ(get("/v1/playback/sessions", {{"X-Edge-Auth", "forged"}}).status, 200);
    ASSERT_EQ(get("/v1/me/progress", {{"X-Edge-Auth", std::string(kEdgeToken) + "x"}}).status, 200);
    ASSERT_EQ(get("/healthz", {{"X-Origin-Verify", std::string(kOriginSecret)}}).status, 200);
    ASSERT_EQ(
        testing::http_call(port(), "POST", "/v1/playback/sessions", "{}", {{"X-Edge-Auth", ""}})
            .status,
        200
    );
    const auto reqs = stub_->requests();
    ASSERT_EQ(reqs.size(), 4U);
    for (const auto& r : reqs) {
        EXPECT_EQ(r.count("X-Edge-Auth"), 1U) << r.dump();
        EXPECT_EQ(r.header("X-Edge-Auth"), kEdgeToken) << r.dump();
        EXPECT_EQ(r.count("X-Origin-Verify"), 0U) << r.dump();  // the CDN's secret stays here
    }
    // Neither secret reaches nginx's logs.
    const auto id = reqs.back().header("X-Request-Id").value_or("?");
    ASSERT_TRUE(testing::wait_until(
        [&] { return edge_->read_access_log().find(id) != std::string::npos; }, 5s, "access log"
    ));
    for (const auto& log : {edge_->read_access_log(), edge_->read_error_log()}) {
        EXPECT_EQ(log.find(kEdgeToken), std::string::npos) << log;
        EXPECT_EQ(log.find(kOriginSecret), std::string::npos) << log;
    }
}

TEST_F(NginxEdgeTest, NonCdnPeerCannotChooseViewerCountryOrAddress) {
    // No origin secret, no configured range: the CDN's headers are a client's claims.
    const HttpHeaders spoofed = {
        {"CloudFront-Viewer-Country", "JP"},
        {"X-Forwarded-For", "198.51.100.7"},
        {"X-Real-IP", "198.51.100.7"},
        {"X-Viewer-Country", "JP"}};
    for (const char* source : {"127.0.0.1", "127.0.0.2"}) {
        SCOPED_TRACE(source);
        ASSERT_EQ(get_from(source, "/v1/playback/sessions", spoofed).status, 200);
        const auto got = stub_->last_request();
        EXPECT_EQ(got.count("X-Viewer-Country"), 0U) << got.dump();
        EXPECT_EQ(got.count("X-Forwarded-For"), 1U) << got.dump();
        EXPECT_EQ(got.header("X-Forwarded-For"), source) << got.dump();  // the TCP peer
    }
}

TEST_F(NginxEdgeTest, OriginSecretMakesTheCdnHeadersBelieved) {
    const std::string secret(kOriginSecret);
    // CloudFront appends the viewer's address to what the viewer sent: the last entry counts.
    ASSERT_EQ(
        get("/v1/playback/sessions",
            {{"X-Origin-Verify", secret},
             {"CloudFront-Viewer-Country", "JP"},
             {"X-Forwarded-For", "6.6.6.6, 198.51.100.7"},
             {"X-Viewer-Country", "US"}})
            .status,
        200
    );
    auto got = stub_->last_request();
    EXPECT_EQ(got.header("X-Viewer-Country"), "JP") << got.dump();
    EXPECT_EQ(got.count("X-Viewer-Country"), 1U);
    EXPECT_EQ(got.header("X-Forwarded-For"), "198.51.100.7") << got.dump();
    EXPECT_EQ(got.count("CloudFront-Viewer-Country"), 0U);
    EXPECT_EQ(got.count("X-Origin-Verify"), 0U);

    // IPv6 viewers; a CDN request without X-Forwarded-For is the peer's.
    ASSERT_EQ(
        get("/v1/playback/sessions",
            {{"X-Origin-Verify", secret}, {"X-Forwarded-For", "2001:db8::7"}})
            .status,
        200
    );
    EXPECT_EQ(stub_->last_request().header("X-Forwarded-For"), "2001:db8::7");
    ASSERT_EQ(get("/v1/playback/sessions", {{"X-Origin-Verify", secret}}).status, 200);
    EXPECT_EQ(stub_->last_request().header("X-Forwarded-For"), "127.0.0.1");

    // Only a two-letter upper-case country passes, even from the CDN.
    for (const char* country : {"jp", "JPN", "J", "J1", "JP ,US", "ZZZ"}) {
        SCOPED_TRACE(country);
        ASSERT_EQ(
            get("/v1/playback/sessions",
                {{"X-Origin-Verify", secret}, {"CloudFront-Viewer-Country", country}})
                .status,
            200
        );
        EXPECT_EQ(stub_->last_request().count("X-Viewer-Country"), 0U)
            << stub_->last_request().dump();
    }
}

TEST_F(NginxEdgeTest, WrongOriginSecretIsDropped) {
    const std::string secret(kOriginSecret);
    std::string upper = secret;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) {
        return std::toupper(c);
    });
    for (const std::string& wrong :
         {std::string("wrong"),
          upper,  // the comparison is exact, not case-insensitive
          secret.substr(0, secret.size() - 1),
          secret + "x",
          "x" + secret,
          secret + ", " + secret,
          std::string(".*")}) {
        SCOPED_TRACE(wrong);
        ASSERT_EQ(
            get("/v1/playback/sessions",
                {{"X-Origin-Verify", wrong},
                 {"CloudFront-Viewer-Country", "JP"},
                 {"X-Forwarded-For", "198.51.100.7"}})
                .status,
            200
        );
        const auto got = stub_->last_request();
        EXPECT_EQ(got.count("X-Viewer-Country"), 0U) << got.dump();
        EXPECT_EQ(got.header("X-Forwarded-For"), "127.0.0.1") << got.dump();
    }
}

TEST_F(NginxEdgeTest, CdnRangePeerGivesTheViewersAddress) {
    // 127.0.0.2 plays a CDN edge server, 10/8 a load balancer behind it; 127.0.0.1 is anyone.
    ASSERT_TRUE(start_edge(1000, 1000, {"127.0.0.2/32", "10.0.0.0/8"}));
    const HttpHeaders cdn = {
        {"CloudFront-Viewer-Country", "KR"},
        {"X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.2.3"}};
    ASSERT_EQ(get_from("127.0.0.2", "/v1/playback/sessions", cdn).status, 200);
    auto got = stub_->last_request();
    // real_ip_recursive: trusted hops are skipped right to left; the first other one is the viewer.
    EXPECT_EQ(got.header("X-Forwarded-For"), "198.51.100.7") << got.dump();
    EXPECT_EQ(got.header("X-Viewer-Country"), "KR") << got.dump();

    ASSERT_EQ(get_from("127.0.0.1", "/v1/playback/sessions", cdn).status, 200);
    got = stub_->last_request();
    EXPECT_EQ(got.header("X-Forwarded-For"), "127.0.0.1") << got.dump();
    EXPECT_EQ(got.count("X-Viewer-Country"), 0U) << got.dump();

    // From the range without X-Forwarded-For: the peer is the viewer, and the country passes.
    ASSERT_EQ(
        get_from("127.0.0.2", "/v1/playback/sessions", {{"CloudFront-Viewer-Country", "KR"}})
            .status,
        200
    );
    got = stub_->last_request();
    EXPECT_EQ(got.header("X-Forwarded-For"), "127.0.0.2") << got.dump();
    EXPECT_EQ(got.header("X-Viewer-Country"), "KR") << got.dump();

    // The access log records the viewer as client.ip and the CDN peer as source.ip.
    ASSERT_EQ(get_from("127.0.0.2", "/healthz", cdn).status, 200);
    const auto id = stub_->last_request().header("X-Request-Id").value_or("?");
    ASSERT_TRUE(testing::wait_until(
        [&] { return edge_->read_access_log().find(id) != std::string::npos; }, 5s, "access log"
    ));
    const auto log = edge_->read_access_log();
    const auto line = log.substr(log.find(id));
    EXPECT_NE(line.find(R"("client.ip":"198.51.100.7","source.ip":"127.0.0.2")"), std::string::npos)
        << line;
}

// Sends GETs as one viewer until the first 429 (bounded); @return how many passed, -1 when none
// was limited.
int passes_until_limited(const std::function<HttpReply()>& send) {
    for (int passed = 0; passed < 50; ++passed) {
        const auto r = send();
        if (!r.ok()) {
            ADD_FAILURE() << r.error;
            return -1;
        }
        if (r.status == 429) {
            return passed;
        }
        if (r.status != 200) {
            ADD_FAILURE() << r.status << " " << r.body;
            return -1;
        }
    }
    return -1;
}

TEST_F(NginxEdgeTest, RateLimitKeysOnTheViewerNotTheCdnAddress) {
    constexpr int kBurst = 2;
    ASSERT_TRUE(start_edge(/*rate_per_sec=*/1, kBurst, {"127.0.0.2/32"}));
    const auto began = std::chrono::steady_clock::now();
    const std::string secret(kOriginSecret);
    auto via_secret = [&](std::string viewer) {
        return [this, secret, viewer] {
            return get("/v1/playback/sessions",
                       {{"X-Origin-Verify", secret}, {"X-Forwarded-For", viewer}});
        };
    };
    auto via_range = [&](std::string viewer) {
        return [this, viewer] {
            return get_from("127.0.0.2", "/v1/playback/sessions", {{"X-Forwarded-For", viewer}});
        };
    };
    // Viewer A exhausts its budget; B, C and D, behind the same CDN addresses, still have all
    // of theirs (a shared key would have 429ed them at once).
    const int a = passes_until_limited(via_secret("198.51.100.1"));
    const int b = passes_until_limited(via_secret("198.51.100.2"));
    const int c = passes_until_limited(via_range("198.51.100.3"));
    const int d = passes_until_limited(via_range("198.51.100.4"));
    const auto slack = static_cast<int>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - began)
            .count()
    ) + 1;
    for (const int passed : {a, b, c, d}) {
        EXPECT_GE(passed, 1 + kBurst);
        EXPECT_LE(passed, 1 + kBurst + slack);
    }
    // A client outside the CDN cannot pick a fresh key per request with X-Forwarded-For or a
    // guessed origin secret: its key is its own address.
    int n = 0;
    const int direct = passes_until_limited([&] {
        ++n;
        return get("/v1/playback/sessions",
                   {{"X-Forwarded-For", "203.0.113." + std::to_string(n)},
                    {"X-Origin-Verify", "guess-" + std::to_string(n)}});
    });
    EXPECT_GE(direct, 1);
    EXPECT_LE(direct, 1 + kBurst + slack + 2);
    // Limited requests never reached the upstream.
    EXPECT_EQ(stub_->request_count(), static_cast<std::size_t>(a + b + c + d + direct));
}

// ---- response headers -------------------------------------------------------------------------

TEST_F(NginxEdgeTest, ResponsesCarryNoServerVersionOrFramework) {
    const auto proxied = get("/v1/playback/sessions");
    ASSERT_EQ(proxied.status, 200);
    const auto not_found = get("/metrics");
    const auto too_large =
        testing::http_call(port(), "POST", "/v1/playback/sessions", std::string(kMaxBody + 1, 'a'));
    for (const HttpReply* r : {&proxied, &not_found, &too_large}) {
        SCOPED_TRACE(r->status);
        ASSERT_TRUE(r->ok()) << r->error;
        // The stub sends "Server: stub-moneta/1.2.3" and "X-Powered-By": neither may leak, and
        // nginx must not add its own (with or without a version).
        EXPECT_TRUE(r->headers_named("Server").empty()) << r->header("Server").value_or("");
        EXPECT_TRUE(r->headers_named("X-Powered-By").empty());
    }
}

TEST_F(NginxEdgeTest, UpstreamErrorResponsesPassThroughUnchanged) {
    // moneta's own error bodies (api.md §4) must reach the client as sent, not be replaced by
    // the edge's generic pages.
    StubResponse overloaded;
    overloaded.status = 503;
    overloaded.reason = "Service Unavailable";
    overloaded.headers = {{"Content-Type", "application/json"}, {"Retry-After", "7"}};
    overloaded.body =
        R"({"error":{"code":"OVERLOADED","message":"Busy.","retryable":true,"details":{}},"server_time_ms":1})";
    stub_->set_response(overloaded);
    const auto r = get("/v1/playback/sessions");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, overloaded.body);
    EXPECT_EQ(r.headers_named("Retry-After"), std::vector<std::string>{"7"});
    EXPECT_EQ(stub_->request_count(), 1U);  // a 503 is an answer: never passed on (proxy_next_upstream)
}

// ---- framing errors nginx answers itself -----------------------------------------------------

TEST_F(NginxEdgeTest, MalformedAndSmugglingShapedRequestsAreJsonErrorsBeforeUpstream) {
    struct Probe {
        const char* name;
        std::string bytes;
        int status;
    };
    const Probe probes[] = {
        {"CL and TE together, with a smuggled request",
         "POST /v1/playback/sessions HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
         400},
        {"duplicate Content-Length",
         "POST /v1/playback/sessions HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
         "Content-Length: 2\r\n\r\nab",
         400},
        {"space before colon",
         "POST /v1/playback/sessions HTTP/1.1\r\nHost: a\r\nContent-Length : 1\r\n\r\na",
         400},
        {"obs-fold", "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n", 400},
        {"no Host", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 400},
        {"TE on HTTP/1.0",
         "POST /v1/playback/sessions HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: "
         "chunked\r\n\r\n0\r\n\r\n",
         400},
        {"unknown transfer coding",
         "POST /v1/playback/sessions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
         501},
        {"HTTP/2.0 on an h1 connection", "GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", 505},
    };
    for (const auto& p : probes) {
        SCOPED_TRACE(p.name);
        const auto data = testing::raw_exchange(port(), p.bytes, 5s);
        const auto reply = testing::parse_http_reply(data);
        ASSERT_TRUE(reply) << data;
        EXPECT_TRUE(is_edge_error(*reply, p.status, "INVALID_REQUEST", false));
        // One answer and the connection closed: nothing after the bad request is executed.
        std::size_t responses = 0;
        for (auto at = data.find("HTTP/1.1 "); at != std::string::npos;
             at = data.find("HTTP/1.1 ", at + 1)) {
            ++responses;
        }
        EXPECT_EQ(responses, 1U) << data;
    }
    EXPECT_EQ(stub_->request_count(), 0U);
}

// ---- rate limit --------------------------------------------------------------------------------

TEST_F(NginxEdgeTest, RateLimitAnswers429JsonWithRetryAfter) {
    constexpr int kBurst = 3;
    ASSERT_TRUE(start_edge(/*rate_per_sec=*/1, kBurst));
    const auto began = std::chrono::steady_clock::now();
    int passed = 0;
    std::optional<HttpReply> limited;
    for (int i = 0; i < 50 && !limited; ++i) {  // bounded burst
        auto r = get("/v1/playback/sessions");
        ASSERT_TRUE(r.ok()) << r.error;
        if (r.status == 429) {
            limited = std::move(r);
        } else {
            ASSERT_EQ(r.status, 200) << r.body;
            ++passed;
        }
    }
    const auto elapsed_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - began)
            .count();
    ASSERT_TRUE(limited) << "no 429 after 50 requests at 1 r/s, burst " << kBurst;
    EXPECT_TRUE(is_edge_error(*limited, 429, "RATE_LIMITED", true));
    EXPECT_EQ(limited->headers_named("Retry-After"), std::vector<std::string>{"1"});
    // 1 + burst pass at once; at 1 r/s, at most one more per second the loop took.
    EXPECT_GE(passed, 1);
    EXPECT_LE(passed, 1 + kBurst + static_cast<int>(elapsed_s) + 1);
    // Rejected requests never reached the upstream.
    EXPECT_EQ(stub_->request_count(), static_cast<std::size_t>(passed));
    // The limit is on the API locations: probes stay answerable while a client is limited.
    EXPECT_EQ(get("/healthz").status, 200);
}

// ---- upstream behaviour ------------------------------------------------------------------------

TEST_F(NginxEdgeTest, UpstreamConnectionsAreKeptAlive) {
    constexpr int kRequests = 10;
    for (int i = 0; i < kRequests; ++i) {
        // A fresh client connection each time: the reuse is on the nginx → moneta side.
        ASSERT_EQ(get("/v1/playback/sessions").status, 200);
    }
    const auto reqs = stub_->requests();
    ASSERT_EQ(reqs.size(), static_cast<std::size_t>(kRequests));
    EXPECT_EQ(stub_->connections_accepted(), 1);
    for (const auto& r : reqs) {
        EXPECT_EQ(r.connection, 1);
        // HTTP/1.1 without "Connection: close" is what keeps the upstream socket reusable.
        EXPECT_EQ(r.request_line.substr(r.request_line.size() - 8), "HTTP/1.1");
        EXPECT_EQ(r.count("Connection"), 0U) << r.dump();
    }
}

TEST_F(NginxEdgeTest, UpstreamDownIsA502JsonError) {
    ASSERT_EQ(get("/healthz").status, 200);
    stub_->stop();  // the cached keep-alive connection is closed too
    for (const char* target : {"/v1/playback/sessions", "/healthz"}) {
        SCOPED_TRACE(target);
        const auto r = get(target);
        ASSERT_TRUE(r.ok()) << r.error;
        if (r.status == 503) {
            EXPECT_TRUE(is_edge_error(r, 503, "UPSTREAM_UNAVAILABLE", true));
            EXPECT_EQ(r.headers_named("Retry-After"), std::vector<std::string>{"1"});
        } else {
            EXPECT_TRUE(is_edge_error(r, 502, "UPSTREAM_ERROR", true));
        }
    }
    EXPECT_EQ(stub_->request_count(), 1U);
    EXPECT_TRUE(edge_->running());
}

}  // namespace
}  // namespace moneta::deploy_test
