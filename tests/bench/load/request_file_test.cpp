// The load generator's pure parts: request lines, placeholders, response framing, percentiles.
#include <gtest/gtest.h>

#include "latency_histogram.hpp"
#include "request_file.hpp"
#include "response_parser.hpp"

namespace moneta::bench {
namespace {

TEST(RequestFileTest, RendersHeadersBodyAndFixedWidthPlaceholders) {
    RenderedRequest req;
    std::string error;
    ASSERT_TRUE(render_request("PUT\t/v1/me/progress/c_1\ttok\t{\"seq\":@SEQ@,\"updated_at_ms\":@NOWMS@}", "h:1", req, error))
        << error;
    const std::string body = "{\"seq\":000000000000,\"updated_at_ms\":0000000000000}";
    EXPECT_EQ(req.bytes,
              "PUT /v1/me/progress/c_1 HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer tok\r\n"
              "Content-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
    ASSERT_EQ(req.placeholders.size(), 2u);
    std::string copy = req.bytes;
    fill_placeholders(req, copy.data(), 7, 1760000000123);
    EXPECT_NE(copy.find("{\"seq\":100000000007,\"updated_at_ms\":1760000000123}"), std::string::npos) << copy;
}

TEST(RequestFileTest, GetWithoutTokenOrBodyHasNoLength) {
    RenderedRequest req;
    std::string error;
    ASSERT_TRUE(render_request("GET\t/\t-", "x", req, error)) << error;
    EXPECT_EQ(req.bytes, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST(RequestFileTest, RefusesMalformedLines) {
    RenderedRequest req;
    std::string error;
    EXPECT_FALSE(render_request("GET /x", "x", req, error));
    EXPECT_FALSE(render_request("GET\tnoslash\t-", "x", req, error));
    EXPECT_FALSE(render_request("GET\t/a b\t-", "x", req, error));
    EXPECT_FALSE(render_request("GET\t/a\tto ken", "x", req, error));
}

TEST(ResponseParserTest, FramesContentLengthChunkedAndBodyless) {
    ParsedResponse r;
    const std::string two = "HTTP/1.1 201 Created\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 204 No\r\n\r\n";
    ASSERT_EQ(parse_response(two, r), ParseStatus::kComplete);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "hello");
    ASSERT_EQ(parse_response(std::string_view(two).substr(r.size), r), ParseStatus::kComplete);
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", r), ParseStatus::kIncomplete);
    const std::string chunked = "HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    ASSERT_EQ(parse_response(chunked, r), ParseStatus::kComplete);
    EXPECT_EQ(r.size, chunked.size());
    EXPECT_TRUE(r.close);
    EXPECT_EQ(parse_response(chunked.substr(0, chunked.size() - 2), r), ParseStatus::kIncomplete);
    EXPECT_EQ(parse_response("HTTP/1.1 2x0 OK\r\n\r\n", r), ParseStatus::kInvalid);
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", r), ParseStatus::kInvalid);
}

TEST(LatencyHistogramTest, PercentilesWithinTheBucketPrecision) {
    LatencyHistogram h;
    for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
    EXPECT_EQ(h.count(), 10000u);
    EXPECT_EQ(h.max(), 10000u);
    EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 5000, 5000 * 0.02);
    EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 9900, 9900 * 0.02);
    EXPECT_EQ(h.percentile(1.0), 10000u);
    LatencyHistogram small;
    small.record(3);
    EXPECT_EQ(small.percentile(0.5), 3u);
    h.merge(small);
    EXPECT_EQ(h.count(), 10001u);
}

}  // namespace
}  // namespace moneta::bench
