/// @file services/moneta/src/usecases/session_calls.hpp
/// @brief The calls on a live session (api.md §5.2–5.6) as use cases: heartbeat, stop,
/// refresh, list and kick. Each is one coroutine that awaits its ports directly and returns
/// `present(outcome)` (see start_playback.hpp for why the presenter runs inside it).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "moneta/trace/client_span.hpp"
#include "domain/requests.hpp"
#include "domain/session_id.hpp"
#include "usecases/outcome.hpp"
#include "usecases/playback_stats.hpp"
#include "usecases/ports.hpp"

namespace moneta::usecases {

/// Heartbeat and stop: who, which session, and what the player sent.
struct ProgressReport {
    Caller caller;
    std::string_view session_id;  ///< valid id (a view into the request)
    double position_sec = 0;
    std::int64_t seq = 0;
    std::int64_t now_ms = 0;
    core::Deadline deadline;
    const core::RequestContext* ctx = nullptr;  ///< the request's trace (its Redis span); outlives the call
};

/// A 200 heartbeat answer: the lease's expiry and the stop reason (empty: "continue").
struct Renewed {
    std::int64_t expires_at_ms = 0;
    std::string_view stop_reason;  ///< a literal: no allocation
    bool held = false;             ///< Redis unavailable: held for replay, lease presumed
};

/// A 204 stop answer.
struct Stopped {
    bool held = false;  ///< Redis unavailable: held for replay
};

/// A 200 refresh answer: the body with new stream and DRM blocks, rendered where the blocks
/// were built (they view the decoded selection and the worker's signature cache:
/// domain/delivery.hpp).
struct Refreshed {
    std::string body;
};

/// A 200 list answer.
struct Listed {
    int max_streams = 0;
    std::vector<domain::ActiveSession> sessions;
};

/// A 204 kick answer.
struct Kicked {};

/// What the session calls run on: their ports, and the worker's id signer, settings and counters.
struct SessionCallsDeps {
    SessionLeases& leases;
    CatalogReader& catalog;
    HeldWrites& held;
    StreamDelivery& delivery;
    const domain::SessionIdSigner& session_ids;
    const PlaybackSettings& settings;
    PlaybackStats& stats;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker, like its ports).
class SessionCalls {
public:
    explicit SessionCalls(SessionCallsDeps deps) noexcept : d_(deps) {}

    /// Renews the lease and records the position: one Redis round trip, no allocation of its
    /// own. Redis unavailable (or a fail-open grant not replayed yet): held, answered as renewed.
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<Renewed>&&>> async_heartbeat(ProgressReport r,
                                                                                             Present present) {
        if (d_.held.has_pending_grant(r.caller.account_id, r.session_id)) {
            // Started while Redis was down and its grant is not replayed yet: Redis has no lease
            // for it (it would answer 404). Queue behind the grant instead.
            co_return present(hold_heartbeat(r));
        }
        const auto t0 = trace::client_call_start();
        auto hb = co_await d_.leases.async_heartbeat(r.caller.account_id, r.session_id, r.position_sec, r.seq,
                                                     r.now_ms, r.deadline);
        if (r.ctx != nullptr) {
            trace::record_redis_call(*r.ctx, t0, "heartbeat", hb.has_value());
        }
        co_return present(judge_heartbeat(r, hb));
    }

    /// Releases the lease and records the final position; held like a heartbeat.
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<Stopped>&&>> async_stop(ProgressReport r, bool ended,
                                                                                        Present present) {
        if (d_.held.has_pending_grant(r.caller.account_id, r.session_id)) {
            // Its lease does not exist yet: a stop sent now would release nothing and the grant's
            // replay would then create a lease nobody releases. Queue behind the grant.
            co_return present(hold_stop(r, ended));
        }
        const auto t0 = trace::client_call_start();
        auto stopped = co_await d_.leases.async_stop(r.caller.account_id, r.session_id, r.position_sec, r.seq, ended,
                                                     r.now_ms, r.deadline);
        if (r.ctx != nullptr) {
            trace::record_redis_call(*r.ctx, t0, "stop", stopped.has_value());
        }
        co_return present(judge_stop(r, ended, stopped));
    }

