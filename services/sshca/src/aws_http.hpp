/// @file services/sshca/src/aws_http.hpp
/// @brief The CA's calls to AWS (STS, IAM): an endpoint URL (https, or http on the loopback only
/// for tests), and one POST with a whole-call timeout on the calling worker's executor (a
/// coroutine: a slow AWS never blocks the worker). TLS verifies the peer against the system's
/// trust store and the endpoint's host name.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

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

struct AwsReply {
    int status = 0;
    std::string body;
};

/// POST / to @p to with @p headers (Host is set from @p to) and @p body, within @p timeout.
/// @return the reply (any status), or why there is none (connect, TLS, timeout, oversized).
boost::asio::awaitable<boost::system::result<AwsReply, std::string>> async_aws_post(
    const AwsEndpoint& to, const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
    std::chrono::milliseconds timeout);

}  // namespace moneta::sshca
