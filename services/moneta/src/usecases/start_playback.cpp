#include "usecases/start_playback.hpp"

#include "domain/catalog_codec.hpp"
#include "domain/negotiation.hpp"
#include "domain/playability.hpp"
#include "domain/progress.hpp"
#include "domain/responses.hpp"
#include "domain/tracks.hpp"
#include "moneta/core/hex.hpp"

namespace moneta::usecases {

using domain::ApiError;

std::optional<ApiError> check_playable(const store::StartCatalog& catalog, std::string_view profile_id,
                                       std::string_view viewer_country, const domain::PlanRanks& ranks,
                                       std::int64_t now_ms) {
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
                                 viewer_country.empty() ? std::string_view(account.country) : viewer_country, ranks,
                                 now_ms);
}

std::string StartPlayback::body_hash(std::string_view body) {
    std::uint64_t h = 1469598103934665603ULL;
    for (const char c : body) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    std::string out(16, '0');
    core::write_hex(h, out.data());
    return out;
}

AdmissionQuery StartPlayback::admission(const StartPlaybackCommand& cmd) const noexcept {
    return AdmissionQuery{Admission::kStart, cmd.caller.account_id, cmd.caller.profile_id, cmd.request.content_id,
                          d_.settings.start_rate_per_min, cmd.now_ms};
}

std::variant<StartPlayback::Plan, Refused> StartPlayback::plan(const StartPlaybackCommand& cmd,
                                                               const store::StartCatalog& catalog) {
    if (auto e = check_playable(catalog, cmd.caller.profile_id, cmd.viewer_country, d_.settings.plan_ranks,
                                cmd.now_ms)) {
        return Refused{*e};
    }
    const domain::Content& content = *catalog.content;
    auto selection = domain::select_stream(content, catalog.account->plan, cmd.request.capabilities);
    if (!selection) {
        ++d_.stats.starts_no_stream_total;
        return Refused{ApiError::kNoCompatibleStream};
    }
    Plan p;
    p.account = catalog.account;
    p.content = catalog.content;
    p.selection = std::move(*selection);
    const domain::StartRequest& body = cmd.request;
    p.info.session_id = d_.session_ids.mint(cmd.caller.account_id, Started::kLocationPrefix.size());
    p.info.device_id = body.device.id;
    p.info.device_type = std::string(domain::to_string(body.device.type));
    p.info.device_name = body.device.name;
    p.info.content_id = content.id;
    p.info.profile_id = cmd.caller.profile_id.str();
    p.info.started_at_ms = cmd.now_ms;
    p.meta.profile_id = cmd.caller.profile_id.str();
    p.meta.content_id = content.id;
    p.meta.duration_sec = content.duration_sec;
    p.meta.completion_sec = domain::completion_threshold_sec(content.duration_sec, content.credits_start_sec);
    p.meta.start_over = body.resume == domain::ResumeMode::kStartOver;
    p.meta.window_end_ms = content.window_end_ms;
    p.meta.selection = domain::encode_selection(p.selection);
    if (!cmd.idempotency_key.empty()) {
        p.request_hash = body_hash(cmd.raw_body);
    }
    return p;
}

std::optional<std::string> StartPlayback::granted_body(StartPlaybackCommand& cmd, const Plan& p,
                                                       const domain::LeaseGranted& granted) {
    auto blocks = d_.delivery.build(p.selection, p.account->id, cmd.now_ms);
    if (!blocks) {
        return std::nullopt;
    }
    const domain::TrackChoice tracks =
        domain::choose_tracks(*p.content, cmd.request.preferred_audio_lang, cmd.request.preferred_subtitle_lang);
    return domain::start_response({p.info.session_id, granted, d_.settings.heartbeat_interval_sec, *p.content,
                                   p.resume_sec, blocks->stream, blocks->drm, tracks, d_.cdn_base_url,
                                   p.account->plan.max_streams, cmd.now_ms},
                                  std::move(cmd.body_buffer));
}

Outcome<Started> StartPlayback::without_lease(StartPlaybackCommand& cmd, Plan& p) {
    // The normal 201 body with a lease presumed for `lease` from now and one active stream (the
    // real count needs Redis); the replay of the held grant creates the lease, stream limit
    // included. A full buffer → 503 UPSTREAM_UNAVAILABLE (nothing was granted).
    domain::LeaseGranted granted;
    granted.expires_at_ms = cmd.now_ms + d_.leases.lease().count();
    granted.active_streams = 1;
    auto out = granted_body(cmd, p, granted);
    if (!out) {
        return Refused{ApiError::kInternal};  // never expected; no lease to give back
    }
    std::string session_id = p.info.session_id;
    const auto held = d_.held.push(store::BufferedLeaseGrant{p.account->id, p.account->plan.max_streams,
                                                             std::move(p.info),
                                                             cmd.request.replace_session_id.value_or(""),
                                                             std::move(p.meta)});
    if (held != store::ProgressBuffer::Push::kHeld) {
        return unavailable();
    }
    return Started{Started::Kind::kFailOpen, std::move(session_id), std::move(*out)};
}

Outcome<Started> StartPlayback::lease_failed(StartPlaybackCommand& cmd, Plan& p,
                                             const boost::system::error_code& ec) {
    ++d_.stats.store_errors_total;
    switch (store::classify_redis_failure(ec)) {
        case store::RedisFailure::kNotSent:
            if (d_.settings.redis_down_fail_open) {
                // Redis is down or its breaker open and the script never left this process: play
                // without a lease now (no idempotency record; the rate limit only counted if the
                // first pipeline got an answer) and hold the grant.
                return without_lease(cmd, p);
            }
            break;
        case store::RedisFailure::kNoReply:
            // Sent, no answer: the lease may exist. Never 201 on an unknown outcome; a retry from
            // the same device replaces that lease if it was granted.
            return unavailable();
        default:
            break;  // the caller's own deadline, a cancel, our overload: never a fallback
    }
    return StoreFailed{ec};
}

Outcome<Started> StartPlayback::not_granted(const Plan& p, store::StartOutcome&& lease) {
    if (auto* replay = std::get_if<store::IdempotentReplay>(&lease)) {
        if (replay->request_hash != p.request_hash) {
            return Refused{ApiError::kIdempotencyConflict, R"({"reason":"key used with another body"})"};
        }
        if (replay->response_body.empty()) {
            return Refused{ApiError::kIdempotencyConflict, R"({"reason":"first request still in progress"})"};
        }
        ++d_.stats.starts_replayed_total;
        return Started{Started::Kind::kReplayed, {}, std::move(replay->response_body)};
    }
    if (auto* denied = std::get_if<domain::LeaseDenied>(&lease)) {
        ++d_.stats.starts_denied_total;
        return Refused{ApiError::kStreamLimitReached, domain::stream_limit_details(*denied)};
    }
    // LeaseSuperseded: only replayed grants can be superseded (StartCommand::replayed_grant).
    return Refused{ApiError::kInternal};
}

void StartPlayback::count_granted(const domain::LeaseGranted& granted) noexcept {
    ++d_.stats.starts_granted_total;
    if (!granted.replaced_session_id.empty()) {
        ++d_.stats.starts_replaced_total;
    }
}

}  // namespace moneta::usecases
