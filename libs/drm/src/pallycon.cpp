#include "moneta/drm/pallycon.hpp"

#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_CTX: a digest on the stack, no EVP_MD_CTX allocation
#endif
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <chrono>
#include <memory>

#include "moneta/core/base64.hpp"
#include "moneta/core/json_escape.hpp"

namespace moneta::drm {
namespace {

using core::Errc;
using core::make_error;

constexpr std::size_t kSiteIdLen = 4;
constexpr std::size_t kKeyLen = 32;  // AES-256 key bytes / access key characters

bool all_of_alnum(std::string_view s) noexcept {
    for (const char c : s) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

bool all_printable(std::string_view s) noexcept {
    for (const char c : s) {
        if (c < 0x21 || c > 0x7E) {
            return false;
        }
    }
    return true;
}

bool is_http_url(std::string_view url) noexcept {
    return (url.starts_with("https://") && url.size() > 8) ||
           (url.starts_with("http://") && url.size() > 7);
}

/// AES-256-CBC with PKCS#7 padding (OpenSSL's default), PallyCon's fixed IV.
core::Result<std::string> aes256_cbc(std::string_view key, std::string_view plain) {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(
        EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free
    );
    if (!ctx || EVP_EncryptInit_ex2(
                    ctx.get(),
                    EVP_aes_256_cbc(),
                    reinterpret_cast<const unsigned char*>(key.data()),
                    reinterpret_cast<const unsigned char*>(kPallyConIv.data()),
                    nullptr
                ) != 1) {
        return make_error(Errc::kInternal);
    }
    std::string out(plain.size() + 16, '\0');
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    int n = 0;
    int tail = 0;
    if (EVP_EncryptUpdate(
            ctx.get(),
            dst,
            &n,
            reinterpret_cast<const unsigned char*>(plain.data()),
            static_cast<int>(plain.size())
        ) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), dst + n, &tail) != 1) {
        return make_error(Errc::kInternal);
    }
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
}

std::string policy_json(std::int64_t license_duration_s) {
    return R"({"policy_version":2,"playback_policy":{"persistent":false,"license_duration":)" +
           std::to_string(license_duration_s) + "}}";
}

}  // namespace

std::string_view system_name(DrmSystem system) noexcept {
    switch (system) {
        case DrmSystem::kWidevine:
            return "widevine";
        case DrmSystem::kPlayReady:
            return "playready";
        case DrmSystem::kFairPlay:
            return "fairplay";
    }
    return "none";
}

std::string_view pallycon_drm_type(DrmSystem system) noexcept {
    switch (system) {
        case DrmSystem::kWidevine:
            return "Widevine";
        case DrmSystem::kPlayReady:
            return "PlayReady";
        case DrmSystem::kFairPlay:
            return "FairPlay";
    }
    return "";
}

std::optional<DrmSystem> parse_system(std::string_view name) noexcept {
    for (const DrmSystem s : {DrmSystem::kWidevine, DrmSystem::kPlayReady, DrmSystem::kFairPlay}) {
        if (name == system_name(s)) {
            return s;
        }
    }
    return std::nullopt;
}

void write_utc_timestamp(std::int64_t epoch_ms, char (&out)[20]) noexcept {
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds(epoch_ms)};
    const sys_days day = floor<days>(t);
    const year_month_day ymd(day);
    const hh_mm_ss<seconds> hms(floor<seconds>(t) - day);
    const auto put = [&out](std::size_t at, unsigned v, std::size_t digits) {
        for (std::size_t i = digits; i-- > 0; v /= 10) {
            out[at + i] = static_cast<char>('0' + v % 10);
        }
    };
    put(0, static_cast<unsigned>(static_cast<int>(ymd.year())) % 10000, 4);
    out[4] = '-';
    put(5, static_cast<unsigned>(ymd.month()), 2);
    out[7] = '-';
    put(8, static_cast<unsigned>(ymd.day()), 2);
    out[10] = 'T';
    put(11, static_cast<unsigned>(hms.hours().count()), 2);
    out[13] = ':';
    put(14, static_cast<unsigned>(hms.minutes().count()), 2);
    out[16] = ':';
    put(17, static_cast<unsigned>(hms.seconds().count()), 2);
    out[19] = 'Z';
}

