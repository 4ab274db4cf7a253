/// @file services/sshca/cli/http.hpp
/// @brief The CLI's HTTP client: one blocking request per call to SSHCA_URL (http://host[:port]),
/// with a send/receive timeout, on Boost.Beast. Kept out of the header: the CLI's other files
/// see only this struct-and-function interface.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

namespace moneta::sshca::cli {

struct Endpoint {
    std::string host;
    std::string port;

    /// "http://host[:port]" (no path); https is refused with a message (docs/sshca.md).
    static boost::system::result<Endpoint, std::string> parse(std::string_view url);
};

struct HttpReply {
    int status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> header(std::string_view name) const;
};

/// @return the reply, or why the call failed (connection refused, timeout, ...).
boost::system::result<HttpReply, std::string> http_request(const Endpoint& to, std::string_view method,
                                                           std::string_view target, std::string_view body,
                                                           const std::vector<std::pair<std::string, std::string>>& headers,
                                                           std::chrono::seconds timeout = std::chrono::seconds(15));

}  // namespace moneta::sshca::cli
