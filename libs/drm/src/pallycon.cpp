#include "moneta/core/base64.hpp"
#include "moneta/drm/pallycon.hpp"

#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <memory>

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

core::Result<std::string> sha256(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
        return make_error(Errc::kInternal);
    }
    return std::string(reinterpret_cast<const char*>(md), len);
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

std::string utc_timestamp(std::int64_t epoch_ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds(epoch_ms)};
    const sys_days day = floor<days>(t);
    const year_month_day ymd(day);
    const hh_mm_ss<seconds> hms(floor<seconds>(t) - day);
    char buf[32];
    std::snprintf(
        buf,
        sizeof buf,
        "%04d-%02u-%02uT%02d:%02d:%02dZ",
        static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()),
        static_cast<unsigned>(ymd.day()),
        static_cast<int>(hms.hours().count()),
        static_cast<int>(hms.minutes().count()),
        static_cast<int>(hms.seconds().count())
    );
    return buf;
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
    DrmSystem system, std::string_view user_id, std::string_view cid, std::int64_t now_ms
) const {
    if (user_id.empty() || cid.empty() || now_ms < 0 ||
        (system == DrmSystem::kFairPlay && config_.fairplay_certificate_url.empty())) {
        return make_error(Errc::kInvalidArgument);
    }
    const std::string_view drm_type = pallycon_drm_type(system);
    const std::string timestamp = utc_timestamp(now_ms);

    std::string hash_input;
    hash_input.reserve(128 + user_id.size() + cid.size() + policy_.size());
    hash_input += config_.access_key;
    hash_input += drm_type;
    hash_input += config_.site_id;
    hash_input += user_id;
    hash_input += cid;
    hash_input += policy_;
    hash_input += timestamp;
    auto digest = sha256(hash_input);
    if (!digest) {
        return digest.error();
    }

    boost::json::object token;
    token["drm_type"] = drm_type;
    token["site_id"] = config_.site_id;
    token["user_id"] = user_id;
    token["cid"] = cid;
    token["policy"] = policy_;
    token["timestamp"] = timestamp;
    token["hash"] = core::base64_encode(*digest);

    DrmGrant grant;
    grant.system = std::string(system_name(system));
    grant.license_url = config_.license_url;
    if (system == DrmSystem::kFairPlay) {
        grant.certificate_url = config_.fairplay_certificate_url;
    }
    grant.header_name = std::string(kPallyConHeader);
    grant.token = core::base64_encode(boost::json::serialize(token));
    grant.token_expires_at_ms = (now_ms / 1000 + config_.token_ttl_s) * 1000;
    return grant;
}

}  // namespace moneta::drm