std::string utc_timestamp(std::int64_t epoch_ms) {
    char buf[20];
    write_utc_timestamp(epoch_ms, buf);
    return std::string(buf, sizeof buf);
}

core::Result<PallyConTokenIssuer> PallyConTokenIssuer::create(PallyConConfig config) {
    const bool ok =
        config.site_id.size() == kSiteIdLen && all_of_alnum(config.site_id) &&
        config.site_key.size() == kKeyLen && all_printable(config.site_key) &&
        config.access_key.size() == kKeyLen && all_printable(config.access_key) &&
        is_http_url(config.license_url) &&
        (config.fairplay_certificate_url.empty() || is_http_url(config.fairplay_certificate_url)) &&
        config.license_duration_s > 0 && config.token_ttl_s > 0;
    if (!ok) {
        return make_error(Errc::kInvalidArgument);
    }
    // Fixed key, fixed IV, fixed policy: the encrypted policy never changes, so build it once.
    auto encrypted = aes256_cbc(config.site_key, policy_json(config.license_duration_s));
    if (!encrypted) {
        return encrypted.error();
    }
    return PallyConTokenIssuer(std::move(config), core::base64_encode(*encrypted));
}

core::Result<DrmGrant> PallyConTokenIssuer::issue(
    DrmSystem system, std::string_view user_id, std::string_view cid, std::int64_t now_ms,
    std::string token_buffer
) const {
    if (user_id.empty() || cid.empty() || now_ms < 0 ||
        (system == DrmSystem::kFairPlay && config_.fairplay_certificate_url.empty())) {
        return make_error(Errc::kInvalidArgument);
    }
    const std::string_view drm_type = pallycon_drm_type(system);
    char ts[20];
    write_utc_timestamp(now_ms, ts);
    const std::string_view timestamp(ts, sizeof ts);

    // hash = base64(sha256(access_key + drm_type + site_id + user_id + cid + policy + timestamp))
    SHA256_CTX sha;
    SHA256_Init(&sha);
    for (const std::string_view part :
         {std::string_view(config_.access_key), drm_type, std::string_view(config_.site_id), user_id, cid,
          std::string_view(policy_), timestamp}) {
        SHA256_Update(&sha, part.data(), part.size());
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_Final(digest, &sha);

    // The token JSON in a per-thread buffer that keeps its capacity; member order and escaping as
    // Boost.JSON's serializer wrote them before (tests/libs/drm pins the exact text).
    thread_local std::string json;
    json.clear();
    const auto member = [](std::string_view name, std::string_view value) {
        json += json.empty() ? "{\"" : ",\"";
        json += name;
        json += "\":";
        core::append_json_string(json, value);
    };
    member("drm_type", drm_type);
    member("site_id", config_.site_id);
    member("user_id", user_id);
    member("cid", cid);
    member("policy", policy_);
    member("timestamp", timestamp);
    json += ",\"hash\":\"";
    core::append_base64(json, std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
    json += "\"}";

    DrmGrant grant;
    grant.system = system_name(system);
    grant.license_url = config_.license_url;
    if (system == DrmSystem::kFairPlay) {
        grant.certificate_url = config_.fairplay_certificate_url;
    }
    grant.header_name = kPallyConHeader;
    grant.token = std::move(token_buffer);
    grant.token.clear();
    grant.token.reserve(4 * ((json.size() + 2) / 3));
    core::append_base64(grant.token, json);
    grant.token_expires_at_ms = (now_ms / 1000 + config_.token_ttl_s) * 1000;
    return grant;
}

}  // namespace moneta::drm
