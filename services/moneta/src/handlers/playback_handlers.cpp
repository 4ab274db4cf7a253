#include "handlers/playback_handlers.hpp"

#include "domain/requests.hpp"
#include "domain/responses.hpp"
#include "handlers/http_util.hpp"
#include "handlers/outcome_response.hpp"

namespace moneta::handlers {
namespace {

using domain::ApiError;

/// The edge-provided viewer country when valid; empty: the use case takes the account's.
std::string_view viewer_country(const http::Request& req) {
    const auto h = req.header("x-viewer-country");
    return h && domain::is_valid_country(*h) ? *h : std::string_view();
}

/// Who calls a session endpoint (heartbeat, stop, refresh, kick), and on which session.
struct SessionCaller {
    usecases::Caller caller;
    std::string_view session_id;
};

/// The verified token and the valid `{id}` of a session call, or the answer to send instead
/// (the token is checked first, as everywhere: api.md §4 order).
std::variant<SessionCaller, http::Response> session_caller(const http::Request& req, HandlerDeps& deps,
                                                           std::int64_t now_ms) {
    auto auth = authenticate(req, deps.verifier, now_ms, false, deps.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        return error(*e, now_ms);
    }
    const auto id = id_param(req);
    if (!id) {
        return bad_id(now_ms);
    }
    return SessionCaller{std::move(std::get<usecases::Caller>(auth)), *id};
}

}  // namespace

PlaybackHandlers::PlaybackHandlers(HandlerDeps deps)
    : deps_(deps),
      leases_(deps.sessions),
      catalog_(deps.catalog),
      progress_(deps.progress),
      held_(deps.buffer),
      delivery_(deps.delivery),
      start_({catalog_, leases_, progress_, held_, delivery_, deps.session_ids, deps.cdn_base_url, deps.settings,
              deps.stats}),
      sessions_({leases_, catalog_, held_, delivery_, deps.session_ids, deps.settings, deps.stats}) {}

void PlaybackHandlers::register_routes(http::Router& router) {
    router.add(http::Method::kPost, "/v1/playback/sessions", [this](http::Request& r) { return async_start(r); });
    router.add(http::Method::kGet, "/v1/playback/sessions", [this](http::Request& r) { return async_list(r); });
    router.add(http::Method::kDelete, "/v1/playback/sessions/{id}", [this](http::Request& r) { return async_kick(r); });
    router.add(http::Method::kPost, "/v1/playback/sessions/{id}/heartbeat",
               [this](http::Request& r) { return async_heartbeat(r); });
    router.add(http::Method::kPost, "/v1/playback/sessions/{id}/stop", [this](http::Request& r) { return async_stop(r); });
    router.add(http::Method::kPost, "/v1/playback/sessions/{id}/refresh",
               [this](http::Request& r) { return async_refresh(r); });
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_start(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, true, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        return async_ready(error(*e, now_ms));
    }
    if (!has_json_content_type(req)) {
        return async_ready(error(ApiError::kUnsupportedMediaType, now_ms));
    }
    auto parsed = domain::parse_start_request(req.body());
    domain::StartRequest* body = std::get_if<domain::StartRequest>(&parsed);
    if (body == nullptr) {
        return async_ready(invalid_request(parsed, now_ms));
    }
    std::string_view idem_key;
    if (const auto k = req.header("idempotency-key")) {
        if (!domain::is_valid_id(*k)) {
            return async_ready(error(ApiError::kInvalidRequest, now_ms,
                                     R"({"field":"Idempotency-Key","reason":"must match [A-Za-z0-9_-]{1,64}"})"));
        }
        idem_key = *k;
    }
    return start_.async_run(
        usecases::StartPlaybackCommand{std::move(std::get<usecases::Caller>(auth)), std::move(*body), idem_key, req.body(),
                                       viewer_country(req), now_ms, &req.context(), req.take_response_buffer()},
        [now_ms, &stats = deps_.stats](usecases::Outcome<usecases::Started>&& outcome) {
            if (const auto* refused = std::get_if<usecases::Refused>(&outcome)) {
                stats.count_start_refusal(refused->error);  // moneta_playback_start_refusals_total{code}
            }
            return respond(std::move(outcome), now_ms, [](usecases::Started&& started) {
                http::Response res = json(201, std::move(started.body));
                if (started.kind == usecases::Started::Kind::kReplayed) {
                    res.headers.emplace_back("Idempotent-Replayed", "true");
                } else {
                    std::string location = std::move(started.session_id);
                    location.insert(0, usecases::Started::kLocationPrefix);  // minted with room for it
                    res.headers.emplace_back("Location", std::move(location));
                }
                return res;
            });
        });
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_heartbeat(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        return async_ready(std::move(*answer));
    }
    auto& [who, session_id] = std::get<SessionCaller>(caller);
    if (!has_json_content_type(req)) {
        return async_ready(error(ApiError::kUnsupportedMediaType, now_ms));
    }
    const auto parsed = domain::parse_heartbeat_request(req.body());
    const domain::HeartbeatRequest* body = std::get_if<domain::HeartbeatRequest>(&parsed);
    if (body == nullptr) {
        return async_ready(invalid_request(parsed, now_ms));
    }
    return sessions_.async_heartbeat(
        usecases::ProgressReport{std::move(who), session_id, body->position_sec, body->seq, now_ms,
                                 req.context().deadline, &req.context()},
        // The body goes into the connection's recycled buffer: no allocation per heartbeat.
        [this, now_ms, &req](usecases::Outcome<usecases::Renewed>&& outcome) {
            return respond(std::move(outcome), now_ms, [&](usecases::Renewed&& renewed) {
                return json(200, domain::heartbeat_response(renewed.expires_at_ms,
                                                            deps_.settings.heartbeat_interval_sec,
                                                            renewed.stop_reason, now_ms,
                                                            req.take_response_buffer()));
            });
        });
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_stop(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        return async_ready(std::move(*answer));
    }
    auto& [who, session_id] = std::get<SessionCaller>(caller);
    if (!has_json_content_type(req)) {
        return async_ready(error(ApiError::kUnsupportedMediaType, now_ms));
    }
    const auto parsed = domain::parse_stop_request(req.body());
    const domain::StopRequest* body = std::get_if<domain::StopRequest>(&parsed);
    if (body == nullptr) {
        return async_ready(invalid_request(parsed, now_ms));
    }
    return sessions_.async_stop(
        usecases::ProgressReport{std::move(who), session_id, body->position_sec, body->seq, now_ms,
                                 req.context().deadline, &req.context()},
        body->reason == domain::StopReason::kEnded, [now_ms](usecases::Outcome<usecases::Stopped>&& outcome) {
            return respond(std::move(outcome), now_ms, [](usecases::Stopped&&) { return no_content(); });
        });
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_refresh(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        return async_ready(std::move(*answer));
    }
    auto& [who, session_id] = std::get<SessionCaller>(caller);
    if (!req.body().empty() && !has_json_content_type(req)) {
        return async_ready(error(ApiError::kUnsupportedMediaType, now_ms));
    }
    return sessions_.async_refresh(
        std::move(who), session_id, viewer_country(req), now_ms, req.context(),
        [now_ms](usecases::Outcome<usecases::Refreshed>&& outcome) {
            return respond(std::move(outcome), now_ms,
                           [](usecases::Refreshed&& refreshed) { return json(200, std::move(refreshed.body)); });
        });
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_list(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, false, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        return async_ready(error(*e, now_ms));
    }
    return sessions_.async_list(
        std::move(std::get<usecases::Caller>(auth)), now_ms, req.context(),
        [now_ms, &req](usecases::Outcome<usecases::Listed>&& outcome) {
            return respond(std::move(outcome), now_ms, [&](usecases::Listed&& listed) {
                return json(200, domain::sessions_response(listed.max_streams, listed.sessions, now_ms,
                                                           req.take_response_buffer()));
            });
        });
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_kick(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        return async_ready(std::move(*answer));
    }
    auto& [who, session_id] = std::get<SessionCaller>(caller);
    return sessions_.async_kick(std::move(who), session_id, now_ms, req.context().deadline,
                                [now_ms](usecases::Outcome<usecases::Kicked>&& outcome) {
                                    return respond(std::move(outcome), now_ms,
                                                   [](usecases::Kicked&&) { return no_content(); });
                                });
}

}  // namespace moneta::handlers
