// CPU cost of the HTTP layer's per-request steps (docs/http_server.md "Figures"):
// - parsing a heartbeat's head as nginx sends it: our one strict pass into fixed slots (issue 11)
//   next to what the server did before (the same strict pre-scan, then Beast's request_parser,
//   then a copy of Beast's fields into the Request's vector);
// - serializing a heartbeat's response: into the connection's reused buffer, next to Beast's
//   response + serializer;
// - the edge-trust step (http::apply_edge_trust, "Edge trust"): a request proxied by nginx (token
//   matches, nothing dropped) and a direct one (three edge-only headers dropped). Next to it, a
//   baseline every request already pays: Request::header() lookups of the three context headers.
#include <benchmark/benchmark.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <vector>

#include "moneta/http/edge_trust.hpp"
#include "moneta/http/request.hpp"
#include "parse.hpp"
#include "response_writer.hpp"

namespace {

using namespace moneta;

const std::string kToken(64, 'e');
const std::vector<std::string> kEdgeOnly{"x-request-timeout-ms", "x-viewer-country", "x-forwarded-for"};

std::vector<http::Header> nginx_headers(std::string_view auth) {
    return {{"Host", "moneta_api"},
            {"X-Request-Id", "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a"},
            {"X-Request-Timeout-Ms", "1500"},
            {"X-Forwarded-For", "203.0.113.7"},
            {"X-Viewer-Country", "KR"},
            {"X-Edge-Auth", auth},
            {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
            {"Content-Length", "412"},
            {"Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"},
            {"Content-Type", "application/json"},
            {"User-Agent", "moneta-player/5.2.0"}};
}

void BM_EdgeTrustFromNginx(benchmark::State& state) {
    const auto proto = nginx_headers(kToken);
    std::vector<http::Header> hs;
    hs.reserve(64);
    for (auto _ : state) {
        hs.assign(proto.begin(), proto.end());  // the server refills its vector the same way
        const auto v = http::apply_edge_trust(hs, kToken, kEdgeOnly);
        benchmark::DoNotOptimize(v);
        benchmark::DoNotOptimize(hs.data());
    }
}
BENCHMARK(BM_EdgeTrustFromNginx);

void BM_EdgeTrustDirectClient(benchmark::State& state) {
    auto proto = nginx_headers("forged");
    std::vector<http::Header> hs;
    hs.reserve(64);
    for (auto _ : state) {
        hs.assign(proto.begin(), proto.end());
        const auto v = http::apply_edge_trust(hs, kToken, kEdgeOnly);
        benchmark::DoNotOptimize(v);
        benchmark::DoNotOptimize(hs.data());
    }
}
BENCHMARK(BM_EdgeTrustDirectClient);

void BM_RefillOnly(benchmark::State& state) {
    const auto proto = nginx_headers(kToken);
    std::vector<http::Header> hs;
    hs.reserve(64);
    for (auto _ : state) {
        hs.assign(proto.begin(), proto.end());
        benchmark::DoNotOptimize(hs.data());
    }
}
BENCHMARK(BM_RefillOnly);

void BM_BaselineRefillAndThreeLookups(benchmark::State& state) {
    const auto proto = nginx_headers(kToken);
    http::Request req;
    req.mutable_headers().reserve(64);
    for (auto _ : state) {
        req.mutable_headers().assign(proto.begin(), proto.end());
        benchmark::DoNotOptimize(req.header("x-request-id"));
        benchmark::DoNotOptimize(req.header("traceparent"));
        benchmark::DoNotOptimize(req.header("x-request-timeout-ms"));
    }
}
BENCHMARK(BM_BaselineRefillAndThreeLookups);

// --- parse and serialize (issue 11) ---

const std::string kHeartbeatHead =
    "POST /v1/playback/sessions/ps_01HV3K8ZQ4W7/heartbeat HTTP/1.1\r\n"
    "Host: moneta_api\r\n"
    "X-Request-Id: 9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a\r\n"
    "X-Request-Timeout-Ms: 1500\r\n"
    "X-Forwarded-For: 203.0.113.7\r\n"
    "X-Viewer-Country: KR\r\n"
    "X-Edge-Auth: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\r\n"
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
    "Content-Length: 61\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\r\n"
    "Content-Type: application/json\r\n"
    "User-Agent: moneta-player/5.2.0\r\n"
    "Connection: keep-alive\r\n\r\n";

void BM_ParseHeadOnePass(benchmark::State& state) {
    const http::ServerLimits limits;
    std::vector<http::Header> fields;
    fields.reserve(limits.header_count);
    http::detail::HeadFacts facts;
    for (auto _ : state) {
        std::size_t searched = 0;
        const auto scan = http::detail::scan_head(kHeartbeatHead, searched);
        const auto v = http::detail::parse_head(std::string_view(kHeartbeatHead).substr(0, scan.head_len),
                                                limits, facts, fields);
        benchmark::DoNotOptimize(v);
        benchmark::DoNotOptimize(fields.data());
    }
}
BENCHMARK(BM_ParseHeadOnePass);

/// What the server did before issue 11, step for step: the strict pre-scan, Beast's parser (a
/// node per header field), then the fields copied into the Request's vector.
void BM_ParseHeadBeastBefore(benchmark::State& state) {
    namespace bhttp = boost::beast::http;
    const http::ServerLimits limits;
    std::vector<http::Header> fields;
    fields.reserve(limits.header_count);
    for (auto _ : state) {
        std::size_t searched = 0;
        const auto scan = http::detail::scan_head(kHeartbeatHead, searched);
        const std::string_view head = std::string_view(kHeartbeatHead).substr(0, scan.head_len);
        const auto v = http::detail::check_head(head, {limits.uri_bytes, limits.header_count});
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes + 4));
        parser.body_limit(limits.body_bytes);
        boost::system::error_code ec;
        parser.put(boost::asio::buffer(head.data(), head.size()), ec);
        fields.clear();
        for (const auto& f : parser.get()) {
            fields.push_back({std::string_view(f.name_string().data(), f.name_string().size()),
                              std::string_view(f.value().data(), f.value().size())});
        }
        benchmark::DoNotOptimize(v);
        benchmark::DoNotOptimize(fields.data());
    }
}
BENCHMARK(BM_ParseHeadBeastBefore);

