#include "moneta/trace/http_transport.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moneta/trace/exporter.hpp"
#include "otlp_receiver.hpp"

using moneta::testing::OtlpReceiver;
using moneta::testing::ScriptedAnswer;
using moneta::trace::Endpoint;
using moneta::trace::HttpTransport;
using moneta::trace::parse_endpoint;
using moneta::trace::parse_headers;
using namespace std::chrono_literals;

TEST(HttpTransportTest, ParsesEndpoints) {
    auto e = parse_endpoint("http://127.0.0.1:4318/v1/traces");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(e->port, 4318);
    EXPECT_EQ(e->path, "/v1/traces");
    e = parse_endpoint("http://apm-server");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->port, 80);
    EXPECT_EQ(e->path, "/v1/traces");
    for (const char* bad : {"https://x/v1/traces", "http://", "http://:4318/", "http://h:0/", "http://h:70000/",
                            "http://h:12a/", "ftp://h/", "http://h /x", "http://h/a b"}) {
        EXPECT_FALSE(parse_endpoint(bad)) << bad;
    }
}

TEST(HttpTransportTest, ParsesHeaderSpecs) {
    auto h = parse_headers("Authorization=Bearer abc==, x-tenant = blue");
    ASSERT_TRUE(h);
    ASSERT_EQ(h->size(), 2U);
    EXPECT_EQ((*h)[0].first, "Authorization");
    EXPECT_EQ((*h)[0].second, "Bearer abc==");  // only the first '=' splits
    EXPECT_EQ((*h)[1].first, "x-tenant");
    EXPECT_EQ((*h)[1].second, "blue");
    EXPECT_TRUE(parse_headers("")->empty());
    EXPECT_FALSE(parse_headers("novalue"));
    EXPECT_FALSE(parse_headers("=v"));
    EXPECT_FALSE(parse_headers("bad name=v"));
    EXPECT_FALSE(parse_headers(std::string("a=b\r\nInjected: 1")));
}

TEST(HttpTransportTest, PostsProtobufAndReadsStatusAndRetryAfter) {
    OtlpReceiver receiver;
    receiver.script({ScriptedAnswer{200, ""}, ScriptedAnswer{503, "3"}, ScriptedAnswer{429, "Wed, 21 Oct 2015 07:28:00 GMT"}});
    HttpTransport t(*parse_endpoint(receiver.endpoint()), {{"Authorization", "ApiKey secret"}});
    auto r = t.post(std::string_view("\x0a\x00", 2), 2s);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.retry_after);
    r = t.post("abc", 2s);
    EXPECT_EQ(r.status, 503);
    ASSERT_TRUE(r.retry_after);
    EXPECT_EQ(*r.retry_after, 3s);
    r = t.post("abc", 2s);
    EXPECT_EQ(r.status, 429);
    EXPECT_FALSE(r.retry_after) << "an HTTP-date falls back to our own backoff";
    const auto posts = receiver.posts();
    ASSERT_EQ(posts.size(), 3U);
    EXPECT_EQ(posts[0].method, "POST");
    EXPECT_EQ(posts[0].target, "/v1/traces");
    EXPECT_EQ(posts[0].header("content-type"), "application/x-protobuf");
    EXPECT_EQ(posts[0].header("authorization"), "ApiKey secret");
    EXPECT_EQ(posts[0].body, std::string("\x0a\x00", 2));
}

TEST(HttpTransportTest, NoCollectorIsStatusZeroWithinTheTimeout) {
    // A port that was free a moment ago: connection refused.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    Endpoint e{"127.0.0.1", ntohs(a.sin_port), "/v1/traces"};
    HttpTransport t(e, {});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(t.post("x", 1s).status, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(HttpTransportTest, ExporterOverHttpDeliversDecodableSpans) {
    OtlpReceiver receiver;
    moneta::trace::ExporterConfig c;
    c.batch_spans = 2;
    moneta::trace::Exporter exporter(
        c, moneta::trace::ResourceInfo{"svc", "9", "host", "dev"},
        std::make_unique<HttpTransport>(*parse_endpoint(receiver.endpoint()),
                                        std::vector<std::pair<std::string, std::string>>{}),
        moneta::core::SystemClock::instance());
    auto& ring = exporter.add_ring();
    moneta::trace::SpanRecord s;
    s.trace_id[3] = 1;
    s.span_id[5] = 1;
    s.name.assign("x");
    ASSERT_TRUE(ring.try_push(s));
    ASSERT_TRUE(ring.try_push(s));
    (void)exporter.pump();
    const auto got = receiver.accepted();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].resource_spans(0).scope_spans(0).spans_size(), 2);
    EXPECT_EQ(exporter.spans_exported(), 2U);
}
