// CPU cost of the edge-trust step every request pays before its context is built
// (http::apply_edge_trust, docs/http_server.md "Edge trust"): a request proxied by nginx (token
// matches, nothing dropped) and a direct one (three edge-only headers dropped), with the headers
// nginx sends. Next to it, a baseline every request already pays: Request::header() lookups of
// the three context headers.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "moneta/http/edge_trust.hpp"
#include "moneta/http/request.hpp"

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

}  // namespace

BENCHMARK_MAIN();
