/// @file services/moneta/src/handlers/progress_handlers.hpp
/// @brief Progress and continue-watching (api.md §5.7), for the token's profile (`pid`). Thin:
/// authenticate, parse the query/body and the `{id}` into a call of usecases::ProgressCalls,
/// map its outcome to a response. Not movable (routes capture `this`).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "handlers/deps.hpp"
#include "moneta/http/request.hpp"
#include "moneta/http/response.hpp"
#include "moneta/http/router.hpp"
#include "usecases/progress_calls.hpp"
#include "usecases/store_adapters.hpp"

namespace moneta::handlers {

class ProgressHandlers {
public:
    explicit ProgressHandlers(HandlerDeps deps);
    ProgressHandlers(const ProgressHandlers&) = delete;
    ProgressHandlers& operator=(const ProgressHandlers&) = delete;

    void register_routes(http::Router& router);

    boost::asio::awaitable<http::Response> async_get(http::Request& req);
    boost::asio::awaitable<http::Response> async_continue_watching(http::Request& req);
    boost::asio::awaitable<http::Response> async_put(http::Request& req);

private:
    HandlerDeps deps_;
    usecases::StoreCatalogReader catalog_;
    usecases::StoreProgressRecords progress_;
    usecases::BufferHeldWrites held_;
    usecases::ProgressCalls calls_;
};

}  // namespace moneta::handlers
