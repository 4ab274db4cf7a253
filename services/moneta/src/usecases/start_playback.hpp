/// @file services/moneta/src/usecases/start_playback.hpp
/// @brief POST /v1/playback/sessions as a use case (api.md §5.1): rate limit, catalog checks,
/// stream selection, resume position, lease (or fail-open without one), tokens, idempotency.
///
/// Usage (the handler maps HTTP to the command, and the outcome to a response):
/// @code
///   return start_.async_run(std::move(cmd), [this, now_ms](Outcome<Started>&& o) { return respond(o, now_ms); });
/// @endcode
/// The presenter runs inside the use case's coroutine, so a request costs one coroutine frame
/// for the use case and none for the handler (see docs/ARCHITECTURE.md "Use cases").
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "moneta/trace/client_span.hpp"
#include "domain/requests.hpp"
#include "domain/session_id.hpp"
#include "store/redis_failure.hpp"
#include "usecases/outcome.hpp"
#include "usecases/playback_stats.hpp"
#include "usecases/ports.hpp"

namespace moneta::usecases {

struct StartPlaybackCommand {
    Caller caller;
    domain::StartRequest request;
    std::string_view idempotency_key;  ///< valid key, or empty: none
    std::string_view raw_body;         ///< the body as sent (hashed with the Idempotency-Key)
    std::string_view viewer_country;   ///< valid edge-provided country, or empty: the account's
    std::int64_t now_ms = 0;
    const core::RequestContext* ctx = nullptr;  ///< the request's (deadline, trace); outlives the call
    /// Storage for the 201 body (the connection's recycled response buffer, or empty): the body
    /// is written into it, so a start allocates no body string of its own.
    std::string body_buffer;
};

/// A 201: the body, and how it was produced.
struct Started {
    enum class Kind : std::uint8_t {
        kGranted,   ///< lease granted by Redis
        kFailOpen,  ///< Redis unavailable before the lease script was sent: no lease, grant held
        kReplayed,  ///< the stored answer of an earlier start with the same Idempotency-Key
    };
    /// What the handler's Location header puts before the id: the id is minted with room for
    /// it, so the header is the id's own string prefixed in place (no allocation).
    static constexpr std::string_view kLocationPrefix = "/v1/playback/sessions/";

    Kind kind = Kind::kGranted;
    std::string session_id;  ///< Location: kLocationPrefix + id (not sent on a replay)
    std::string body;
};

/// What the start runs on: its ports, and the worker's id signer, settings and counters.
struct StartDeps {
    CatalogReader& catalog;
    SessionLeases& leases;
    ProgressRecords& progress;
    HeldWrites& held;
    StreamDelivery& delivery;
    const domain::SessionIdSigner& session_ids;
    const std::string& cdn_base_url;
    const PlaybackSettings& settings;
    PlaybackStats& stats;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker, like its ports).
class StartPlayback {
public:
    explicit StartPlayback(StartDeps deps) noexcept : d_(deps) {}

