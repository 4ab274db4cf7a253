/// @file services/moneta/src/handlers/progress_handlers.hpp
/// @brief Progress and continue-watching (api.md §5.7), for the token's profile (`pid`).
#pragma once

#include <boost/asio/awaitable.hpp>

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
    HandlerDeps deps_;
};

}  // namespace moneta::handlers
