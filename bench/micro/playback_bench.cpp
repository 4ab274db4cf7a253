// CPU cost of the pure parts of a warm start and a heartbeat, each next to a baseline measured in
// the same run: boost::json::parse of the same bytes (what any JSON service pays at least) and an
// uncached RSA signature (what the signature cache saves).
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "domain/cache_envelope.hpp"
#include "domain/catalog_codec.hpp"
#include "domain/negotiation.hpp"
#include "domain/playability.hpp"
#include "domain/progress.hpp"
#include "domain/requests.hpp"
#include "domain/responses.hpp"
#include "domain/tracks.hpp"
#include "moneta/cdn/delivery.hpp"
#include "moneta/drm/pallycon.hpp"

namespace {

using namespace moneta;

constexpr std::int64_t kNow = 1'764'000'000'000;

const std::string kStartBody =
    R"({"content_id":"m_1","device":{"id":"d-3f2a9c","type":"tv","name":"Living room TV","app_version":"5.2.0"},)"
    R"("capabilities":{"protocols":["dash","hls"],"drm":["widevine","playready"],"video_codecs":["avc","hevc"],)"
    R"("hdr":["hdr10"],"max_height":2160},"resume":"auto","preferred_audio_lang":"ko","preferred_subtitle_lang":"ko"})";

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

std::string rsa_pem() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

const std::string& pem() {
    static const std::string p = rsa_pem();
    return p;
}

std::shared_ptr<const cdn::CloudFrontSigner> signer() {
    static auto s = std::make_shared<const cdn::CloudFrontSigner>(
        *cdn::CloudFrontSigner::create({"KBENCH", pem(), "https://cdn.moneta.local", ""}));
    return s;
}

void BM_Baseline_JsonParseStartBody(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(boost::json::parse(kStartBody));
    }
}
BENCHMARK(BM_Baseline_JsonParseStartBody);

void BM_ParseStartRequest(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(domain::parse_start_request(kStartBody));
    }
}
BENCHMARK(BM_ParseStartRequest);

// The request bodies alone (issue 11: their parse was 7.9 % of a heartbeat's instructions under
// callgrind). The heartbeat body is the one bench/load sends.
const std::string kHeartbeatBody = R"({"position_sec":123.4,"state":"playing","seq":123456789012})";
const std::string kStopBody = R"({"position_sec":2011.0,"reason":"ended","seq":18})";
const std::string kProgressBody =
    R"({"position_sec":1902.5,"duration_sec":7012.4,"updated_at_ms":1763999990000,"seq":42})";

void BM_ParseHeartbeatRequest(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(domain::parse_heartbeat_request(kHeartbeatBody));
    }
}
BENCHMARK(BM_ParseHeartbeatRequest);

void BM_ParseStopRequest(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(domain::parse_stop_request(kStopBody));
    }
}
BENCHMARK(BM_ParseStopRequest);

void BM_ParseProgressPut(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(domain::parse_progress_put(kProgressBody, kNow));
    }
}
BENCHMARK(BM_ParseProgressPut);

void BM_DecodeCachedAccountAndContent(benchmark::State& state) {
    const std::string a = domain::encode_cached(kNow, kAccount);
    const std::string c = domain::encode_cached(kNow, kContent);
    for (auto _ : state) {
        auto ad = domain::decode_cached(a);
        auto cd = domain::decode_cached(c);
        benchmark::DoNotOptimize(domain::decode_account(ad->json));
        benchmark::DoNotOptimize(domain::decode_content(cd->json));
    }
}
BENCHMARK(BM_DecodeCachedAccountAndContent);

void BM_ChecksAndNegotiation(benchmark::State& state) {
    const auto account = *domain::decode_account(kAccount);
    const auto content = *domain::decode_content(kContent);
    const auto req = std::get<domain::StartRequest>(domain::parse_start_request(kStartBody));
    const domain::PlanRanks ranks{{"basic", 1}, {"standard", 2}, {"premium", 3}};
    for (auto _ : state) {
        benchmark::DoNotOptimize(domain::check_entitlement(account, "p_1", kNow));
        benchmark::DoNotOptimize(domain::check_content(account, account.profiles[0], content, "KR", ranks, kNow));
        benchmark::DoNotOptimize(domain::select_stream(content, account.plan, req.capabilities));
        benchmark::DoNotOptimize(domain::choose_tracks(content, req.preferred_audio_lang, req.preferred_subtitle_lang));
    }
}
BENCHMARK(BM_ChecksAndNegotiation);

