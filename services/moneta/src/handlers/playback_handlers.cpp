#include "handlers/playback_handlers.hpp"

#include "domain/requests.hpp"
#include "domain/responses.hpp"
#include "handlers/http_util.hpp"
#include "moneta/core/random.hpp"

namespace moneta::handlers {
namespace {

using domain::ApiError;
using core::Errc;

/// Transport failures of a dependency → the api.md upstream codes.
ApiError upstream_error(const boost::system::error_code& ec) noexcept {
    if (ec == Errc::kTimeout || ec == Errc::kDeadlineExceeded) {
        return ApiError::kUpstreamTimeout;
    }
    if (ec == Errc::kUpstreamError || ec == Errc::kProtocolError) {
        return ApiError::kUpstreamError;
    }
    return ApiError::kUpstreamUnavailable;
}

/// Redis (leases) failures: it answers or it is unavailable; never "bad gateway".
ApiError store_error(const boost::system::error_code& ec) noexcept {
    return upstream_error(ec) == ApiError::kUpstreamTimeout ? ApiError::kUpstreamTimeout
                                                            : ApiError::kUpstreamUnavailable;
}

/// Edge-provided viewer country, or the account's when absent or malformed.
std::string_view viewer_country(const http::Request& req, const domain::Account& account) {
    const auto h = req.header("x-viewer-country");
    if (h && domain::is_valid_country(*h)) {
        return *h;
    }
    return account.country;
}

template <class T>
const T* parsed_or_null(const domain::Parsed<T>& p) {
    return std::get_if<T>(&p);
}

}  // namespace

void PlaybackHandlers::register_routes(http::Router& router) {
    router.add(http::Method::kPost, "/v1/playback/sessions",
               [this](http::Request& r) { return async_start(r); });
    router.add(http::Method::kPost, "/v1/playback/sessions/{id}/heartbeat",
               [this](http::Request& r) { return async_heartbeat(r); });
    router.add(http::Method::kPost, "/v1/playback/sessions/{id}/stop",
               [this](http::Request& r) { return async_stop(r); });
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_start(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, true, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    if (!has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    const auto parsed = domain::parse_start_request(req.body());
    const domain::StartRequest* body = parsed_or_null(parsed);
    if (body == nullptr) {
        co_return error(ApiError::kInvalidRequest, now_ms,
                        domain::field_error_details(std::get<domain::FieldError>(parsed)));
    }

    auto catalog = co_await deps_.catalog.async_load(claims.sub, body->content_id, req.context());
    if (!catalog) {
        co_return error(upstream_error(catalog.error()), now_ms);
    }
    // Checks in the api.md §5.1 order: entitlement → content exists → window/geo/plan/parental.
    if (!catalog->account) {
        co_return error(ApiError::kSubscriptionRequired, now_ms);  // no such subscriber
    }
    const domain::Account& account = *catalog->account;
    if (auto e = domain::check_entitlement(account, claims.pid, now_ms)) {
        co_return error(*e, now_ms);
    }
    if (!catalog->content) {
        co_return error(ApiError::kContentNotFound, now_ms);
    }
    const domain::Content& content = *catalog->content;
    const domain::Profile& profile = *account.find_profile(claims.pid);
    if (auto e = domain::check_content(account, profile, content, viewer_country(req, account),
                                       deps_.settings.plan_ranks, now_ms)) {
        co_return error(*e, now_ms);
    }

    domain::SessionInfo info;
    info.session_id = core::random_id("ps_", 16);
    info.device_id = body->device.id;
    info.device_type = std::string(domain::to_string(body->device.type));
    info.device_name = body->device.name;
    info.content_id = content.id;
    info.profile_id = claims.pid;
    info.started_at_ms = now_ms;
    auto lease = co_await deps_.leases.async_acquire(
        account.id, account.plan.max_streams, info, body->replace_session_id.value_or(""), now_ms,
        req.context().deadline);
    if (!lease) {
        ++deps_.stats.store_errors_total;
        co_return error(store_error(lease.error()), now_ms);
    }
    if (auto* denied = std::get_if<domain::LeaseDenied>(&*lease)) {
        ++deps_.stats.starts_denied_total;
        co_return error(ApiError::kStreamLimitReached, now_ms,
                        domain::stream_limit_details(*denied));
    }
    const auto& granted = std::get<domain::LeaseGranted>(*lease);
    ++deps_.stats.starts_granted_total;
    if (!granted.replaced_session_id.empty()) {
        ++deps_.stats.starts_replaced_total;
    }
    http::Response res = json(
        201, domain::start_response({info.session_id, granted, deps_.settings.heartbeat_interval_sec,
                                     content, account.plan.max_streams, now_ms}));
    res.headers.emplace_back("Location", "/v1/playback/sessions/" + info.session_id);
    co_return res;
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_heartbeat(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, false, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    const std::string_view session_id = req.path_param(0);
    if (!domain::is_valid_id(session_id)) {
        co_return error(ApiError::kInvalidRequest, now_ms, R"({"field":"id","reason":"bad id"})");
    }
    if (!has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    const auto parsed = domain::parse_heartbeat_request(req.body());
    if (parsed_or_null(parsed) == nullptr) {
        co_return error(ApiError::kInvalidRequest, now_ms,
                        domain::field_error_details(std::get<domain::FieldError>(parsed)));
    }
    auto renewed =
        co_await deps_.leases.async_renew(claims.sub, session_id, now_ms, req.context().deadline);
    if (!renewed) {
        ++deps_.stats.store_errors_total;
        co_return error(store_error(renewed.error()), now_ms);
    }
    switch (renewed->status) {
        case domain::HeartbeatStatus::kRenewed:
            ++deps_.stats.heartbeats_renewed_total;
            co_return json(200, domain::heartbeat_response(renewed->expires_at_ms,
                                                           deps_.settings.heartbeat_interval_sec,
                                                           now_ms));
        case domain::HeartbeatStatus::kEvicted:
            ++deps_.stats.heartbeats_evicted_total;
            co_return error(ApiError::kSessionEvicted, now_ms);
        case domain::HeartbeatStatus::kNotFound: break;
    }
    ++deps_.stats.heartbeats_not_found_total;
    co_return error(ApiError::kSessionNotFound, now_ms);
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_stop(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, false, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    const std::string_view session_id = req.path_param(0);
    if (!domain::is_valid_id(session_id)) {
        co_return error(ApiError::kInvalidRequest, now_ms, R"({"field":"id","reason":"bad id"})");
    }
    if (!has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    const auto parsed = domain::parse_stop_request(req.body());
    if (parsed_or_null(parsed) == nullptr) {
        co_return error(ApiError::kInvalidRequest, now_ms,
                        domain::field_error_details(std::get<domain::FieldError>(parsed)));
    }
    auto released =
        co_await deps_.leases.async_release(claims.sub, session_id, now_ms, req.context().deadline);
    if (!released) {
        ++deps_.stats.store_errors_total;
        co_return error(store_error(released.error()), now_ms);
    }
    ++deps_.stats.stops_total;
    http::Response res;
    res.status = 204;
    co_return res;
}

}  // namespace moneta::handlers
