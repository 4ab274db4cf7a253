#include "usecases/session_calls.hpp"

#include "domain/negotiation.hpp"
#include "domain/responses.hpp"
#include "store/redis_failure.hpp"
#include "usecases/start_playback.hpp"

namespace moneta::usecases {
namespace {

using domain::ApiError;

/// True when @p session_id has the shape of a minted id (domain/session_id.hpp: "ps_" and 24
/// base64url characters) without being minted for @p account_id: another account's session, as
/// far as a stateless check can tell (a made-up id of that shape answers the same).
bool foreign_session_id(const domain::SessionIdSigner& ids, std::string_view account_id, std::string_view session_id) {
    constexpr std::size_t kMintedSize = 3 + 24;
    return session_id.size() == kMintedSize && session_id.starts_with("ps_") && !ids.minted_for(account_id, session_id);
}

}  // namespace

std::string_view stop_reason(const store::HeartbeatResult& hb, std::int64_t now_ms) noexcept {
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

Outcome<Renewed> SessionCalls::hold_heartbeat(const ProgressReport& r) {
    // Answered as if the lease was renewed, with no stop action (judging one needs Redis).
    const auto held = d_.held.push(store::BufferedHeartbeat{r.caller.account_id.str(), std::string(r.session_id),
                                                            r.position_sec, r.seq, r.now_ms});
    if (held != store::ProgressBuffer::Push::kHeld) {
        return Refused{ApiError::kUpstreamUnavailable};
    }
    ++d_.stats.heartbeats_buffered_total;
    return Renewed{r.now_ms + d_.leases.lease().count(), {}, true};
}

Outcome<Renewed> SessionCalls::judge_heartbeat(const ProgressReport& r, core::Result<store::HeartbeatResult>& hb) {
    if (!hb) {
        ++d_.stats.store_errors_total;
        if (store::redis_unavailable(store::classify_redis_failure(hb.error()))) {
            return hold_heartbeat(r);
        }
        return StoreFailed{hb.error()};
    }
    d_.stats.count(hb->progress);
    switch (hb->lease.status) {
        case domain::HeartbeatStatus::kRenewed: {
            ++d_.stats.heartbeats_renewed_total;
            // Missing (expired, or a billing event DELed it) or past its soft TTL: reload it in
            // the background so the next heartbeat judges fresh data (one refresh per account per
            // worker at a time; skipped while the account breaker is open).
            if ((hb->entitlement == store::Entitlement::kUnknown ||
                 r.now_ms - hb->entitlement_fetched_at_ms >= d_.catalog.account_ttl().count()) &&
                d_.catalog.refresh_account_in_background(r.caller.account_id)) {
                ++d_.stats.entitlement_refreshes_total;
            }
            const std::string_view reason = stop_reason(*hb, r.now_ms);
            if (!reason.empty()) {
                ++d_.stats.heartbeats_stop_total;
            }
            return Renewed{hb->lease.expires_at_ms, reason, false};
        }
        case domain::HeartbeatStatus::kEvicted:
            ++d_.stats.heartbeats_evicted_total;
            return Refused{ApiError::kSessionEvicted};
        case domain::HeartbeatStatus::kNotFound: break;
    }
    ++d_.stats.heartbeats_not_found_total;
    return Refused{ApiError::kSessionNotFound};
}

Outcome<Stopped> SessionCalls::hold_stop(const ProgressReport& r, bool ended) {
    const auto held = d_.held.push(store::BufferedStop{r.caller.account_id.str(), std::string(r.session_id),
                                                       r.position_sec, r.seq, r.now_ms, ended});
    if (held != store::ProgressBuffer::Push::kHeld) {
        return Refused{ApiError::kUpstreamUnavailable};
    }
    ++d_.stats.stops_buffered_total;
    return Stopped{true};
}

Outcome<Stopped> SessionCalls::judge_stop(const ProgressReport& r, bool ended,
                                          const core::Result<store::StopResult>& stopped) {
    if (!stopped) {
        ++d_.stats.store_errors_total;
        if (store::redis_unavailable(store::classify_redis_failure(stopped.error()))) {
            return hold_stop(r, ended);
        }
        return StoreFailed{stopped.error()};
    }
    d_.stats.count(stopped->progress);
    ++d_.stats.stops_total;
    return Stopped{false};
}

Outcome<Refreshed> SessionCalls::refreshed(const Caller& caller, std::string_view session_id,
                                           const store::LiveSession& live,
                                           const store::StartCatalog& catalog, std::string_view viewer_country,
                                           std::int64_t now_ms) {
    if (auto e = check_playable(catalog, live.profile_id, viewer_country, d_.settings.plan_ranks, now_ms)) {
        return Refused{*e};
    }
    const auto selection = domain::decode_selection(live.selection);
    if (!selection) {
        return Refused{ApiError::kSessionNotFound};  // meta from an incompatible version
    }
    auto blocks = d_.delivery.build(*selection, caller.account_id, now_ms);
    if (!blocks) {
        return Refused{ApiError::kInternal};
    }
    ++d_.stats.refreshes_total;
    return Refreshed{domain::refresh_response(std::string(session_id), blocks->stream, blocks->drm, now_ms)};
}

Outcome<Kicked> SessionCalls::judge_kick(const Caller& caller, std::string_view session_id,
                                         const core::Result<store::KickResult>& kicked) {
    if (!kicked) {
        ++d_.stats.store_errors_total;
        return StoreFailed{kicked.error()};
    }
    if (*kicked == store::KickResult::kKicked) {
        ++d_.stats.kicks_total;
        return Kicked{};
    }
    // Not a live lease of this account: whose id it is, the id itself says (its MAC), with no
    // owner record to keep per session (docs/data.md).
    if (foreign_session_id(d_.session_ids, caller.account_id, session_id)) {
        return Refused{ApiError::kNotOwner};
    }
    return Refused{ApiError::kSessionNotFound};
}

}  // namespace moneta::usecases
