#include "handlers/progress_handlers.hpp"

#include "domain/progress.hpp"
#include "handlers/http_util.hpp"
#include "handlers/outcome_response.hpp"

namespace moneta::handlers {
namespace {

using domain::ApiError;

/// The body goes into the connection's recycled buffer (@p req outlives the use case's coroutine).
http::Response items_response(usecases::Outcome<usecases::ProgressItems>&& outcome, std::int64_t now_ms,
                              http::Request& req) {
    return respond(std::move(outcome), now_ms, [&](usecases::ProgressItems&& items) {
        return json(200, domain::progress_items_response(items.items, now_ms, req.take_response_buffer()));
    });
}

}  // namespace

ProgressHandlers::ProgressHandlers(HandlerDeps deps)
    : deps_(deps),
      catalog_(deps.catalog),
      progress_(deps.progress),
      held_(deps.buffer),
      calls_({catalog_, progress_, held_, deps.settings, deps.stats}) {}

void ProgressHandlers::register_routes(http::Router& router) {
    router.add(http::Method::kGet, "/v1/me/progress", [this](http::Request& r) { return async_get(r); });
    router.add(http::Method::kGet, "/v1/me/continue-watching",
               [this](http::Request& r) { return async_continue_watching(r); });
    router.add(http::Method::kPut, "/v1/me/progress/{id}", [this](http::Request& r) { return async_put(r); });
}

boost::asio::awaitable<http::Response> ProgressHandlers::async_get(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, true, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        return async_ready(error(*e, now_ms));
    }
    auto ids = domain::parse_content_ids_query(req.query());
    auto* list = std::get_if<std::vector<std::string>>(&ids);
    if (list == nullptr) {
        return async_ready(invalid_request(ids, now_ms));
    }
    return calls_.async_get(std::move(std::get<usecases::Caller>(auth)), std::move(*list), now_ms, req.context(),
                            [now_ms, &req](usecases::Outcome<usecases::ProgressItems>&& outcome) {
                                return items_response(std::move(outcome), now_ms, req);
                            });
}

boost::asio::awaitable<http::Response> ProgressHandlers::async_continue_watching(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, true, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        return async_ready(error(*e, now_ms));
    }
    const auto limit = domain::parse_limit_query(req.query());
    const int* n = std::get_if<int>(&limit);
    if (n == nullptr) {
        return async_ready(invalid_request(limit, now_ms));
    }
    return calls_.async_continue_watching(std::move(std::get<usecases::Caller>(auth)), *n, now_ms, req.context(),
                                          [now_ms, &req](usecases::Outcome<usecases::ProgressItems>&& outcome) {
                                              return items_response(std::move(outcome), now_ms, req);
                                          });
}

boost::asio::awaitable<http::Response> ProgressHandlers::async_put(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, true, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        return async_ready(error(*e, now_ms));
    }
    const auto content_id = id_param(req);
    if (!content_id) {
        return async_ready(bad_id(now_ms));
    }
    if (!has_json_content_type(req)) {
        return async_ready(error(ApiError::kUnsupportedMediaType, now_ms));
    }
    const auto parsed = domain::parse_progress_put(req.body(), now_ms);
    const auto* body = std::get_if<domain::ProgressPut>(&parsed);
    if (body == nullptr) {
        return async_ready(invalid_request(parsed, now_ms));
    }
    return calls_.async_put(std::move(std::get<usecases::Caller>(auth)), *content_id, *body, now_ms, req.context(),
                            [now_ms](usecases::Outcome<usecases::ProgressAccepted>&& outcome) {
                                return respond(std::move(outcome), now_ms,
                                               [](usecases::ProgressAccepted&&) { return no_content(); });
                            });
}

}  // namespace moneta::handlers