    /// Runs the start and returns `present(outcome)`. Redis round trips: 1 (rate limit, catalog,
    /// cached resume position) + 1 (idempotency + lease + meta) + 1 only for idempotent starts.
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<Started>&&>> async_run(StartPlaybackCommand cmd,
                                                                                      Present present) {
        const core::RequestContext& ctx = *cmd.ctx;
        auto t0 = trace::client_call_start();
        AdmissionRead read = co_await d_.catalog.async_read_admission(admission(cmd), ctx);
        trace::record_redis_call(ctx, t0, "admission", !read.catalog.redis_error);
        if (read.retry_after_sec) {
            ++d_.stats.starts_rate_limited_total;
            co_return present(Outcome<Started>(Refused{domain::ApiError::kRateLimited, "{}", *read.retry_after_sec}));
        }
        if (needs_fill(read.catalog)) {  // a warm read: no fill call, not even its frame
            if (auto filled = co_await d_.catalog.async_fill(read.catalog, cmd.caller.account_id,
                                                             cmd.request.content_id, ctx);
                !filled) {
                co_return present(Outcome<Started>(UpstreamFailed{filled.error()}));
            }
        }
        auto planned = plan(cmd, read.catalog);
        if (auto* refused = std::get_if<Refused>(&planned)) {
            co_return present(Outcome<Started>(std::move(*refused)));
        }
        Plan& p = std::get<Plan>(planned);

        // Resume position: cached (or cached as absent) on the warm path; else the system of record.
        std::optional<domain::ProgressRecord> stored;
        if (read.progress_cached) {
            stored = std::move(read.stored_progress);
        } else if (cmd.request.resume == domain::ResumeMode::kAuto && !read.progress_known_absent) {
            auto loaded = co_await d_.progress.async_load_one(cmd.caller.account_id, cmd.caller.profile_id,
                                                              p.content->id, ctx);
            if (loaded) {
                stored = std::move(*loaded);
            }  // else: the resume point is a convenience; play from the start rather than fail
        }
        p.resume_sec = domain::resume_position(stored, cmd.request.resume);

        if (read.catalog.redis_error &&
            store::redis_unavailable(store::classify_redis_failure(read.catalog.redis_error))) {
            // Redis did not answer this request's first round trip within the server's own budget
            // (or is disconnected, or its breaker open): do not send the lease script into an
            // outcome nobody would learn. Fail open without it (redis_down_start = open), or 503.
            ++d_.stats.store_errors_total;
            co_return present(d_.settings.redis_down_fail_open ? without_lease(cmd, p) : unavailable());
        }
        t0 = trace::client_call_start();
        auto lease = co_await d_.leases.async_start(
            store::StartCommand{p.account->id, p.account->plan.max_streams, p.info,
                                cmd.request.replace_session_id.value_or(""), cmd.now_ms, cmd.idempotency_key,
                                p.request_hash, p.meta},
            ctx.deadline);
        trace::record_redis_call(ctx, t0, "session_start", lease.has_value());
        if (!lease) {
            co_return present(lease_failed(cmd, p, lease.error()));
        }
        const domain::LeaseGranted* granted = std::get_if<domain::LeaseGranted>(&*lease);
        if (granted == nullptr) {
            co_return present(not_granted(p, std::move(*lease)));
        }
        count_granted(*granted);

        // Tokens last (api.md §5.1 order): signed delivery from the per-thread cache, DRM token.
        auto out = granted_body(cmd, p, *granted);
        if (!out) {
            // Never expected (keys are probed at startup): give the stream slot back before failing.
            (void)co_await d_.leases.async_kick(p.account->id, p.info.session_id, cmd.now_ms, ctx.deadline);
            co_return present(Outcome<Started>(Refused{domain::ApiError::kInternal}));
        }
        if (!cmd.idempotency_key.empty()) {
            // Round trip 3, only for idempotent starts: remember the answer for replays.
            const std::string stored_value = p.request_hash + "\n" + *out;
            t0 = trace::client_call_start();
            auto saved = co_await d_.leases.async_save_idempotent(p.account->id, cmd.idempotency_key, stored_value,
                                                                  ctx.deadline);
            trace::record_redis_call(ctx, t0, "idempotency_save", saved.has_value());
            if (!saved) {
                ++d_.stats.store_errors_total;  // the start succeeded; a replay will see "in progress"
            }
        }
        co_return present(
            Outcome<Started>(Started{Started::Kind::kGranted, std::move(p.info.session_id), std::move(*out)}));
    }

    /// FNV-1a 64 of @p body as 16 hex digits: same key + same body → same hash (Idempotency-Key).
    static std::string body_hash(std::string_view body);

private:
    /// What the start decided before the lease: the documents, the stream and the new session.
    struct Plan {
        std::shared_ptr<const domain::Account> account;
        std::shared_ptr<const domain::Content> content;
        domain::StreamSelection selection;
        domain::SessionInfo info;
        store::SessionMeta meta;
        std::string request_hash;  ///< empty without an Idempotency-Key
        double resume_sec = 0;
    };

    AdmissionQuery admission(const StartPlaybackCommand& cmd) const noexcept;
    /// The api.md §5.1 checks in order, the stream selection, a new session id and its meta.
    std::variant<Plan, Refused> plan(const StartPlaybackCommand& cmd, const store::StartCatalog& catalog);
    /// Served without a lease (Redis unavailable): 201 with a presumed lease, the grant held.
    Outcome<Started> without_lease(StartPlaybackCommand& cmd, Plan& p);
    /// The lease script failed: fail open only when it never left this process.
    Outcome<Started> lease_failed(StartPlaybackCommand& cmd, Plan& p, const boost::system::error_code& ec);
    /// Denied, an idempotent replay (or conflict), or a superseded grant (never for a live start).
    Outcome<Started> not_granted(const Plan& p, store::StartOutcome&& lease);
    void count_granted(const domain::LeaseGranted& granted) noexcept;
    /// The 201 body, or nullopt when the delivery blocks could not be built.
    std::optional<std::string> granted_body(StartPlaybackCommand& cmd, const Plan& p,
                                            const domain::LeaseGranted& granted);
    static Outcome<Started> unavailable() { return Refused{domain::ApiError::kUpstreamUnavailable}; }

    StartDeps d_;
};

/// The start's checks once account and content are read, in the api.md §5.1 order: subscription
/// and profile → content exists → window → geo → plan → parental. Shared by start and refresh.
/// @param viewer_country the edge's valid country, or empty: the account's.
std::optional<domain::ApiError> check_playable(const store::StartCatalog& catalog, std::string_view profile_id,
                                               std::string_view viewer_country, const domain::PlanRanks& ranks,
                                               std::int64_t now_ms);

}  // namespace moneta::usecases