http::Response heartbeat_response() {
    http::Response r;
    r.body = R"({"session_id":"ps_01HV3K8ZQ4W7","status":"active","next_heartbeat_ms":30000,"server_time_ms":1733300000000})";
    return r;
}

void BM_SerializeResponse(benchmark::State& state) {
    const http::Response r = heartbeat_response();
    std::string out;
    http::detail::DateCache date;
    for (auto _ : state) {
        http::detail::HeadOptions o;
        o.date = date.now();
        o.request_id = "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a";
        const std::string_view body = http::detail::serialize_head(out, r, o);
        benchmark::DoNotOptimize(body.data());
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_SerializeResponse);

/// Before issue 11: a Beast response built per request (the body copied into it), serialized
/// by Beast into the bytes a write would send (gathered here into a reused string).
void BM_SerializeResponseBeastBefore(benchmark::State& state) {
    namespace bhttp = boost::beast::http;
    const http::Response r = heartbeat_response();
    std::string out;
    out.reserve(1024);
    http::detail::DateCache date;
    for (auto _ : state) {
        bhttp::response<bhttp::string_body> res;
        res.version(11);
        res.result(200);
        res.set(bhttp::field::date, date.now());
        res.set(bhttp::field::content_type, r.content_type);
        res.set("X-Request-Id", "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a");
        res.keep_alive(true);
        res.body() = r.body;
        res.prepare_payload();
        bhttp::response_serializer<bhttp::string_body> sr(res);
        out.clear();
        boost::system::error_code ec;
        while (!sr.is_done()) {
            sr.next(ec, [&](boost::system::error_code&, const auto& buffers) {
                std::size_t n = 0;
                for (auto b : boost::beast::buffers_range_ref(buffers)) {
                    out.append(static_cast<const char*>(b.data()), b.size());
                    n += b.size();
                }
                sr.consume(n);
            });
        }
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_SerializeResponseBeastBefore);

}  // namespace

BENCHMARK_MAIN();
