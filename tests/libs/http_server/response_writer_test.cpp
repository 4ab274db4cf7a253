// Response serialization into the connection's reused buffer, and the per-worker Date cache.
#include "response_writer.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace moneta::http::detail {
namespace {

HeadOptions options() {
    HeadOptions o;
    o.date = "Fri, 04 Dec 2026 19:00:00 GMT";
    return o;
}

TEST(ResponseWriterTest, WritesTheStatusLineHeadersAndReturnsTheBody) {
    Response r;
    r.body = R"({"ok":true})";
    r.headers.emplace_back("Cache-Control", "no-store");
    HeadOptions o = options();
    o.request_id = "req-1";
    std::string out;
    const std::string_view body = serialize_head(out, r, o);
    EXPECT_EQ(out,
              "HTTP/1.1 200 OK\r\nDate: Fri, 04 Dec 2026 19:00:00 GMT\r\n"
              "Content-Type: application/json\r\nContent-Length: 11\r\nX-Request-Id: req-1\r\n"
              "Cache-Control: no-store\r\n\r\n");
    EXPECT_EQ(body, r.body);
    EXPECT_EQ(body.data(), r.body.data());  // sent from the Response, not copied
}

TEST(ResponseWriterTest, BodilessStatusesAndHead) {
    Response r;
    r.status = 204;
    std::string out;
    EXPECT_TRUE(serialize_head(out, r, options()).empty());
    EXPECT_EQ(out.find("Content-Length"), std::string::npos);
    EXPECT_EQ(out.find("Content-Type"), std::string::npos);
    r.status = 200;
    EXPECT_NE(serialize_head(out, r, options()).data(), nullptr);
    EXPECT_NE(out.find("Content-Length: 0\r\n"), std::string::npos);  // empty 200 still framed
    r.body = "12345";
    HeadOptions head = options();
    head.head_method = true;
    EXPECT_TRUE(serialize_head(out, r, head).empty());
    EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos);  // the GET's length
}

TEST(ResponseWriterTest, ConnectionHeaderFollowsVersionAndKeepAlive) {
    Response r;
    std::string out;
    HeadOptions o = options();
    serialize_head(out, r, o);
    EXPECT_EQ(out.find("Connection"), std::string::npos);
    o.keep_alive = false;
    serialize_head(out, r, o);
    EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
    o.version = 10;
    serialize_head(out, r, o);
    EXPECT_EQ(out.rfind("HTTP/1.0 200 OK\r\n", 0), 0U);
    EXPECT_EQ(out.find("Connection"), std::string::npos);  // 1.0 closes by default
    o.keep_alive = true;
    serialize_head(out, r, o);
    EXPECT_NE(out.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseWriterTest, RetryAfterOnEvery503And504Once) {
    std::string out;
    for (int status : {503, 504}) {
        Response r;
        r.status = status;
        serialize_head(out, r, options());
        EXPECT_NE(out.find("\r\nRetry-After: 1\r\n"), std::string::npos) << status;
        r.headers.emplace_back("retry-after", "7");
        serialize_head(out, r, options());
        EXPECT_EQ(out.find("Retry-After: 1"), std::string::npos);
        EXPECT_NE(out.find("\r\nretry-after: 7\r\n"), std::string::npos);
    }
}

TEST(ResponseWriterTest, AHeaderThatWouldSplitTheResponseIsDropped) {
    Response r;
    r.headers.emplace_back("X-Ok", "fine");
    r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: s=1");
    r.headers.emplace_back("Bad Name", "v");
    r.headers.emplace_back("", "v");
    std::string out;
    serialize_head(out, r, options());
    EXPECT_NE(out.find("X-Ok: fine\r\n"), std::string::npos);
    EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
    EXPECT_EQ(out.find("Bad Name"), std::string::npos);
    EXPECT_EQ(out.find("\r\n: v"), std::string::npos);
}

TEST(ResponseWriterTest, TheBufferKeepsItsCapacity) {
    Response r;
    r.status = 404;
    r.body = "x";
    std::string out;
    serialize_head(out, r, options());
    const char* data = out.data();
    const std::size_t cap = out.capacity();
    for (int i = 0; i < 10; ++i) {
        serialize_head(out, r, options());
    }
    EXPECT_EQ(out.data(), data);
    EXPECT_EQ(out.capacity(), cap);
    EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0U);
}

// The head is sized before it is written: every optional line at once, with long values, comes
// out whole (a short size would have cut or zero-filled it).
TEST(ResponseWriterTest, EveryOptionalLineAtOnceComesOutWhole) {
    static const std::string kLongType(300, 't');
    static const std::string kLongId(128, 'r');
    Response r;
    r.status = 503;
    r.body = std::string(1'234'567, 'b');
    r.content_type = kLongType;
    r.headers.emplace_back("X-Long", std::string(5000, 'v'));
    r.headers.emplace_back("X-Short", "s");
    HeadOptions o = options();
    o.version = 10;
    o.keep_alive = true;
    o.request_id = kLongId;
    std::string out;
    serialize_head(out, r, o);
    EXPECT_EQ(out, "HTTP/1.0 503 Service Unavailable\r\nDate: Fri, 04 Dec 2026 19:00:00 GMT\r\nContent-Type: " +
                       std::string(300, 't') + "\r\nContent-Length: 1234567\r\nX-Request-Id: " + std::string(128, 'r') +
                       "\r\nX-Long: " + std::string(5000, 'v') +
                       "\r\nX-Short: s\r\nRetry-After: 1\r\nConnection: keep-alive\r\n\r\n");
    r.status = 999;  // no reason phrase
    r.headers.clear();
    o = options();
    serialize_head(out, r, o);
    EXPECT_EQ(out.rfind("HTTP/1.1 999 \r\n", 0), 0U);
}

TEST(DateCacheTest, FormatsAnImfFixdate) {
    DateCache cache;
    const std::string_view d = cache.now();
    static const std::regex kImf("[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT");
    EXPECT_TRUE(std::regex_match(std::string(d), kImf)) << d;
    EXPECT_EQ(cache.now().data(), d.data());  // the worker's own buffer, no formatting per call
}

}  // namespace
}  // namespace moneta::http::detail
