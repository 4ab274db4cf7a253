/// @file services/moneta/src/handlers/outcome_response.hpp
/// @brief A use case's Outcome → HTTP response: the failures the same way for every call
/// (Refused → its api.md error, StoreFailed → store_error, UpstreamFailed → upstream_error), the
/// success by the handler's own mapping.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <utility>
#include <variant>

#include "handlers/http_util.hpp"
#include "usecases/outcome.hpp"

namespace moneta::handlers {

/// @p success maps the use case's success value (an rvalue) to the response.
template <class T, class Success>
http::Response respond(usecases::Outcome<T>&& outcome, std::int64_t now_ms, Success&& success) {
    if (auto* ok = std::get_if<T>(&outcome)) {
        return std::forward<Success>(success)(std::move(*ok));
    }
    if (auto* refused = std::get_if<usecases::Refused>(&outcome)) {
        return error(refused->error, now_ms, refused->details, refused->retry_after_sec);
    }
    if (auto* store = std::get_if<usecases::StoreFailed>(&outcome)) {
        return error(store_error(store->ec), now_ms);
    }
    return error(upstream_error(std::get<usecases::UpstreamFailed>(outcome).ec), now_ms);
}

/// An answer known before any I/O (bad token, bad body) as the handler's awaitable.
inline boost::asio::awaitable<http::Response> async_ready(http::Response response) {
    co_return response;
}

}  // namespace moneta::handlers
