// CPU and heap allocations of a request's token check and catalog decode (docs/jwt.md, docs/data.md):
// the full verification (a token this worker has not seen) next to a token-cache hit, and the
// JSON decode of a cached account + content next to a decoded-cache hit. "allocs" is the number of
// operator new calls per iteration, counted by this binary's own operator new.
#include <benchmark/benchmark.h>

// The replaced operator new/delete pair is malloc/free on purpose (counting only).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "domain/cache_envelope.hpp"
#include "domain/catalog_codec.hpp"
#include "domain/decoded_cache.hpp"
#include "moneta/jwt/token_cache.hpp"
#include "moneta/jwt/verifier.hpp"

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}  // namespace

void* operator new(std::size_t n) {
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace moneta;

constexpr std::int64_t kNowMs = 1'764'000'000'000;
const std::string kSecret(40, 's');

/// Counts operator new calls over the measured loop.
class AllocCounter {
public:
    explicit AllocCounter(benchmark::State& state) : state_(state), start_(g_allocs.load()) {}
    ~AllocCounter() {
        state_.counters["allocs"] = benchmark::Counter(static_cast<double>(g_allocs.load() - start_) /
                                                       static_cast<double>(std::max<std::int64_t>(1, state_.iterations())));
    }

private:
    benchmark::State& state_;
    std::uint64_t start_;
};

const jwt::Verifier& verifier() {
    static const jwt::Verifier v = [] {
        jwt::VerifierConfig cfg;
        cfg.hmac_keys = {{"k1", kSecret}, {"k2", std::string(40, 't')}};
        cfg.issuer = "moneta-dev";
        cfg.audience = "moneta";
        return std::move(*jwt::Verifier::create(cfg));
    }();
    return v;
}

/// A token like the dev stack's (tools/jwt_tool): kid, iss, aud, sub, pid, iat, exp.
std::string token(int i) {
    const auto signer = jwt::Signer::hs256("k1", kSecret);
    const std::int64_t now_s = kNowMs / 1000;
    return signer->sign(R"({"iss":"moneta-dev","aud":"moneta","sub":"acc_)" + std::to_string(100000 + i) +
                        R"(","pid":"prof_)" + std::to_string(100000 + i) + R"(_1","iat":)" + std::to_string(now_s) +
                        R"(,"exp":)" + std::to_string(now_s + 3600) + "}");
}

void BM_JwtVerifyFull(benchmark::State& state) {
    const std::string t = token(1);
    AllocCounter count(state);
    for (auto _ : state) {
        benchmark::DoNotOptimize(verifier().verify(t, kNowMs));
    }
}
BENCHMARK(BM_JwtVerifyFull);

void BM_JwtTokenCacheMiss(benchmark::State& state) {
    // More distinct tokens than slots, visited in turn: every lookup misses and verifies.
    std::vector<std::string> tokens;
    for (int i = 0; i < 256; ++i) {
        tokens.push_back(token(i));
    }
    jwt::TokenCache cache(verifier(), jwt::TokenCacheConfig{16, 1 << 20, 2048});
    std::size_t i = 0;
    AllocCounter count(state);
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache.verify(tokens[i++ & 255], kNowMs));
    }
}
BENCHMARK(BM_JwtTokenCacheMiss);

void BM_JwtTokenCacheHit(benchmark::State& state) {
    const std::string t = token(1);
    jwt::TokenCache cache(verifier());
    cache.verify(t, kNowMs);
    AllocCounter count(state);
    for (auto _ : state) {
        const auto r = cache.verify(t, kNowMs);
        // What authenticate() does with it: copy the claims out for the request.
        jwt::Claims copy = *std::get<const jwt::Claims*>(r);
        benchmark::DoNotOptimize(copy);
    }
}
BENCHMARK(BM_JwtTokenCacheHit);

const std::string kAccount =
    R"({"id":"a_1","status":"active","plan":{"id":"premium","rank":3,"max_streams":4,"max_height":2160,"uhd":true,"hdr":true},)"
    R"("paid_until_ms":4102444800000,"country":"KR","profiles":[{"id":"p_1","name":"Mom","max_age_rating":19},)"
    R"({"id":"p_2","name":"Kid","max_age_rating":12}]})";

const std::string kContent =
    R"({"id":"m_1","kind":"movie","title":"Demo","duration_sec":7012.4,"credits_start_sec":6800.0,"window_start_ms":0,)"
    R"("window_end_ms":null,"geo_allow":["KR","JP"],"min_plan":"basic","age_rating":15,"next_content_id":null,"drm_cid":"m_1",)"
    R"("renditions":[{"protocol":"dash","drm":["widevine","playready"],"video_codec":"hevc","max_height":2160,"hdr":"hdr10","path":"/vod/m_1/hevc_2160/manifest.mpd"},)"
    R"({"protocol":"dash","drm":["widevine","playready"],"video_codec":"avc","max_height":1080,"hdr":null,"path":"/vod/m_1/avc_1080/manifest.mpd"},)"
    R"({"protocol":"hls","drm":["fairplay"],"video_codec":"avc","max_height":1080,"hdr":null,"path":"/vod/m_1/avc_1080/master.m3u8"}],)"
    R"("audio":[{"lang":"ko","codec":"aac","channels":2},{"lang":"en","codec":"aac","channels":6}],)"
    R"("subtitles":[{"lang":"ko","format":"webvtt","path":"/vod/m_1/subs/ko.vtt"}]})";

void BM_DecodeAccountAndContentCold(benchmark::State& state) {
    const std::string a = domain::encode_cached(kNowMs, kAccount);
    const std::string c = domain::encode_cached(kNowMs, kContent);
    AllocCounter count(state);
    for (auto _ : state) {
        auto ad = domain::decode_cached(a);
        auto cd = domain::decode_cached(c);
        benchmark::DoNotOptimize(domain::decode_account(ad->json));
        benchmark::DoNotOptimize(domain::decode_content(cd->json));
    }
}
BENCHMARK(BM_DecodeAccountAndContentCold);

void BM_DecodeAccountAndContentCached(benchmark::State& state) {
    // What CatalogCache::async_read does on a warm read: envelope check, then the decoded cache.
    const std::string a = domain::encode_cached(kNowMs, kAccount);
    const std::string c = domain::encode_cached(kNowMs, kContent);
    domain::DecodedCache<domain::Account> accounts(&domain::decode_account, {});
    domain::DecodedCache<domain::Content> contents(&domain::decode_content, {});
    accounts.get("a_1", a, domain::decode_cached(a)->json);
    contents.get("m_1", c, domain::decode_cached(c)->json);
    AllocCounter count(state);
    for (auto _ : state) {
        auto ad = domain::decode_cached(a);
        auto cd = domain::decode_cached(c);
        benchmark::DoNotOptimize(accounts.get("a_1", a, ad->json));
        benchmark::DoNotOptimize(contents.get("m_1", c, cd->json));
    }
}
BENCHMARK(BM_DecodeAccountAndContentCached);

}  // namespace
BENCHMARK_MAIN();
