#include "handlers/playback_handlers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <cmath>

#include "domain/cache_envelope.hpp"
#include "domain/catalog_codec.hpp"
#include "domain/negotiation.hpp"
#include "domain/progress.hpp"
#include "domain/requests.hpp"
#include "domain/responses.hpp"
#include "domain/tracks.hpp"
#include "handlers/http_util.hpp"
#include "handlers/rate_limit.hpp"
#include "moneta/core/random.hpp"
#include "store/keys.hpp"
#include "store/progress_buffer.hpp"
#include "store/redis_failure.hpp"
#include "store/scripts.hpp"

namespace moneta::handlers {
namespace {

using domain::ApiError;

/// Edge-provided viewer country, or the account's when absent or malformed.
std::string_view viewer_country(const http::Request& req, const domain::Account& account) {
    const auto h = req.header("x-viewer-country");
    if (h && domain::is_valid_country(*h)) {
        return *h;
    }
    return account.country;
}

/// The start's checks once account and content are read, in the api.md §5.1 order: subscription
/// and profile → content exists → window → geo → plan → parental. Shared by start and refresh.
std::optional<ApiError> check_playable(const store::StartCatalog& catalog, std::string_view profile_id,
                                       const http::Request& req, const domain::PlanRanks& ranks, std::int64_t now_ms) {
    if (!catalog.account) {
        return ApiError::kSubscriptionRequired;  // no such subscriber
    }
    const domain::Account& account = *catalog.account;
    if (auto e = domain::check_entitlement(account, profile_id, now_ms)) {
        return e;
    }
    if (!catalog.content) {
        return ApiError::kContentNotFound;
    }
    return domain::check_content(account, *account.find_profile(profile_id), *catalog.content,
                                 viewer_country(req, account), ranks, now_ms);
}

/// FNV-1a 64 of the request body, as hex: same key + same body → same hash (Idempotency-Key).
std::string body_hash(std::string_view body) {
    std::uint64_t h = 1469598103934665603ULL;
    for (const char c : body) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) {
        out[static_cast<std::size_t>(i)] = kHex[h & 0xF];
    }
    return out;
}

/// Why a live session must stop (api.md §5.2): the cached entitlement was revoked or the title
/// left its window. Empty: continue. Only what is already in Redis is consulted (no extra round
/// trip; the store judged the entitlement digest); a missing cache entry means "no news".
std::string_view stop_reason(const store::HeartbeatResult& hb, std::int64_t now_ms) {
    if (hb.window_end_ms && now_ms >= *hb.window_end_ms) {
        return "content_unavailable";
    }
    switch (hb.entitlement) {
        case store::Entitlement::kSubscriptionEnded: return "subscription_ended";
        case store::Entitlement::kProfileRemoved: return "profile_removed";
        case store::Entitlement::kUnknown:
        case store::Entitlement::kEntitled: break;
    }
    return {};
}

/// True when @p session_id has the shape of a minted id (domain/session_id.hpp: "ps_" and 24
/// base64url characters) without being minted for @p account_id: another account's session, as
/// far as a stateless check can tell (a made-up id of that shape answers the same).
bool foreign_session_id(const domain::SessionIdSigner& ids, std::string_view account_id, std::string_view session_id) {
    constexpr std::size_t kMintedSize = 3 + 24;
    return session_id.size() == kMintedSize && session_id.starts_with("ps_") && !ids.minted_for(account_id, session_id);
}

/// Who calls a session endpoint (heartbeat, stop, refresh, kick), and on which session.
struct SessionCaller {
    jwt::Claims claims;
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
    return SessionCaller{std::move(std::get<jwt::Claims>(auth)), *id};
}

/// Redis did not answer a heartbeat (or holds no lease yet for a fail-open session): hold its
/// progress for replay and answer as if the lease was renewed, with no stop action (judging one
/// needs Redis). A full buffer → 503 UPSTREAM_UNAVAILABLE.
http::Response held_heartbeat(HandlerDeps& deps, std::string_view account_id, std::string_view session_id,
                              const domain::HeartbeatRequest& body, std::int64_t now_ms) {
    const auto held = deps.buffer.push(store::BufferedHeartbeat{std::string(account_id), std::string(session_id),
                                                                body.position_sec, body.seq, now_ms});
    if (held != store::ProgressBuffer::Push::kHeld) {
        return error(ApiError::kUpstreamUnavailable, now_ms);
    }
    ++deps.stats.heartbeats_buffered_total;
    const std::int64_t expires_at_ms = now_ms + deps.sessions.settings().lease.count();
    return json(200, domain::heartbeat_response(expires_at_ms, deps.settings.heartbeat_interval_sec, {}, now_ms));
}

/// The same for a stop: held for replay, 204; a full buffer → 503.
http::Response held_stop(HandlerDeps& deps, std::string_view account_id, std::string_view session_id,
                         const domain::StopRequest& body, std::int64_t now_ms) {
    const auto held = deps.buffer.push(store::BufferedStop{std::string(account_id), std::string(session_id),
                                                           body.position_sec, body.seq, now_ms,
                                                           body.reason == domain::StopReason::kEnded});
    if (held != store::ProgressBuffer::Push::kHeld) {
        return error(ApiError::kUpstreamUnavailable, now_ms);
    }
    ++deps.stats.stops_buffered_total;
    return no_content();
}

/// A start whose lease script Redis did not answer, served fail-open: the normal 201 body with a
/// lease presumed for `lease` from now and one active stream (the real count needs Redis), and
/// the grant held for replay. A full buffer → 503 UPSTREAM_UNAVAILABLE (nothing was granted).
http::Response start_without_lease(HandlerDeps& deps, const domain::Account& account, const domain::Content& content,
                                   const domain::StreamSelection& selection, const domain::StartRequest& body,
                                   const std::optional<domain::ProgressRecord>& stored, domain::SessionInfo&& info,
                                   store::SessionMeta&& meta, std::int64_t now_ms) {
    auto blocks = deps.delivery.build(selection, account.id, now_ms);
    if (!blocks) {
        return error(ApiError::kInternal, now_ms);  // never expected; no lease to give back
    }
    domain::LeaseGranted granted;
    granted.expires_at_ms = now_ms + deps.sessions.settings().lease.count();
    granted.active_streams = 1;
    const domain::TrackChoice tracks =
        domain::choose_tracks(content, body.preferred_audio_lang, body.preferred_subtitle_lang);
    const double resume = domain::resume_position(stored, body.resume);
    std::string out = domain::start_response({info.session_id, granted, deps.settings.heartbeat_interval_sec, content,
                                              resume, blocks->stream, blocks->drm, tracks, deps.cdn_base_url,
                                              account.plan.max_streams, now_ms});
    std::string location = "/v1/playback/sessions/" + info.session_id;
    const auto held = deps.buffer.push(store::BufferedLeaseGrant{account.id, account.plan.max_streams, std::move(info),
                                                                 body.replace_session_id.value_or(""), std::move(meta)});
    if (held != store::ProgressBuffer::Push::kHeld) {
        return error(ApiError::kUpstreamUnavailable, now_ms);
    }
    http::Response res = json(201, std::move(out));
    res.headers.emplace_back("Location", std::move(location));
    return res;
}

}  // namespace

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
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    if (!has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    const auto parsed = domain::parse_start_request(req.body());
    const domain::StartRequest* body = std::get_if<domain::StartRequest>(&parsed);
    if (body == nullptr) {
        co_return invalid_request(parsed, now_ms);
    }
    std::string_view idem_key;
    if (const auto k = req.header("idempotency-key")) {
        if (!domain::is_valid_id(*k)) {
            co_return error(ApiError::kInvalidRequest, now_ms,
                            R"({"field":"Idempotency-Key","reason":"must match [A-Za-z0-9_-]{1,64}"})");
        }
        idem_key = *k;
    }

    // Round trip 1: account + content (+ negative cache), the resume position (+ its negative
    // cache) and the rate counter, in one pipeline. The rate limit is judged before anything is
    // fetched from the internal API for this request.
    store::KeyBuffer kb;
    redis::Pipeline extra;
    extra.add({"HGET", store::progress_key(kb, claims.sub, claims.pid), body->content_id});
    extra.add({"HEXISTS", store::progress_missing_key(kb, claims.sub, claims.pid), body->content_id});
    const AccountRateLimit limit(AccountRateLimit::Kind::kStart, deps_.settings.start_rate_per_min);
    std::string window;
    const std::size_t rate_reply = extra.size();  // the INCR's place among the extra replies
    limit.add_to(extra, kb, claims.sub, now_ms, window);
    auto catalog = co_await deps_.catalog.async_read(claims.sub, body->content_id, req.context(), &extra);
    if (const auto retry_after = limit.exceeded(catalog.extra, rate_reply, now_ms)) {
        ++deps_.stats.starts_rate_limited_total;
        co_return error(ApiError::kRateLimited, now_ms, "{}", *retry_after);
    }
    if (auto filled = co_await deps_.catalog.async_fill(catalog, claims.sub, body->content_id, req.context());
        !filled) {
        co_return error(upstream_error(filled.error()), now_ms);
    }
    if (auto e = check_playable(catalog, claims.pid, req, deps_.settings.plan_ranks, now_ms)) {
        co_return error(*e, now_ms);
    }
    const domain::Account& account = *catalog.account;
    const domain::Content& content = *catalog.content;
    auto selection = domain::select_stream(content, account.plan, body->capabilities);
    if (!selection) {
        ++deps_.stats.starts_no_stream_total;
        co_return error(ApiError::kNoCompatibleStream, now_ms);
    }

    // Resume position: cached (or cached as absent) on the warm path; else the system of record.
    std::optional<domain::ProgressRecord> stored;
    const bool read_ok = catalog.extra.size() >= 2;
    if (read_ok && catalog.extra[0].is_string()) {
        stored = domain::decode_progress_value(content.id, catalog.extra[0].as_string_view());
    } else if (body->resume == domain::ResumeMode::kAuto && !(read_ok && catalog.extra[1].to_int64() == 1)) {
        auto loaded = co_await deps_.progress.async_load_one(claims.sub, claims.pid, content.id, req.context());
        if (loaded) {
            stored = std::move(*loaded);
        }  // else: the resume point is a convenience; play from the start rather than fail
    }

    // Round trip 2: idempotency + lease + session meta.
    domain::SessionInfo info;
    info.session_id = deps_.session_ids.mint(claims.sub);
    info.device_id = body->device.id;
    info.device_type = std::string(domain::to_string(body->device.type));
    info.device_name = body->device.name;
    info.content_id = content.id;
    info.profile_id = claims.pid;
    info.started_at_ms = now_ms;
    store::SessionMeta meta;
    meta.profile_id = claims.pid;
    meta.content_id = content.id;
    meta.duration_sec = content.duration_sec;
    meta.completion_sec = domain::completion_threshold_sec(content.duration_sec, content.credits_start_sec);
    meta.start_over = body->resume == domain::ResumeMode::kStartOver;
    meta.window_end_ms = content.window_end_ms;
    meta.selection = domain::encode_selection(*selection);
    const std::string request_hash = idem_key.empty() ? std::string() : body_hash(req.body());
    if (catalog.redis_error && store::redis_unavailable(store::classify_redis_failure(catalog.redis_error))) {
        // Redis did not answer this request's first round trip within the server's own budget
        // (or is disconnected, or its breaker open): do not send the lease script into an outcome
        // nobody would learn. Fail open without it (resilience.redis_down_start = open), or 503.
        ++deps_.stats.store_errors_total;
        if (deps_.settings.redis_down_fail_open) {
            co_return start_without_lease(deps_, account, content, *selection, *body, stored, std::move(info),
                                          std::move(meta), now_ms);
        }
        co_return error(ApiError::kUpstreamUnavailable, now_ms);
    }
    auto lease = co_await deps_.sessions.async_start(
        store::StartCommand{account.id, account.plan.max_streams, info, body->replace_session_id.value_or(""),
                            now_ms, idem_key, request_hash, meta},
        req.context().deadline);
    if (!lease) {
        ++deps_.stats.store_errors_total;
        switch (store::classify_redis_failure(lease.error())) {
            case store::RedisFailure::kNotSent:
                if (deps_.settings.redis_down_fail_open) {
                    // Redis is down or its breaker open and the script never left this process
                    // (resilience.redis_down_start = open): play without a lease now (no
                    // idempotency record; the rate limit only counted if the first pipeline got
                    // an answer) and hold the grant: the replay creates the lease, stream limit
                    // included.
                    co_return start_without_lease(deps_, account, content, *selection, *body, stored,
                                                  std::move(info), std::move(meta), now_ms);
                }
                break;
            case store::RedisFailure::kNoReply:
                // Sent, no answer: the lease may exist. Never 201 on an unknown outcome; a retry
                // from the same device replaces that lease if it was granted.
                co_return error(ApiError::kUpstreamUnavailable, now_ms);
            default:
                break;  // the caller's own deadline, a cancel, our overload: never a fallback
        }
        co_return error(store_error(lease.error()), now_ms);
    }
    if (auto* replay = std::get_if<store::IdempotentReplay>(&*lease)) {
        if (replay->request_hash != request_hash) {
            co_return error(ApiError::kIdempotencyConflict, now_ms, R"({"reason":"key used with another body"})");
        }
        if (replay->response_body.empty()) {
            co_return error(ApiError::kIdempotencyConflict, now_ms, R"({"reason":"first request still in progress"})");
        }
        ++deps_.stats.starts_replayed_total;
        http::Response res = json(201, std::move(replay->response_body));
        res.headers.emplace_back("Idempotent-Replayed", "true");
        co_return res;
    }
    if (auto* denied = std::get_if<domain::LeaseDenied>(&*lease)) {
        ++deps_.stats.starts_denied_total;
        co_return error(ApiError::kStreamLimitReached, now_ms, domain::stream_limit_details(*denied));
    }
    const auto& granted = std::get<domain::LeaseGranted>(*lease);
    ++deps_.stats.starts_granted_total;
    if (!granted.replaced_session_id.empty()) {
        ++deps_.stats.starts_replaced_total;
    }

    // Tokens last (api.md §5.1 order): signed delivery from the per-thread cache, DRM token.
    auto blocks = deps_.delivery.build(*selection, account.id, now_ms);
    if (!blocks) {
        // Never expected (keys are probed at startup): give the stream slot back before failing.
        (void)co_await deps_.sessions.async_kick(account.id, info.session_id, now_ms, req.context().deadline);
        co_return error(ApiError::kInternal, now_ms);
    }
    const domain::TrackChoice tracks =
        domain::choose_tracks(content, body->preferred_audio_lang, body->preferred_subtitle_lang);
    const double resume = domain::resume_position(stored, body->resume);
    std::string out = domain::start_response({info.session_id, granted, deps_.settings.heartbeat_interval_sec, content,
                                              resume, blocks->stream, blocks->drm, tracks, deps_.cdn_base_url,
                                              account.plan.max_streams, now_ms});
    if (!idem_key.empty()) {
        // Round trip 3, only for idempotent starts: remember the answer for replays.
        std::string stored_value = request_hash + "\n" + out;
        auto saved = co_await deps_.sessions.async_save_idempotent(account.id, idem_key, stored_value,
                                                                   req.context().deadline);
        if (!saved) {
            ++deps_.stats.store_errors_total;  // the start succeeded; a replay will see "in progress"
        }
    }
    http::Response res = json(201, std::move(out));
    res.headers.emplace_back("Location", "/v1/playback/sessions/" + info.session_id);
    co_return res;
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_heartbeat(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        co_return std::move(*answer);
    }
    const auto& [claims, session_id] = std::get<SessionCaller>(caller);
    if (!has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    const auto parsed = domain::parse_heartbeat_request(req.body());
    const domain::HeartbeatRequest* body = std::get_if<domain::HeartbeatRequest>(&parsed);
    if (body == nullptr) {
        co_return invalid_request(parsed, now_ms);
    }
    if (deps_.buffer.has_pending_grant(claims.sub, session_id)) {
        // Started while Redis was down and its grant is not replayed yet: Redis has no lease for
        // it (it would answer 404). Queue behind the grant instead.
        co_return held_heartbeat(deps_, claims.sub, session_id, *body, now_ms);
    }
    auto hb = co_await deps_.sessions.async_heartbeat(claims.sub, session_id, body->position_sec, body->seq, now_ms,
                                                      req.context().deadline);
    if (!hb) {
        ++deps_.stats.store_errors_total;
        if (store::redis_unavailable(store::classify_redis_failure(hb.error()))) {
            co_return held_heartbeat(deps_, claims.sub, session_id, *body, now_ms);
        }
        co_return error(store_error(hb.error()), now_ms);
    }
    deps_.stats.count(hb->progress);
    switch (hb->lease.status) {
        case domain::HeartbeatStatus::kRenewed: {
            ++deps_.stats.heartbeats_renewed_total;
            // Missing (expired, or a billing event DELed it) or past its soft TTL: reload it in
            // the background so the next heartbeat judges fresh data (one refresh per account per
            // worker at a time; skipped while the account breaker is open).
            if ((hb->entitlement == store::Entitlement::kUnknown ||
                 now_ms - hb->entitlement_fetched_at_ms >= deps_.catalog.settings().account_ttl.count()) &&
                deps_.catalog.refresh_in_background(upstream::Resource::kAccount, claims.sub)) {
                ++deps_.stats.entitlement_refreshes_total;
            }
            const std::string_view reason = stop_reason(*hb, now_ms);
            if (!reason.empty()) {
                ++deps_.stats.heartbeats_stop_total;
            }
            co_return json(200, domain::heartbeat_response(hb->lease.expires_at_ms,
                                                           deps_.settings.heartbeat_interval_sec, reason, now_ms));
        }
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
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        co_return std::move(*answer);
    }
    const auto& [claims, session_id] = std::get<SessionCaller>(caller);
    if (!has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    const auto parsed = domain::parse_stop_request(req.body());
    const domain::StopRequest* body = std::get_if<domain::StopRequest>(&parsed);
    if (body == nullptr) {
        co_return invalid_request(parsed, now_ms);
    }
    if (deps_.buffer.has_pending_grant(claims.sub, session_id)) {
        // Its lease does not exist yet: a stop sent now would release nothing and the grant's
        // replay would then create a lease nobody releases. Queue behind the grant.
        co_return held_stop(deps_, claims.sub, session_id, *body, now_ms);
    }
    auto stopped = co_await deps_.sessions.async_stop(claims.sub, session_id, body->position_sec, body->seq,
                                                      body->reason == domain::StopReason::kEnded, now_ms,
                                                      req.context().deadline);
    if (!stopped) {
        ++deps_.stats.store_errors_total;
        if (store::redis_unavailable(store::classify_redis_failure(stopped.error()))) {
            co_return held_stop(deps_, claims.sub, session_id, *body, now_ms);
        }
        co_return error(store_error(stopped.error()), now_ms);
    }
    deps_.stats.count(stopped->progress);
    ++deps_.stats.stops_total;
    co_return no_content();
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_refresh(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        co_return std::move(*answer);
    }
    const auto& [claims, session_id] = std::get<SessionCaller>(caller);
    if (!req.body().empty() && !has_json_content_type(req)) {
        co_return error(ApiError::kUnsupportedMediaType, now_ms);
    }
    auto live = co_await deps_.sessions.async_live_session(claims.sub, session_id, now_ms, req.context().deadline);
    if (!live) {
        ++deps_.stats.store_errors_total;
        co_return error(store_error(live.error()), now_ms);
    }
    if (!*live) {
        co_return error(ApiError::kSessionNotFound, now_ms);
    }
    // New tokens only while the viewer may still play it: the start checks again (cached reads).
    auto catalog = co_await deps_.catalog.async_load(claims.sub, (*live)->content_id, req.context());
    if (!catalog) {
        co_return error(upstream_error(catalog.error()), now_ms);
    }
    if (auto e = check_playable(*catalog, (*live)->profile_id, req, deps_.settings.plan_ranks, now_ms)) {
        co_return error(*e, now_ms);
    }
    const auto selection = domain::decode_selection((*live)->selection);
    if (!selection) {
        co_return error(ApiError::kSessionNotFound, now_ms);  // meta from an incompatible version
    }
    auto blocks = deps_.delivery.build(*selection, claims.sub, now_ms);
    if (!blocks) {
        co_return error(ApiError::kInternal, now_ms);
    }
    ++deps_.stats.refreshes_total;
    co_return json(200, domain::refresh_response(std::string(session_id), blocks->stream, blocks->drm, now_ms));
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_list(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto auth = authenticate(req, deps_.verifier, now_ms, false, deps_.auth_stats);
    if (auto* e = std::get_if<ApiError>(&auth)) {
        co_return error(*e, now_ms);
    }
    const jwt::Claims& claims = std::get<jwt::Claims>(auth);
    auto catalog = co_await deps_.catalog.async_load(claims.sub, {}, req.context());
    if (!catalog) {
        co_return error(upstream_error(catalog.error()), now_ms);
    }
    if (!catalog->account) {
        co_return error(ApiError::kSubscriptionRequired, now_ms);
    }
    auto sessions = co_await deps_.sessions.async_list(claims.sub, now_ms, req.context().deadline);
    if (!sessions) {
        ++deps_.stats.store_errors_total;
        co_return error(store_error(sessions.error()), now_ms);
    }
    co_return json(200, domain::sessions_response(catalog->account->plan.max_streams, *sessions, now_ms));
}

boost::asio::awaitable<http::Response> PlaybackHandlers::async_kick(http::Request& req) {
    const std::int64_t now_ms = deps_.clock.wall_ms();
    auto caller = session_caller(req, deps_, now_ms);
    if (auto* answer = std::get_if<http::Response>(&caller)) {
        co_return std::move(*answer);
    }
    const auto& [claims, session_id] = std::get<SessionCaller>(caller);
    auto kicked = co_await deps_.sessions.async_kick(claims.sub, session_id, now_ms, req.context().deadline);
    if (!kicked) {
        ++deps_.stats.store_errors_total;
        co_return error(store_error(kicked.error()), now_ms);
    }
    if (*kicked == store::KickResult::kKicked) {
        ++deps_.stats.kicks_total;
        co_return no_content();
    }
    // Not a live lease of this account: whose id it is, the id itself says (its MAC), with no
    // owner record to keep per session (docs/data.md).
    if (foreign_session_id(deps_.session_ids, claims.sub, session_id)) {
        co_return error(ApiError::kNotOwner, now_ms);
    }
    co_return error(ApiError::kSessionNotFound, now_ms);
}

}  // namespace moneta::handlers
