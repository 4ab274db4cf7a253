/// @file moneta/aws_sigv4/sigv4.hpp
/// @brief AWS Signature Version 4 (the documented algorithm: canonical request, string to sign,
/// the HMAC-SHA256 key chain `AWS4`+secret → date → region → service → `aws4_request`), for any
/// service: sign() adds `X-Amz-Date`, `X-Amz-Security-Token` and `Authorization` to a request;
/// verify() checks one the way AWS does (a fake AWS in tests). Pure functions on values (no I/O);
/// checked against AWS's published test-suite vectors (tests/libs/aws_sigv4).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace moneta::aws_sigv4 {

struct Header {
    std::string name;
    std::string value;
};

/// The parts of one HTTP request SigV4 covers.
struct Request {
    std::string method = "GET";
    /// The path as sent (no normalization: callers sign "/" or plain paths); bytes outside the
    /// RFC 3986 unreserved set and '/' are percent-encoded in the canonical URI.
    std::string path = "/";
    std::string query;  ///< the raw query string, without '?' (percent-encoded as sent)
    std::vector<Header> headers;  ///< must hold Host
    std::string body;

    /// The first header named @p name (case-insensitive).
    const Header* header(std::string_view name) const noexcept;
};

struct Credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  ///< empty: long-term keys
};

/// "20150830T123600Z" for @p epoch_s (UTC).
std::string amz_date(std::int64_t epoch_s);
/// The inverse of amz_date (exactly that form); nullopt otherwise.
std::optional<std::int64_t> parse_amz_date(std::string_view text);

/// Lower-case hex SHA-256 of @p bytes.
std::string sha256_hex(std::string_view bytes);
/// The signing key: HMAC chain over @p date (YYYYMMDD), @p region, @p service, "aws4_request".
std::array<unsigned char, 32> signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                          std::string_view service);
/// RFC 3986 percent-encoding as SigV4 wants it: unreserved bytes kept, the rest %XX upper-case;
/// '/' kept when @p keep_slash (paths), encoded otherwise (query components).
std::string uri_encode(std::string_view bytes, bool keep_slash);

/// The canonical request over the headers named in @p signed_headers (lower-case, sorted, ';'
/// separated, as in the Authorization header). nullopt when the query is malformed (a bad
/// percent escape) or a signed header is missing.
std::optional<std::string> canonical_request(const Request& request, std::string_view signed_headers);
/// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>".
std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);

struct Signed {
    std::string authorization;
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_headers;
};

/// Signs @p request in place at @p epoch_s: sets X-Amz-Date (replacing one present),
/// X-Amz-Security-Token when @p credentials has a session token, and Authorization, signing
/// every header present but Authorization. Throws nothing; a request without Host signs no Host
/// (AWS then refuses it).
Signed sign(Request& request, const Credentials& credentials, std::string_view region, std::string_view service,
            std::int64_t epoch_s);

enum class VerifyError : std::uint8_t {
    kMissing,            ///< no Authorization or no X-Amz-Date
    kMalformed,          ///< not `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=<64 hex>`
    kUnknownKey,         ///< the access key id is not known
    kScope,              ///< the credential's date, region, service or terminator is not this request's
    kExpired,            ///< X-Amz-Date further than the allowed skew from now
    kUnsignedHeader,     ///< host, x-amz-date or x-amz-security-token present but not signed
    kSignatureMismatch,  ///< the signature is not the one the secret gives
};
std::string_view verify_error_name(VerifyError e) noexcept;

struct Verified {
    std::string access_key_id;
    std::string region;
    std::string service;
    std::string session_token;  ///< X-Amz-Security-Token ("" when absent)
};

struct VerifyOptions {
    std::string region;   ///< required scope region
    std::string service;  ///< required scope service
    std::int64_t max_skew_s = 15 * 60;  ///< AWS's 15 minutes
};

/// The secret of an access key id, nullopt when unknown.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

/// Checks @p request's signature as AWS does, at @p now_s. The comparison is constant-time.
boost::system::result<Verified, VerifyError> verify(const Request& request, const SecretLookup& secrets,
                                                   std::int64_t now_s, const VerifyOptions& options);

}  // namespace moneta::aws_sigv4
