// Spans of a start that misses the cache, a heartbeat and a failing start, exported by moneta
// and the internal API to a fake OTLP/HTTP receiver, decoded with libprotobuf: ids, kinds,
// parentage (moneta server → moneta client → internal_api server), attributes, status, the
// Retry-After of a 503 honoured, and the trace id in moneta's log lines.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <regex>

#include "moneta/testing/playback.hpp"
#include "moneta/testing/stack.hpp"
#include "moneta/testing/wait.hpp"
#include "otlp_receiver.hpp"

namespace moneta {
namespace {

using namespace std::chrono_literals;
namespace otlp = opentelemetry::proto;

std::string hex(const std::string& bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kHex[c >> 4U];
        out += kHex[c & 0xFU];
    }
    return out;
}

struct Got {
    std::string service;
    otlp::trace::v1::Span span;
    std::map<std::string, otlp::common::v1::AnyValue> attrs;
    std::string attr(const std::string& k) const {
        auto it = attrs.find(k);
        return it == attrs.end() ? "" : it->second.string_value();
    }
    std::int64_t int_attr(const std::string& k) const {
        auto it = attrs.find(k);
        return it == attrs.end() ? -1 : it->second.int_value();
    }
};

/// Every span the receiver accepted for trace @p trace_hex, with its resource's service.name.
std::vector<Got> spans_of(const testing::OtlpReceiver& r, const std::string& trace_hex) {
    std::vector<Got> out;
    for (const auto& req : r.accepted()) {
        for (const auto& rs : req.resource_spans()) {
            std::string service;
            for (const auto& kv : rs.resource().attributes()) {
                if (kv.key() == "service.name") {
                    service = kv.value().string_value();
                }
            }
            for (const auto& ss : rs.scope_spans()) {
                for (const auto& sp : ss.spans()) {
                    if (hex(sp.trace_id()) != trace_hex) {
                        continue;
                    }
                    Got g{service, sp, {}};
                    for (const auto& kv : sp.attributes()) {
                        g.attrs.emplace(kv.key(), kv.value());
                    }
                    out.push_back(std::move(g));
                }
            }
        }
    }
    return out;
}

class TracingStackTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        receiver_ = new testing::OtlpReceiver();
        // The first export is refused with 503 + Retry-After: 1: the spans still arrive (after
        // the wait the receiver asked for).
        receiver_->script({testing::ScriptedAnswer{503, "1"}});
        // Inherited by every child the stack starts (moneta and the internal API).
        ::setenv("MONETA_OTLP_ENDPOINT", receiver_->endpoint().c_str(), 1);
        ::setenv("MONETA_TRACE_SAMPLE_RATIO", "1", 1);
        ::setenv("MONETA_OTLP_HEADERS", "Authorization=ApiKey test-secret-value", 1);
        testing::StackOptions o;
        o.internal_api_fault_control = true;
        stack_ = new testing::Stack(o);
        const auto ok = stack_->start();
        if (!ok) {
            delete stack_;
            stack_ = nullptr;
            FAIL() << ok.message();
        }
    }
    static void TearDownTestSuite() {
        delete stack_;
        stack_ = nullptr;
        delete receiver_;
        receiver_ = nullptr;
        ::unsetenv("MONETA_OTLP_ENDPOINT");
        ::unsetenv("MONETA_TRACE_SAMPLE_RATIO");
        ::unsetenv("MONETA_OTLP_HEADERS");
    }
    void SetUp() override { ASSERT_NE(stack_, nullptr) << "the stack did not start"; }

    static testing::Stack* stack_;
    static testing::OtlpReceiver* receiver_;
};
testing::Stack* TracingStackTest::stack_ = nullptr;
testing::OtlpReceiver* TracingStackTest::receiver_ = nullptr;

