/// @file moneta/cdn/akamai.hpp
/// @brief Akamai EdgeAuth 2.0 tokens (Auth Token 2.0 Verification behaviour), HMAC-SHA256.
///
/// Field order, as Akamai's EdgeAuth-Token libraries build it:
///   [ip=<ip>~][st=<start>~]exp=<end>~acl=<acl>[~id=<id>][~data=<data>]~hmac=<hex>
/// The HMAC key is the hex-decoded configured key; the HMAC input is the token text before
/// "~hmac=". With escape_early, ip/id/data are URL-encoded first (Python quote_plus, then every
/// %XX lower-cased), exactly what the reference implementation signs; the ACL is never escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "moneta/core/result.hpp"

namespace moneta::cdn {

struct AkamaiConfig {
    std::string key_hex;               ///< the property's token key: hex digits, even length
    std::string token_name = "hdnts";  ///< query parameter / cookie name the edge reads
    bool escape_early = false;         ///< must match the property's "Escape token inputs" setting
};

struct AkamaiTokenRequest {
    std::string_view acl;                 ///< "/vod/m_1/*"; several ACLs joined with '!'
    std::optional<std::int64_t> start_s;  ///< st=; must not be later than now
    std::int64_t expires_s = 0;           ///< exp=
    std::string_view ip;                  ///< optional ip= field
    std::string_view session_id;          ///< optional id= field
    std::string_view payload;             ///< optional data= field
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (immutable after create()).
class AkamaiEdgeAuth {
public:
    /// @return kInvalidArgument for an empty, odd-length or non-hex key or a token name that is
    /// not [A-Za-z0-9_-]+.
    static core::Result<AkamaiEdgeAuth> create(AkamaiConfig config);

    /// @param now_s the caller's clock; a start after it, an expiry not after max(start, now), an
    /// empty ACL or any field holding '~' (the field delimiter) give kInvalidArgument.
    core::Result<std::string> token(const AkamaiTokenRequest& request, std::int64_t now_s) const;

    core::Result<std::string> token(
        std::string_view acl,
        std::optional<std::int64_t> start_s,
        std::int64_t expires_s,
        std::int64_t now_s
    ) const {
        return token(
            AkamaiTokenRequest{.acl = acl, .start_s = start_s, .expires_s = expires_s}, now_s
        );
    }

    const std::string& token_name() const noexcept { return config_.token_name; }

private:
    explicit AkamaiEdgeAuth(AkamaiConfig config, std::string key)
        : config_(std::move(config)), key_(std::move(key)) {}
    std::string escape(std::string_view text) const;

    AkamaiConfig config_;
    std::string key_;  ///< raw bytes
};

}  // namespace moneta::cdn
