// deploy/fluent-bit against moneta's real log lines. Debian 12 ships no fluent-bit, so the rules
// are applied by a reimplementation of exactly the parts the config uses
// (fluent_bit_pipeline.hpp), read from the shipped files by a strict reader: a key it does not
// understand fails the test. This is not Fluent Bit itself (docs/observability.md "Log shipping").
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <regex>
#include <string>

#include "fluent_bit_pipeline.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/stack.hpp"
#include "moneta/testing/temp_dir.hpp"

namespace moneta {
namespace {

namespace flb = testing::flb;
using testing::HttpHeaders;
using testing::HttpReply;

std::string conf_dir() { return (testing::source_dir() / "deploy" / "fluent-bit").string(); }

flb::Env sidecar_env(const std::string& log_file, const std::string& storage) {
    return {
        {"MONETA_LOG_FILE", log_file},
        {"MONETA_FLB_STORAGE_PATH", storage},
        {"MONETA_ENVIRONMENT", "ci-fluent"},
        {"HOSTNAME", "moneta-task-7"},
        {"MONETA_LOG_PLATFORM_HOST", "logs.example.internal"},
        {"MONETA_LOG_PLATFORM_PORT", "9200"},
        {"MONETA_LOG_PLATFORM_USER", "moneta-shipper"},
        {"MONETA_LOG_PLATFORM_PASSWORD", "platform-password-xyz"},
    };
}

std::string str(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

TEST(FluentBitConfig, ReaderRefusesWhatItDoesNotUnderstand) {
    EXPECT_THROW(flb::read_classic("@INCLUDE other.conf\n", "t"), flb::ConfigError);
    EXPECT_THROW(flb::read_classic("[INPUT]\n\tName tail\n", "t"), flb::ConfigError);
    EXPECT_THROW(flb::read_classic("[INPUT]\n  Name tail\n", "t"), flb::ConfigError);
    EXPECT_THROW(flb::read_classic("[NOPE]\n", "t"), flb::ConfigError);
    EXPECT_THROW(flb::read_classic("    Name tail\n", "t"), flb::ConfigError);
    EXPECT_THROW(flb::read_classic("[INPUT]\n    Name\n", "t"), flb::ConfigError);
    EXPECT_THROW(flb::read_classic("[INPUT]\n    Name tail", "t"), flb::ConfigError);
    const auto s = flb::read_classic("# c\n[FILTER]\n    Name  modify\n    Set   a b\n\n", "t");
    ASSERT_EQ(s.size(), 1U);
    ASSERT_EQ(s[0].entries.size(), 2U);
    EXPECT_EQ(s[0].entries[1].key, "Set");
    EXPECT_EQ(s[0].entries[1].value, "a b");

    EXPECT_EQ(
        flb::parse_time("%Y-%m-%dT%H:%M:%S.%LZ", "2025-11-25T04:05:06.789Z"), 1764043506789000000
    );
    EXPECT_FALSE(flb::parse_time("%Y-%m-%dT%H:%M:%S.%LZ", "2025-11-25 04:05:06.789Z"));
    EXPECT_THROW(flb::parse_time("%s", "1"), flb::ConfigError);
    EXPECT_TRUE(flb::tag_matches("moneta.*", "moneta.access"));
    EXPECT_FALSE(flb::tag_matches("moneta.app", "moneta.access"));
}

TEST(FluentBitConfig, ShippedConfigLoadsWithItsBufferAndRetryPolicy) {
    testing::TempDir tmp("moneta-flb-");
    const auto env =
        sidecar_env(tmp.file("moneta.json.log").string(), tmp.file("flb-storage").string());
    const auto p = flb::Pipeline::load(conf_dir(), env);

    // Every ${VAR} the files use is one the doc lists (and this test sets).
    std::set<std::string> documented;
    for (const auto& [k, v] : env) {
        documented.insert(k);
    }
    EXPECT_EQ(p.referenced_env(), documented);

    const auto& st = p.settings();
    EXPECT_EQ(st.at("service").at("storage.path"), tmp.file("flb-storage").string());
    EXPECT_EQ(st.at("input").at("storage.type"), "filesystem");
    EXPECT_EQ(st.at("input").at("db"), tmp.file("flb-storage").string() + "/tail.db");
    EXPECT_EQ(st.at("rewrite_tag").at("emitter_storage.type"), "filesystem");
    EXPECT_EQ(p.output_indices(), (std::vector<std::string>{"moneta-access", "moneta-app"}));
    for (const auto& index : p.output_indices()) {
        const auto& o = st.at("output:" + index);
        EXPECT_EQ(o.at("retry_limit"), "10") << index;
        EXPECT_EQ(o.at("storage.total_limit_size"), "512M") << index;
        EXPECT_EQ(o.at("host"), "logs.example.internal") << index;
        EXPECT_EQ(o.at("port"), "9200") << index;
        EXPECT_EQ(o.at("tls"), "On") << index;
    }

    // Unset variables expand to "" (as in Fluent Bit) and leave a modify rule with one word.
    auto missing = env;
    missing.erase("HOSTNAME");
    EXPECT_THROW(flb::Pipeline::load(conf_dir(), missing), flb::ConfigError);
}

// Every rule on lines that exercise its branches: a JSON app line, an access line, a line that
// is not JSON (kept whole, not dropped), a line over Buffer_Max_Size (skipped and counted), a
// JSON line with another dataset (kept), and a last line without its newline (not read yet).
TEST(FluentBitConfig, EveryRuleOnCraftedLines) {
    testing::TempDir tmp("moneta-flb-");
    const auto p = flb::Pipeline::load(conf_dir(), sidecar_env("/unused", tmp.path().string()));
    const std::string app =
        R"({"@timestamp":"2025-11-25T04:05:06.789Z","log.level":"info","message":"moneta started","ecs.version":"8.11.0","service.name":"moneta"})";
    const std::string access =
        R"({"@timestamp":"2025-11-25T04:05:07.001Z","log.level":"info","message":"access","ecs.version":"8.11.0","service.name":"moneta","event.dataset":"moneta.access"})";
    const std::string other =
        R"({"@timestamp":"2025-11-25T04:05:07.002Z","event.dataset":"moneta.accessx"})";
    const std::string garbage = "panic: not json";
    const std::string huge = R"({"message":")" + std::string(300 * 1024, 'x') + "\"}";
    const auto r = p.run_content(
        app + "\n" + access + "\n\n" + garbage + "\n" + huge + "\n" + other + "\n" + "{\"half"
    );

    EXPECT_EQ(r.lines, 5U);
    EXPECT_EQ(r.skipped_long, 1U);
    EXPECT_EQ(r.pending_bytes, 6U);
    EXPECT_EQ(r.unrouted, 0U);
    ASSERT_EQ(r.delivered.size(), 4U);
    const auto& a = r.delivered[0];
    EXPECT_EQ(a.index, "moneta-app");
    EXPECT_EQ(str(a.doc, "@timestamp"), "2025-11-25T04:05:06.789Z");
    EXPECT_EQ(str(a.doc, "event.dataset"), "moneta.app");  // Add on the app route
    EXPECT_EQ(str(a.doc, "service.environment"), "ci-fluent");
    EXPECT_EQ(str(a.doc, "host.name"), "moneta-task-7");
    EXPECT_EQ(str(r.delivered[1].doc, "event.dataset"), "moneta.access");
    EXPECT_EQ(r.delivered[1].index, "moneta-access");
    EXPECT_EQ(r.delivered[1].tag, "moneta.access");
    EXPECT_EQ(r.delivered[2].index, "moneta-app");
    EXPECT_EQ(str(r.delivered[2].doc, "log"), garbage);
    EXPECT_EQ(str(r.delivered[2].doc, "service.name"), "moneta");  // Add where the line had none
    EXPECT_FALSE(r.delivered[2].parsed);
    EXPECT_EQ(r.delivered[3].index, "moneta-app");  // ^...$ anchors: another dataset stays
    EXPECT_EQ(str(r.delivered[3].doc, "event.dataset"), "moneta.accessx");  // Add keeps it

    // The app-route Add does not touch access records; Set overwrites what a line says.
    const std::string spoof =
        R"({"@timestamp":"2025-11-25T04:05:07.003Z","host.name":"evil","service.environment":"prod","service.name":"other"})";
    const auto r2 = p.run_content(spoof + "\n");
    ASSERT_EQ(r2.delivered.size(), 1U);
    EXPECT_EQ(str(r2.delivered[0].doc, "host.name"), "moneta-task-7");
    EXPECT_EQ(str(r2.delivered[0].doc, "service.environment"), "ci-fluent");
    EXPECT_EQ(str(r2.delivered[0].doc, "service.name"), "other");  // Add: the line's own name wins
}

// Real lines: a Stack (redis, internal_api, moneta, nginx), a start, a heartbeat, a bad request
// and an auth failure with known traceparents, moneta stopped gracefully (its log flushed), then
// the sidecar's rules over moneta's log file, read from the Path the config names.
TEST(FluentBitConfig, RealMonetaLinesParseEnrichAndRoute) {
    testing::Stack s;
    ASSERT_TRUE(s.start());

    const std::string tok = s.token("a_1", "p_1");
    std::string forged = tok;
    // A whole base64url character inside the signature (the last one also holds padding bits).
    char& c = forged[forged.size() - 5];
    c = c == 'A' ? 'B' : 'A';
    struct Sent {
        std::string trace_id;
        std::string parent_id;
        std::string path;  // empty: known after the start
        int status;
    };
    std::vector<Sent> sent = {
        {"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "/v1/playback/sessions", 201},
        {"5cf92f3577b34da6a3ce929d0e0e4737", "10f067aa0ba902b8", "", 200},
        {"6df92f3577b34da6a3ce929d0e0e4738", "20f067aa0ba902b9", "/v1/playback/sessions", 400},
        {"7ef92f3577b34da6a3ce929d0e0e4739", "30f067aa0ba902ba", "/v1/playback/sessions", 401},
    };
    auto tp = [](const Sent& x) {
        return HttpHeaders{{"traceparent", "00-" + x.trace_id + "-" + x.parent_id + "-01"}};
    };
    const std::string body =
        R"({"content_id":"m_1","device":{"id":"tv-flb","type":"tv","name":"TV"},"capabilities":{"protocols":["dash"],"drm":["widevine"],"video_codecs":["avc"],"max_height":1080}})";

    const HttpReply start = s.call("POST", "/v1/playback/sessions", body, tok, tp(sent[0]));
    ASSERT_EQ(start.status, 201) << start.body;
    const auto sid = std::string(boost::json::parse(start.body).at("session_id").as_string());
    sent[1].path = "/v1/playback/sessions/" + sid + "/heartbeat";
    EXPECT_EQ(
        s.call(
             "POST",
             sent[1].path,
             R"({"position_sec":12.5,"state":"playing","seq":1})",
             tok,
             tp(sent[1])
        )
            .status,
        200
    );
    EXPECT_EQ(
        s.call("POST", "/v1/playback/sessions", "{\"content_id\":", tok, tp(sent[2])).status, 400
    );
    EXPECT_EQ(s.call("POST", "/v1/playback/sessions", body, forged, tp(sent[3])).status, 401);
    EXPECT_EQ(s.stop_moneta(), 0);  // the logger flushes everything on the way out

    testing::TempDir storage("moneta-flb-");
    const std::string log_file = (s.dir() / "moneta.json.log").string();
    const auto p = flb::Pipeline::load(conf_dir(), sidecar_env(log_file, storage.path().string()));
    const auto r = p.run();

    // Every line read, parsed, timed from its own @timestamp, routed to exactly one output.
    ASSERT_GE(r.lines, 6U);
    EXPECT_EQ(r.skipped_long, 0U);
    EXPECT_EQ(r.pending_bytes, 0U);
    EXPECT_EQ(r.unrouted, 0U);
    EXPECT_FALSE(r.stopped_on_long_line);
    ASSERT_EQ(r.delivered.size(), r.lines);
    const std::vector<std::string> secrets = {
        tok,
        forged,
        tok.substr(tok.rfind('.') + 1),
        "Bearer",
        s.edge_token(),
        s.admin_token(),
        s.redis_password(),
        s.cdn_origin_secret(),
        "platform-password-xyz"};
    std::size_t access = 0;
    std::size_t app = 0;
    bool saw_started = false;
    for (const auto& d : r.delivered) {
        SCOPED_TRACE(d.source_line);
        EXPECT_TRUE(d.parsed);
        EXPECT_TRUE(d.time_from_line);
        EXPECT_FALSE(d.doc.contains("log"));
        // es writes @timestamp back from the record's time: the same text as the line's.
        EXPECT_EQ(
            str(d.doc, "@timestamp"),
            str(boost::json::parse(d.source_line).as_object(), "@timestamp")
        );
        EXPECT_EQ(str(d.doc, "service.name"), "moneta");
        EXPECT_EQ(str(d.doc, "service.environment"), "ci-fluent");
        EXPECT_EQ(str(d.doc, "host.name"), "moneta-task-7");
        const std::string text = boost::json::serialize(d.doc);
        for (const auto& secret : secrets) {
            EXPECT_EQ(text.find(secret), std::string::npos) << "a secret in a shipped record";
        }
        if (str(d.doc, "message") == "access") {
            ++access;
            EXPECT_EQ(d.index, "moneta-access");
            EXPECT_EQ(str(d.doc, "event.dataset"), "moneta.access");
        } else {
            ++app;
            EXPECT_EQ(d.index, "moneta-app");
            EXPECT_EQ(str(d.doc, "event.dataset"), "moneta.app");
            saw_started = saw_started || str(d.doc, "message") == "moneta started";
        }
    }
    EXPECT_GE(access, sent.size());
    EXPECT_GE(app, 2U);  // started, stopping, stopped
    EXPECT_TRUE(saw_started);

    // The access record of each request carries the trace id we sent and moneta's own span id.
    for (const auto& x : sent) {
        SCOPED_TRACE(x.trace_id);
        std::vector<const flb::Delivered*> hits;
        for (const auto& d : r.delivered) {
            if (str(d.doc, "trace.id") == x.trace_id) {
                hits.push_back(&d);
            }
        }
        ASSERT_EQ(hits.size(), 1U);
        const auto& doc = hits[0]->doc;
        EXPECT_EQ(hits[0]->index, "moneta-access");
        EXPECT_EQ(str(doc, "url.path"), x.path);
        EXPECT_EQ(doc.at("http.response.status_code").as_int64(), x.status);
        const std::string span = str(doc, "transaction.id");
        EXPECT_TRUE(std::regex_match(span, std::regex("[0-9a-f]{16}"))) << span;
        EXPECT_NE(span, x.parent_id);
        EXPECT_FALSE(str(doc, "http.request.id").empty());
    }
}

}  // namespace
}  // namespace moneta