TEST_F(TracingStackTest, StartMissAndHeartbeatAreOneTraceAcrossBothServices) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_1");
    const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const std::string caller_span = "00f067aa0ba902b7";
    const testing::HttpHeaders headers{{"traceparent", "00-" + trace + "-" + caller_span + "-01"},
                                       {"tracestate", "congo=t61rcWkgMzE"}};
    const auto start = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "tv-trace"), tok, headers);
    ASSERT_EQ(start.status, 201) << start.body;
    const std::string sid = [&] {
        const std::smatch m = [&] {
            std::smatch mm;
            std::regex_search(start.body, mm, std::regex("\"session_id\":\"([^\"]+)\""));
            return mm;
        }();
        return m.size() > 1 ? m[1].str() : std::string();
    }();
    ASSERT_FALSE(sid.empty());
    const auto hb = s.call("POST", "/v1/playback/sessions/" + sid + "/heartbeat",
                           R"({"position_sec":12.5,"state":"playing","seq":1})", tok, headers);
    ASSERT_EQ(hb.status, 200) << hb.body;

    // Two moneta server spans (start, heartbeat), moneta's client spans to the internal API
    // (account and content: the cache was cold) and to Redis (start: admission pipeline and
    // lease script; heartbeat: its script), and the internal API's server spans.
    std::vector<Got> spans;
    ASSERT_TRUE(testing::wait_until(
        [&] {
            spans = spans_of(*receiver_, trace);
            int servers = 0;
            int ia = 0;
            for (const auto& g : spans) {
                servers += g.service == "moneta" && g.span.kind() == otlp::trace::v1::Span::SPAN_KIND_SERVER;
                ia += g.service == "internal-api";
            }
            return servers >= 2 && ia >= 2 && spans.size() >= 9;
        },
        30s, "spans of the trace at the receiver"));
    EXPECT_EQ(receiver_->bad_bodies(), 0U);

    const Got* start_span = nullptr;
    const Got* hb_span = nullptr;
    std::vector<const Got*> clients;
    std::vector<const Got*> ia_servers;
    for (const auto& g : spans) {
        EXPECT_EQ(g.span.span_id().size(), 8U);
        if (g.service == "moneta" && g.span.kind() == otlp::trace::v1::Span::SPAN_KIND_SERVER) {
            if (g.attr("http.route") == "/v1/playback/sessions") {
                start_span = &g;
            } else if (g.attr("http.route") == "/v1/playback/sessions/{id}/heartbeat") {
                hb_span = &g;
            }
        } else if (g.service == "moneta" && g.span.kind() == otlp::trace::v1::Span::SPAN_KIND_CLIENT) {
            clients.push_back(&g);
        } else if (g.service == "internal-api") {
            ia_servers.push_back(&g);
        }
    }
    ASSERT_NE(start_span, nullptr);
    ASSERT_NE(hb_span, nullptr);
    // Server spans: children of the caller's span, named by method + route template (no ids).
    EXPECT_EQ(hex(start_span->span.parent_span_id()), caller_span);
    EXPECT_EQ(hex(hb_span->span.parent_span_id()), caller_span);
    EXPECT_EQ(start_span->span.name(), "POST /v1/playback/sessions");
    EXPECT_EQ(hb_span->span.name(), "POST /v1/playback/sessions/{id}/heartbeat");
    EXPECT_EQ(start_span->attr("http.request.method"), "POST");
    EXPECT_EQ(start_span->int_attr("http.response.status_code"), 201);
    EXPECT_EQ(hb_span->int_attr("http.response.status_code"), 200);
    EXPECT_NE(start_span->span.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
    EXPECT_EQ(start_span->span.flags() & 0xFFU, 1U);
    EXPECT_LE(start_span->span.start_time_unix_nano(), start_span->span.end_time_unix_nano());
    for (const auto& g : spans) {
        EXPECT_EQ(g.span.name().find(sid), std::string::npos) << "no session id in span names";
        for (const auto& [k, v] : g.attrs) {
            EXPECT_EQ(v.string_value().find(sid), std::string::npos) << k;
            EXPECT_EQ(v.string_value().find("a_1"), std::string::npos) << k << ": no account id";
        }
    }

    // Redis round trips: one client span per pipeline/script call, children of their request.
    std::vector<const Got*> api_clients;
    std::map<std::string, std::string> redis_parent_by_op;
    for (const Got* c : clients) {
        if (c->attr("db.system") == "redis") {
            EXPECT_EQ(c->span.name(), "redis " + c->attr("db.operation"));
            EXPECT_EQ(c->attr("peer.service"), "redis");
            EXPECT_EQ(c->int_attr("server.port"), s.redis().port());
            EXPECT_NE(c->span.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
            redis_parent_by_op[c->attr("db.operation")] = hex(c->span.parent_span_id());
        } else {
            api_clients.push_back(c);
        }
    }
    EXPECT_EQ(redis_parent_by_op["admission"], hex(start_span->span.span_id()));
    EXPECT_EQ(redis_parent_by_op["session_start"], hex(start_span->span.span_id()));
    EXPECT_EQ(redis_parent_by_op["heartbeat"], hex(hb_span->span.span_id()));

    // moneta's client spans to the internal API are the start span's children...
    ASSERT_GE(api_clients.size(), 2U);
    std::map<std::string, const Got*> client_by_id;
    for (const Got* c : api_clients) {
        EXPECT_EQ(hex(c->span.parent_span_id()), hex(start_span->span.span_id()));
        EXPECT_EQ(c->attr("peer.service"), "internal-api");
        EXPECT_EQ(c->attr("server.address"), "127.0.0.1");
        EXPECT_EQ(c->int_attr("server.port"), s.internal_api_port());
        EXPECT_EQ(c->int_attr("http.response.status_code"), 200);
        EXPECT_TRUE(c->span.name() == "GET /internal/v1/accounts/{id}" || c->span.name() == "GET /internal/v1/contents/{id}" ||
                    c->span.name() == "GET /internal/v1/profiles/{id}/progress")
            << c->span.name();
        EXPECT_GE(c->span.start_time_unix_nano(), start_span->span.start_time_unix_nano());
        EXPECT_LE(c->span.end_time_unix_nano(), start_span->span.end_time_unix_nano());
        client_by_id[hex(c->span.span_id())] = c;
    }
    // ...and each internal API server span is the child of one of them (the id moneta sent in
    // traceparent).
    ASSERT_GE(ia_servers.size(), 2U);
    for (const Got* g : ia_servers) {
        EXPECT_EQ(g->span.kind(), otlp::trace::v1::Span::SPAN_KIND_SERVER);
        ASSERT_TRUE(client_by_id.count(hex(g->span.parent_span_id())))
            << "internal API span " << g->span.name() << " has no moneta client parent";
        const Got* parent = client_by_id.at(hex(g->span.parent_span_id()));
        EXPECT_EQ(g->attr("http.route"), parent->attr("http.route"));
        EXPECT_EQ(g->int_attr("http.response.status_code"), 200);
    }

    // The exporter sent the configured header and the protobuf content type.
    const auto posts = receiver_->posts();
    ASSERT_FALSE(posts.empty());
    EXPECT_EQ(posts[0].header("content-type"), "application/x-protobuf");
    EXPECT_EQ(posts[0].header("authorization"), "ApiKey test-secret-value");
    EXPECT_EQ(posts[0].target, "/v1/traces");

    // Logs: moneta's access lines carry the same trace.id and transaction.id (= server span).
    // (The logger's thread writes them in batches: wait for the heartbeat's line.)
    std::string log;
    EXPECT_TRUE(testing::wait_until(
        [&] {
            log = s.moneta_log();
            return log.find("\"transaction.id\":\"" + hex(hb_span->span.span_id()) + "\"") != std::string::npos;
        },
        10s, "the heartbeat's access line"));
    EXPECT_NE(log.find("\"trace.id\":\"" + trace + "\""), std::string::npos);
    EXPECT_NE(log.find("\"transaction.id\":\"" + hex(start_span->span.span_id()) + "\""), std::string::npos);
    EXPECT_NE(log.find("\"transaction.id\":\"" + hex(hb_span->span.span_id()) + "\""), std::string::npos);
    EXPECT_EQ(log.find("test-secret-value"), std::string::npos) << "the OTLP headers are never logged";
    EXPECT_GE(s.metric("moneta_trace_spans_exported_total"), 3);
    EXPECT_GT(receiver_->post_count(), receiver_->accepted().size()) << "the scripted 503 was retried";
}

TEST_F(TracingStackTest, ProgressReadsHaveRedisClientSpansUnderTheirRequests) {
    testing::Stack& s = *stack_;
    const std::string tok = s.token("a_1", "p_2");
    const std::string trace = "5cf92f3577b34da6a3ce929d0e0e4737";
    const testing::HttpHeaders headers{{"traceparent", "00-" + trace + "-00f067aa0ba902b8-01"}};
    const auto get = s.call("GET", "/v1/me/progress?content_ids=m_1", "", tok, headers);
    ASSERT_EQ(get.status, 200) << get.body;
    const auto cw = s.call("GET", "/v1/me/continue-watching?limit=5", "", tok, headers);
    ASSERT_EQ(cw.status, 200) << cw.body;

    // Each read: its admission pipeline, then its own round trip (and, on a first read of the
    // profile, the load script after the internal API answered).
    std::vector<Got> spans;
    std::map<std::string, std::string> server_by_route;
    std::multimap<std::string, std::string> redis_parents;  // operation -> parent span id
    ASSERT_TRUE(testing::wait_until(
        [&] {
            spans = spans_of(*receiver_, trace);
            server_by_route.clear();
            redis_parents.clear();
            for (const auto& g : spans) {
                if (g.service != "moneta") {
                    continue;
                }
                if (g.span.kind() == otlp::trace::v1::Span::SPAN_KIND_SERVER) {
                    server_by_route[g.attr("http.route")] = hex(g.span.span_id());
                } else if (g.attr("db.system") == "redis") {
                    redis_parents.emplace(g.attr("db.operation"), hex(g.span.parent_span_id()));
                }
            }
            return server_by_route.size() >= 2 && redis_parents.count("progress_get") == 1 &&
                   redis_parents.count("continue_watching") >= 1 && redis_parents.count("admission") >= 2;
        },
        30s, "the progress reads' spans"));
    const std::string get_id = server_by_route["/v1/me/progress"];
    const std::string cw_id = server_by_route["/v1/me/continue-watching"];
    ASSERT_FALSE(get_id.empty());
    ASSERT_FALSE(cw_id.empty());
    EXPECT_EQ(redis_parents.find("progress_get")->second, get_id);
    for (auto [it, end] = redis_parents.equal_range("continue_watching"); it != end; ++it) {
        EXPECT_EQ(it->second, cw_id);
    }
    std::multiset<std::string> admission_parents;
    for (auto [it, end] = redis_parents.equal_range("admission"); it != end; ++it) {
        admission_parents.insert(it->second);
    }
    EXPECT_EQ(admission_parents.count(get_id), 1U);
    EXPECT_EQ(admission_parents.count(cw_id), 1U);
    for (auto [it, end] = redis_parents.equal_range("progress_load"); it != end; ++it) {
        EXPECT_TRUE(it->second == get_id || it->second == cw_id) << "a load belongs to one of the reads";
    }
}

TEST_F(TracingStackTest, FailingStartIsAnErrorSpanWithAnErrorClientSpan) {
    testing::Stack& s = *stack_;
    ASSERT_TRUE(s.set_internal_api_fault(R"({"mode":"error_rate","rate":1,"status":500})"));
    const std::string trace = "0af7651916cd43dd8448eb211c80319c";
    const testing::HttpHeaders headers{{"traceparent", "00-" + trace + "-b7ad6b7169203331-01"}};
    const auto r = s.call("POST", "/v1/playback/sessions", testing::start_body("m_1", "tv-err"), s.token("a_basic", "p_basic"),
                          headers);
    ASSERT_TRUE(s.set_internal_api_fault(R"({"mode":"ok"})"));
    ASSERT_GE(r.status, 500) << r.body;

    std::vector<Got> spans;
    ASSERT_TRUE(testing::wait_until(
        [&] {
            spans = spans_of(*receiver_, trace);
            for (const auto& g : spans) {
                if (g.service == "moneta" && g.span.kind() == otlp::trace::v1::Span::SPAN_KIND_SERVER) {
                    return true;
                }
            }
            return false;
        },
        30s, "the failing request's server span"));
    bool client_error = false;
    for (const auto& g : spans) {
        if (g.service == "moneta" && g.span.kind() == otlp::trace::v1::Span::SPAN_KIND_SERVER) {
            EXPECT_EQ(g.span.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
            EXPECT_EQ(g.int_attr("http.response.status_code"), r.status);
            EXPECT_EQ(g.attr("error.type"), std::to_string(r.status));
        }
        if (g.service == "moneta" && g.span.kind() == otlp::trace::v1::Span::SPAN_KIND_CLIENT &&
            g.span.status().code() == otlp::trace::v1::Status::STATUS_CODE_ERROR) {
            client_error = true;
            EXPECT_EQ(g.int_attr("http.response.status_code"), 500);
            EXPECT_EQ(g.attr("error.type"), "500");
        }
    }
    EXPECT_TRUE(client_error) << "the internal API's 500 is an ERROR client span";
}

}  // namespace
}  // namespace moneta