    /// New stream/DRM blocks for a live session, while the viewer may still play it (the
    /// start's checks again, on cached reads).
    /// @param viewer_country the edge's valid country, or empty: the account's.
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<Refreshed>&&>> async_refresh(
        Caller caller, std::string_view session_id, std::string_view viewer_country, std::int64_t now_ms,
        const core::RequestContext& ctx, Present present) {
        const auto t0 = trace::client_call_start();
        auto live = co_await d_.leases.async_live_session(caller.account_id, session_id, now_ms, ctx.deadline);
        trace::record_redis_call(ctx, t0, "live_session", live.has_value());
        if (!live) {
            ++d_.stats.store_errors_total;
            co_return present(Outcome<Refreshed>(StoreFailed{live.error()}));
        }
        if (!*live) {
            co_return present(Outcome<Refreshed>(Refused{domain::ApiError::kSessionNotFound}));
        }
        auto catalog = co_await d_.catalog.async_load(caller.account_id, (*live)->content_id, ctx);
        if (!catalog) {
            co_return present(Outcome<Refreshed>(UpstreamFailed{catalog.error()}));
        }
        co_return present(refreshed(caller, session_id, **live, *catalog, viewer_country, now_ms));
    }

    /// The account's live sessions and its stream limit.
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<Listed>&&>> async_list(
        Caller caller, std::int64_t now_ms, const core::RequestContext& ctx, Present present) {
        auto catalog = co_await d_.catalog.async_load(caller.account_id, {}, ctx);
        if (!catalog) {
            co_return present(Outcome<Listed>(UpstreamFailed{catalog.error()}));
        }
        if (!catalog->account) {
            co_return present(Outcome<Listed>(Refused{domain::ApiError::kSubscriptionRequired}));
        }
        const auto t0 = trace::client_call_start();
        auto sessions = co_await d_.leases.async_list(caller.account_id, now_ms, ctx.deadline);
        trace::record_redis_call(ctx, t0, "session_list", sessions.has_value());
        if (!sessions) {
            ++d_.stats.store_errors_total;
            co_return present(Outcome<Listed>(StoreFailed{sessions.error()}));
        }
        co_return present(Outcome<Listed>(Listed{catalog->account->plan.max_streams, std::move(*sessions)}));
    }

    /// Ends a session of the account (its next heartbeat gets SESSION_EVICTED).
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<Kicked>&&>> async_kick(
        Caller caller, std::string_view session_id, std::int64_t now_ms, core::Deadline deadline, Present present) {
        auto kicked = co_await d_.leases.async_kick(caller.account_id, session_id, now_ms, deadline);
        co_return present(judge_kick(caller, session_id, kicked));
    }

private:
    Outcome<Renewed> hold_heartbeat(const ProgressReport& r);
    Outcome<Renewed> judge_heartbeat(const ProgressReport& r, core::Result<store::HeartbeatResult>& hb);
    Outcome<Stopped> hold_stop(const ProgressReport& r, bool ended);
    Outcome<Stopped> judge_stop(const ProgressReport& r, bool ended, const core::Result<store::StopResult>& stopped);
    Outcome<Refreshed> refreshed(const Caller& caller, std::string_view session_id, const store::LiveSession& live,
                                 const store::StartCatalog& catalog, std::string_view viewer_country,
                                 std::int64_t now_ms);
    Outcome<Kicked> judge_kick(const Caller& caller, std::string_view session_id,
                               const core::Result<store::KickResult>& kicked);

    SessionCallsDeps d_;
};

/// Why a live session must stop (api.md §5.2): the cached entitlement was revoked or the title
/// left its window. Empty: continue. Only what the heartbeat's round trip brought is consulted
/// (the store judged the entitlement digest); a missing cache entry means "no news".
std::string_view stop_reason(const store::HeartbeatResult& hb, std::int64_t now_ms) noexcept;

}  // namespace moneta::usecases
