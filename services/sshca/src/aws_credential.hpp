/// @file services/sshca/src/aws_credential.hpp
/// @brief What the CLI and the CA share for AWS IAM identity: the STS endpoint's URL, and the
/// `AWS4-STS` credential: a GetCallerIdentity request signed with the engineer's keys (never
/// sent by the CLI), as base64 of `{"method","url","headers","body"}` (docs/sshca.md). No I/O,
/// so the CLI compiles it without the server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "moneta/aws_sigv4/sigv4.hpp"

namespace moneta::sshca {

struct AwsEndpoint {
    bool tls = true;
    std::string host;
    std::string port;  ///< "443" / "80" when the URL has none
    std::string url;   ///< normalized: scheme://host[:port]/

    /// The Host header: host, with :port when not the scheme's default.
    std::string host_header() const;

    /// "https://host[:port][/]" or "http://<loopback>[:port][/]"; no path, query or user info.
    static boost::system::result<AwsEndpoint, std::string> parse(std::string_view url);
};

/// The body every forwarded request must have, byte for byte.
inline constexpr std::string_view kGetCallerIdentityBody = "Action=GetCallerIdentity&Version=2011-06-15";

/// The `AWS4-STS` credential (without the scheme): GetCallerIdentity to @p sts signed at
/// @p now_s with @p credentials for @p region (service sts).
std::string make_sts_credential(const aws_sigv4::Credentials& credentials, std::string_view region,
                                const AwsEndpoint& sts, std::int64_t now_s);

}  // namespace moneta::sshca
