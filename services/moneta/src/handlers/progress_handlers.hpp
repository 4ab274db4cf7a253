/// @file services/moneta/src/handlers/progress_handlers.hpp
/// @brief Progress and continue-watching (api.md §5.7), for the token's profile (`pid`).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>

#include "handlers/deps.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"
#include "moneta/http/router.hpp"

namespace moneta::handlers {

class ProgressHandlers {
public:
    explicit ProgressHandlers(HandlerDeps deps) : deps_(deps) {}

    void register_routes(http::Router& router);

    boost::asio::awaitable<http::Response> async_get(http::Request& req);
    boost::asio::awaitable<http::Response> async_continue_watching(http::Request& req);
    boost::asio::awaitable<http::Response> async_put(http::Request& req);

private:
    /// What every progress route checks first, in one Redis round trip when warm: the account's
    /// progress-route rate limit (RATE_LIMITED, judged before any internal-API call), the
    /// token's profile belongs to its account (the profile id comes from the client:
    /// PROFILE_NOT_IN_ACCOUNT), and for a write, that @p content_id is a title
    /// (CONTENT_NOT_FOUND: nothing is stored for ids the catalog does not know).
    /// @return the refusal to send, or nullopt.
    boost::asio::awaitable<std::optional<http::Response>> async_admit(const jwt::Claims& claims, http::Request& req,
                                                                      std::string_view content_id,
                                                                      std::int64_t now_ms);

    HandlerDeps deps_;
};

}  // namespace moneta::handlers
