#include "handlers/progress_handlers.hpp"

#include "domain/progress.hpp"
#include "handlers/http_util.hpp"
#include "handlers/rate_limit.hpp"
#include "store/progress_buffer.hpp"
#include "store/redis_failure.hpp"

namespace moneta::handlers {
namespace {

using domain::ApiError;

}  // namespace

boost::asio::awaitable<std::optional<http::Response>> ProgressHandlers::async_admit(const jwt::Claims& claims,
                                                                                   http::Request& req,
                                                                                   std::string_view content_id,
                                                                                   std::int64_t now_ms) {
    store::KeyBuffer kb;
    redis::Pipeline extra;
    const AccountRateLimit limit(AccountRateLimit::Kind::kProgress, deps_.settings.progress_rate_per_min);
    std::string window;
    const std::size_t rate_reply = extra.size();
    limit.add_to(extra, kb, claims.sub, now_ms, window);
    auto catalog = co_await deps_.catalog.async_read(claims.sub, content_id, req.context(), &extra);
    if (const auto retry_after = limit.exceeded(catalog.extra, rate_reply, now_ms)) {
        ++deps_.stats.progress_rate_limited_total;
        co_return error(ApiError::kRateLimited, now_ms, "{}", *retry_after);
    }
    if (auto filled = co_await deps_.catalog.async_fill(catalog, claims.sub, content_id, req.context()); !filled) {
        co_return error(upstream_error(filled.error()), now_ms);
    }
    if (!catalog.account) {
        co_return error(ApiError::kSubscriptionRequired, now_ms);
    }
    if (catalog.account->find_profile(claims.pid) == nullptr) {
        co_return error(ApiError::kProfileNotInAccount, now_ms);
    }
    if (!content_id.empty() && !catalog.content) {
        co_return error(ApiError::kContentNotFound, now_ms);
    }
    co_return std::nullopt;
}

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
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    const auto ids = domain::parse_content_ids_query(req.query());
    const auto* list = std::get_if<std::vector<std::string>>(&ids);
    if (list == nullptr) {
        co_return invalid_request(ids, now_ms);
    }
    if (auto refused = co_await async_admit(claims, req, {}, now_ms)) {
        co_return std::move(*refused);
    }
    auto items = co_await deps_.progress.async_get(claims.sub, claims.pid, *list, req.context());
    if (!items) {
        co_return error(upstream_error(items.error()), now_ms);
    }
    co_return json(200, domain::progress_items_response(*items, now_ms));
}

boost::asio::awaitable<http::Response> ProgressHandlers::async_continue_watching(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, true, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    const auto limit = domain::parse_limit_query(req.query());
    const int* n = std::get_if<int>(&limit);
    if (n == nullptr) {
        co_return invalid_request(limit, now_ms);
    }
    if (auto refused = co_await async_admit(claims, req, {}, now_ms)) {
        co_return std::move(*refused);
    }
    auto items = co_await deps_.progress.async_continue_watching(claims.sub, claims.pid, *n, req.context());
    if (!items) {
        co_return error(upstream_error(items.error()), now_ms);
    }
    co_return json(200, domain::progress_items_response(*items, now_ms));
}

boost::asio::awaitable<http::Response> ProgressHandlers::async_put(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, true, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    const auto content_id = id_param(req);
    if (!content_id) {
        co_return bad_id(now_ms);
    }
    if (!has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    const auto parsed = domain::parse_progress_put(req.body(), now_ms);
    const auto* body = std::get_if<domain::ProgressPut>(&parsed);
    if (body == nullptr) {
        co_return invalid_request(parsed, now_ms);
    }
    if (auto refused = co_await async_admit(claims, req, *content_id, now_ms)) {
        co_return std::move(*refused);
    }
    domain::ProgressRecord rec;
    rec.content_id = std::string(*content_id);
    rec.position_sec = body->position_sec;
    rec.duration_sec = body->duration_sec;
    rec.updated_at_ms = body->updated_at_ms;
    rec.seq = body->seq;
    // Offline writes carry no credits position: the 95 % rule alone decides completion.
    rec.completed = body->position_sec >= domain::completion_threshold_sec(body->duration_sec, std::nullopt);
    auto written = co_await deps_.progress.async_put(claims.sub, claims.pid, rec, now_ms, req.context().deadline);
    if (!written) {
        ++deps_.stats.store_errors_total;
        if (!store::redis_unavailable(store::classify_redis_failure(written.error()))) {
            co_return error(store_error(written.error()), now_ms);
        }
        // Redis did not answer: hold the write for replay through the same guard and accept it.
        // (Whether it is stale is only known then: a stale one is counted, not answered 409.)
        const auto held =
            deps_.buffer.push(store::BufferedPut{std::string(claims.sub), std::string(claims.pid), std::move(rec)});
        if (held != store::ProgressBuffer::Push::kHeld) {
            co_return error(ApiError::kUpstreamUnavailable, now_ms);
        }
        ++deps_.stats.progress_puts_buffered_total;
        co_return no_content();
    }
    deps_.stats.count(*written);
    if (*written == store::ProgressWrite::kStale) {
        co_return error(ApiError::kStaleWrite, now_ms);
    }
    if (*written == store::ProgressWrite::kCapped) {
        // A per-account bound (titles per profile, unflushed writes per account): the flusher
        // frees room within one flush interval.
        co_return error(ApiError::kRateLimited, now_ms, R"({"reason":"progress_limit"})",
                        deps_.settings.progress_retry_after_sec);
    }
    co_return no_content();
}

}  // namespace moneta::handlers