void BM_Baseline_RsaSignUncached(benchmark::State& state) {
    const auto s = signer();
    std::int64_t exp = 1'764'000'600;
    for (auto _ : state) {
        benchmark::DoNotOptimize(s->signed_url("/vod/m_1/avc_1080/manifest.mpd", exp++));
    }
}
BENCHMARK(BM_Baseline_RsaSignUncached);

void BM_SignedDeliveryCached(benchmark::State& state) {
    auto delivery = std::move(*cdn::make_cloudfront_delivery(signer(), {{300, 600, 4096}, 2}));
    (void)delivery->sign("/vod/m_1/avc_1080/manifest.mpd", kNow);
    for (auto _ : state) {
        benchmark::DoNotOptimize(delivery->sign("/vod/m_1/avc_1080/manifest.mpd", kNow));
    }
}
BENCHMARK(BM_SignedDeliveryCached);

void BM_PallyConToken(benchmark::State& state) {
    drm::PallyConConfig cfg{"MNTA", std::string(32, 'k'), std::string(32, 'a'),
                            "https://license-global.pallycon.com/ri/licenseManager.do", "", 86400, 600};
    const auto issuer = *drm::PallyConTokenIssuer::create(cfg);
    for (auto _ : state) {
        benchmark::DoNotOptimize(issuer.issue(drm::DrmSystem::kWidevine, "a_1", "m_1", kNow));
    }
}
BENCHMARK(BM_PallyConToken);

void BM_StartResponse(benchmark::State& state) {
    const auto content = *domain::decode_content(kContent);
    domain::LeaseGranted lease{kNow + 90'000, 2, ""};
    // The blocks are views (of the signer's cache in moneta): these strings own the bytes.
    const std::string manifest = "https://cdn.moneta.local/vod/m_1/avc_1080/manifest.mpd?Expires=1764000900&Signature=" +
                                 std::string(344, 'A') + "&Key-Pair-Id=KBENCH";
    const std::string policy(200, 'P');
    const std::string signature(344, 'S');
    domain::StreamBlock stream;
    stream.protocol = "dash";
    stream.manifest_url = manifest;
    stream.cookie_slots[0] = {"CloudFront-Policy", policy, "cdn.moneta.local", "/vod/m_1/"};
    stream.cookie_slots[1] = {"CloudFront-Signature", signature, "cdn.moneta.local", "/vod/m_1/"};
    stream.cookie_slots[2] = {"CloudFront-Key-Pair-Id", "KBENCH", "cdn.moneta.local", "/vod/m_1/"};
    stream.cookie_count = 3;
    stream.video_codec = "hevc";
    stream.max_height = 2160;
    domain::DrmBlock drm{"widevine", "https://license", std::nullopt, "pallycon-customdata-v2", std::string(400, 'T'), kNow};
    const domain::TrackChoice tracks{0, 0};
    const std::string sid = "ps_0123456789abcdefghijkl";
    const std::string base = "https://cdn.moneta.local";
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            domain::start_response({sid, lease, 30, content, 1847.0, stream, drm, tracks, base, 4, kNow}));
    }
}
BENCHMARK(BM_StartResponse);

void BM_HeartbeatParseAndStopCheck(benchmark::State& state) {
    const std::string body = R"({"position_sec":1902.5,"state":"playing","seq":17})";
    const std::string cached = domain::encode_cached(kNow, kAccount);
    for (auto _ : state) {
        benchmark::DoNotOptimize(domain::parse_heartbeat_request(body));
        auto doc = domain::decode_cached(cached);
        auto account = domain::decode_account(doc->json);
        benchmark::DoNotOptimize(domain::check_entitlement(*account, "p_1", kNow));
        benchmark::DoNotOptimize(domain::heartbeat_response(kNow + 90'000, 30, "", kNow));
    }
}
BENCHMARK(BM_HeartbeatParseAndStopCheck);

}  // namespace

BENCHMARK_MAIN();
