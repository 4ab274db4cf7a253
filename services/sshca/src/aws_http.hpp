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

#include "aws_credential.hpp"

namespace moneta::sshca {

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
