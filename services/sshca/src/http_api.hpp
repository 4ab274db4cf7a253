/// @file services/sshca/src/http_api.hpp
/// @brief What the sshca routes share (routes_*.cpp): the authentication step every /v1 call but
/// the public ones takes (`Api::async_user`), strict body and query readers, error bodies.
/// Private to the service.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "authority.hpp"
#include "aws_identity.hpp"
#include "identity.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"
#include "moneta/http/router.hpp"
#include "routes.hpp"

namespace moneta::sshca::api {

/// Listings (certificates, audit events) return at most this many items.
inline constexpr std::size_t kMaxListed = 1000;

http::Response error(const Failure& f, const core::Clock& clock);
http::Response json_response(int status, const boost::json::object& body);
http::Response invalid(std::string message, const core::Clock& clock);
boost::json::array strings(const std::vector<std::string>& v);
/// The body as a JSON object whose members are all in @p allowed; an error message otherwise.
boost::system::result<boost::json::object, std::string> body_object(std::string_view body,
                                                                    std::initializer_list<std::string_view> allowed);
/// An optional member of one type; @p bad is set when it has another.
std::optional<std::string> opt_string(const boost::json::object& o, std::string_view key, bool& bad);
std::optional<std::int64_t> opt_int(const boost::json::object& o, std::string_view key, bool& bad);
std::optional<std::vector<std::string>> opt_strings(const boost::json::object& o, std::string_view key, bool& bad);
CallContext call_context(const http::Request& r);
/// The query's parameters (names unique, each in @p allowed, values percent-decoded), or an error.
boost::system::result<std::map<std::string, std::string>, std::string> query_params(
    std::string_view query, std::initializer_list<std::string_view> allowed);
std::optional<std::int64_t> to_int(std::string_view s);

/// The routes' shared state and the authentication step.
struct Api {
    Authority& authority;
    Authenticator& auth;
    const AwsIdentity* aws;
    CaStats& stats;
    const core::Clock& clock;

    http::Response rate_limited();
    /// user(), or for `Authorization: AWS4-STS …` the AWS IAM identity (asked of STS and IAM).
    /// Refusals count as failures of the address and are audited, like a bad token; AWS being
    /// unreachable (503) is neither: it is not the caller's doing.
    boost::asio::awaitable<std::variant<Identity, http::Response>> async_user(const http::Request& r);
    /// The caller, or the response refusing it (401, or 429 after too many failures). An invalid
    /// token is audited; once an address is limited nothing more is, so the audit log grows by
    /// at most max_failures_per_window rows per address and window.
    std::variant<Identity, http::Response> user(const http::Request& r);
};

/// The routes by resource: public (health, CA keys, KRL, metrics), certificates (me, user and
/// host certificates, listing), admin (revocations, audit).
void add_public_routes(http::Router& router, const std::shared_ptr<Api>& api);
void add_cert_routes(http::Router& router, const std::shared_ptr<Api>& api);
void add_admin_routes(http::Router& router, const std::shared_ptr<Api>& api);

}  // namespace moneta::sshca::api
