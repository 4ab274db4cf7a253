#include "moneta/cdn/akamai.hpp"

#include <openssl/evp.h>

#include "encoding.hpp"
#include "moneta/core/hex.hpp"

namespace moneta::cdn {
namespace {

using core::Errc;
using core::make_error;

bool is_token_name(std::string_view name) noexcept {
    if (name.empty()) {
        return false;
    }
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// '~' separates fields, so no field may hold one (escape_early keeps '~': quote_plus leaves it).
bool has_delimiter(std::string_view field) noexcept {
    return field.find('~') != std::string_view::npos;
}

}  // namespace

core::Result<AkamaiEdgeAuth> AkamaiEdgeAuth::create(AkamaiConfig config) {
    auto key = detail::hex_decode(config.key_hex);
    if (!key || !is_token_name(config.token_name)) {
        return make_error(Errc::kInvalidArgument);
    }
    return AkamaiEdgeAuth(std::move(config), std::move(*key));
}

std::string AkamaiEdgeAuth::escape(std::string_view text) const {
    return config_.escape_early ? detail::quote_plus_lower(text) : std::string(text);
}

core::Result<std::string> AkamaiEdgeAuth::token(const AkamaiTokenRequest& r, std::int64_t now_s)
    const {
    if (r.acl.empty() || has_delimiter(r.acl) || has_delimiter(r.ip) ||
        has_delimiter(r.session_id) || has_delimiter(r.payload)) {
        return make_error(Errc::kInvalidArgument);
    }
    if (r.start_s && (*r.start_s <= 0 || *r.start_s > now_s)) {
        return make_error(Errc::kInvalidArgument);  // never a start in the future
    }
    if (r.expires_s <= now_s || (r.start_s && r.expires_s <= *r.start_s)) {
        return make_error(Errc::kInvalidArgument);  // already expired
    }

    std::string token;
    token.reserve(r.acl.size() + 128);
    if (!r.ip.empty()) {
        token += "ip=" + escape(r.ip) + "~";
    }
    if (r.start_s) {
        token += "st=" + std::to_string(*r.start_s) + "~";
    }
    token += "exp=" + std::to_string(r.expires_s);
    token += "~acl=";
    token += r.acl;
    if (!r.session_id.empty()) {
        token += "~id=" + escape(r.session_id);
    }
    if (!r.payload.empty()) {
        token += "~data=" + escape(r.payload);
    }

    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t mac_len = 0;
    if (EVP_Q_mac(
            nullptr,
            "HMAC",
            nullptr,
            "SHA256",
            nullptr,
            key_.data(),
            key_.size(),
            reinterpret_cast<const unsigned char*>(token.data()),
            token.size(),
            mac,
            sizeof mac,
            &mac_len
        ) == nullptr) {
        return make_error(Errc::kInternal);
    }
    token += "~hmac=";
    token += core::to_hex(std::span<const std::uint8_t>(mac, mac_len));
    return token;
}

}  // namespace moneta::cdn
