#include "store/session_store.hpp"

#include <array>
#include <cmath>

#include "domain/entitlement_digest.hpp"
#include "domain/progress.hpp"
#include "store/keys.hpp"
#include "store/scripts/script_call.hpp"

namespace moneta::store {
namespace {

using core::Errc;

template <class T>
core::Result<T> fail(Errc e) {
    return core::Result<T>(boost::system::in_place_error, core::make_error(e));
}

/// How often a session's heartbeats renew its keys' TTLs. The lease keys live 2 × span from a
/// refresh (session_lua.cpp `touch`) and must outlive a lease by a minute: renewing them at
/// least every span keeps ≥ span left. The meta and the profile's keys live far longer;
/// renewing the meta at half its life keeps it too.
std::chrono::milliseconds refresh_interval(const LeaseSettings& lease) noexcept {
    const auto span = std::max(lease.lease, lease.tombstone) + std::chrono::milliseconds(60'000);
    return std::min(span, lease.meta / 2);
}

ScriptSettings script_settings(const LeaseSettings& lease, const ProgressSettings& progress) noexcept {
    ScriptSettings s;
    s.lease_ms = lease.lease.count();
    s.tombstone_ms = lease.tombstone.count();
    s.meta_ttl_ms = lease.meta.count();
    s.meta_refresh_ms = refresh_interval(lease).count();
    s.progress = progress;
    return s;
}

std::vector<domain::ActiveSession> decode_members(const LeaseList& leases, std::int64_t lease_ms) {
    std::vector<domain::ActiveSession> out;
    out.reserve(leases.size());  // one allocation, not one per growth
    for (std::size_t i = 0; i < leases.size(); ++i) {
        const LeaseEntry e = leases[i];
        domain::ActiveSession a;
        a.info = domain::decode_session_info(e.info_json);
        a.info.session_id.assign(e.session_id);  // into the decoded id's storage
        // The score is the lease expiry, set to last_seen + lease at each renewal.
        a.last_seen_ms = e.expires_at_ms - lease_ms;
        out.push_back(std::move(a));
    }
    return out;
}

/// The start's reply as its outcome. Not in async_start: the decoded reply and the copies made
/// from it stay out of that coroutine's frame (Asio recycles frames up to 1,020 bytes).
core::Result<StartOutcome> start_outcome(const redis::ReplyView& reply, std::int64_t lease_ms) {
    auto r = SessionStartScript::decode(reply);
    if (!r) {
        return r.error();
    }
    switch (r->outcome) {
        case SessionStartReply::Outcome::kGranted: {
            domain::LeaseGranted g;
            g.expires_at_ms = r->expires_at_ms;
            g.active_streams = static_cast<int>(r->active_streams);
            g.replaced_session_id.assign(r->replaced_session_id.data(), r->replaced_session_id.size());
            return StartOutcome{std::move(g)};
        }
        case SessionStartReply::Outcome::kDenied:
            return StartOutcome{domain::LeaseDenied{decode_members(r->leases, lease_ms)}};
        case SessionStartReply::Outcome::kSuperseded:
            return StartOutcome{LeaseSuperseded{std::string(r->superseded_by)}};
        case SessionStartReply::Outcome::kIdempotentReplay: {
            const std::string_view v = r->idempotency_value;
            const auto nl = v.find('\n');
            IdempotentReplay replay;
            replay.request_hash = std::string(v.substr(0, nl));
            if (nl != std::string_view::npos) {
                replay.response_body = std::string(v.substr(nl + 1));
            }
            return StartOutcome{std::move(replay)};
        }
    }
    return fail<StartOutcome>(Errc::kProtocolError);
}

}  // namespace

SessionStore::SessionStore(redis::Commands& redis, LeaseSettings lease, ProgressSettings progress)
    : redis_(redis),
      lease_(lease),
      progress_(progress),
      heartbeat_(script_settings(lease, progress)),
      stop_(script_settings(lease, progress)) {}

namespace {

/// The digest judged for the session's profile; fetched_at 0 when there is nothing to judge.
std::pair<Entitlement, std::int64_t> judge(std::string_view digest, std::string_view profile_id,
                                           std::int64_t now_ms) noexcept {
    const auto d = domain::decode_entitlement_digest(digest);
    if (!d || profile_id.empty()) {
        return {Entitlement::kUnknown, 0};
    }
    const auto e = domain::check_entitlement(*d, profile_id, now_ms);
    if (!e) {
        return {Entitlement::kEntitled, d->fetched_at_ms};
    }
    return {*e == domain::ApiError::kProfileNotInAccount ? Entitlement::kProfileRemoved
                                                         : Entitlement::kSubscriptionEnded,
            d->fetched_at_ms};
}

}  // namespace

std::chrono::milliseconds SessionStore::meta_refresh() const noexcept { return refresh_interval(lease_); }

boost::asio::awaitable<core::Result<StartOutcome>> SessionStore::async_start(const StartCommand& cmd,
                                                                             core::Deadline deadline) {
    // Both texts the script stores in one buffer, the meta after the info: one allocation.
    std::string texts = domain::encode_session_info(cmd.info, session_meta_size_bound(cmd.meta));
    const std::size_t info_bytes = texts.size();
    append_session_meta(texts, cmd.meta, cmd.now_ms + meta_refresh().count());
    const std::string_view info_json = std::string_view(texts).substr(0, info_bytes);
    const std::string_view meta = std::string_view(texts).substr(info_bytes);
    std::string idem_value;
    if (!cmd.idempotency_key.empty()) {
        idem_value.append(cmd.idempotency_hash).push_back('\n');
    }
    const SessionStartScript::Call call(SessionStartArgs{.account_id = cmd.account_id,
                                                         .session_id = cmd.info.session_id,
                                                         .device_id = cmd.info.device_id,
                                                         .info_json = info_json,
                                                         .replace_session_id = cmd.replace_session_id,
                                                         .idempotency_key = cmd.idempotency_key,
                                                         .idempotency_value = idem_value,
                                                         .meta = meta,
                                                         .now_ms = cmd.now_ms,
                                                         .lease_ms = lease_.lease.count(),
                                                         .max_streams = cmd.max_streams,
                                                         .tombstone_ms = lease_.tombstone.count(),
                                                         .idempotency_ttl_ms = lease_.idempotency.count(),
                                                         .meta_ttl_ms = lease_.meta.count(),
                                                         .replayed_grant = cmd.replayed_grant,
                                                         .started_at_ms = cmd.info.started_at_ms});
    auto reply = co_await eval_script(redis_, start_.script(), call.keys(), call.args(), deadline);
    if (!reply) {
        co_return reply.error();
    }
    co_return start_outcome(reply->view(), lease_.lease.count());
}

boost::asio::awaitable<core::Result<void>> SessionStore::async_save_idempotent(
    std::string_view account_id, std::string_view key, std::string_view value, core::Deadline deadline) {
    KeyBuffer kb;
    const std::string_view k = idempotency_key(kb, account_id, key);
    auto reply = co_await redis_.async_command({"SET", k, value, "XX", "KEEPTTL"}, deadline);
    if (!reply) {
        co_return reply.error();
    }
    if (reply->is_error()) {
        co_return core::make_error(Errc::kUpstreamError);
    }
    co_return core::Result<void>{};
}

boost::asio::awaitable<core::Result<HeartbeatResult>> SessionStore::async_heartbeat(
    std::string_view account_id, std::string_view session_id, double position_sec, std::int64_t seq,
    std::int64_t now_ms, core::Deadline deadline) {
    // Not a coroutine: the script call's own awaitable, one frame less per heartbeat.
    return async_run_heartbeat(account_id, session_id, position_sec, seq, now_ms, true, deadline);
}

boost::asio::awaitable<core::Result<ProgressWrite>> SessionStore::async_heartbeat_progress(
    std::string_view account_id, std::string_view session_id, double position_sec, std::int64_t seq,
    std::int64_t now_ms, core::Deadline deadline) {
    auto hb = co_await async_run_heartbeat(account_id, session_id, position_sec, seq, now_ms, false, deadline);
    if (!hb) {
        co_return hb.error();
    }
    co_return hb->progress;
}

boost::asio::awaitable<core::Result<HeartbeatResult>> SessionStore::async_run_heartbeat(
    std::string_view account_id, std::string_view session_id, double position_sec, std::int64_t seq,
    std::int64_t now_ms, bool renew, core::Deadline deadline) {
    const HeartbeatScript::Call call(HeartbeatArgs{account_id, session_id, position_sec, seq, now_ms, renew});
    auto reply = co_await eval_script(redis_, heartbeat_.script(), call.keys(), call.args(), deadline);
    if (!reply) {
        co_return reply.error();
    }
    auto r = HeartbeatScript::decode(reply->view());
    if (!r) {
        co_return r.error();
    }
    HeartbeatResult out;
    switch (r->lease) {
        case HeartbeatReply::Lease::kRenewed:
            out.lease.status = domain::HeartbeatStatus::kRenewed;
            out.lease.expires_at_ms = r->expires_at_ms;
            break;
        case HeartbeatReply::Lease::kEvicted: out.lease.status = domain::HeartbeatStatus::kEvicted; break;
        case HeartbeatReply::Lease::kNotFound: out.lease.status = domain::HeartbeatStatus::kNotFound; break;
    }
    out.progress = r->progress;
    std::tie(out.entitlement, out.entitlement_fetched_at_ms) = judge(r->entitlement_digest, r->profile_id, now_ms);
    out.window_end_ms = r->window_end_ms;
    co_return out;
}

boost::asio::awaitable<core::Result<StopResult>> SessionStore::async_stop(
    std::string_view account_id, std::string_view session_id, double position_sec, std::int64_t seq,
    bool ended, std::int64_t now_ms, core::Deadline deadline) {
    const StopScript::Call call(StopArgs{account_id, session_id, position_sec, seq, ended, now_ms});
    auto reply = co_await eval_script(redis_, stop_.script(), call.keys(), call.args(), deadline);
    if (!reply) {
        co_return reply.error();
    }
    auto r = StopScript::decode(reply->view());
    if (!r) {
        co_return r.error();
    }
    co_return StopResult{r->released, r->progress};
}

boost::asio::awaitable<core::Result<std::vector<domain::ActiveSession>>> SessionStore::async_list(
    std::string_view account_id, std::int64_t now_ms, core::Deadline deadline) {
    const SessionListScript::Call call(SessionListArgs{account_id, now_ms});
    auto reply = co_await eval_script(redis_, list_.script(), call.keys(), call.args(), deadline);
    if (!reply) {
        co_return reply.error();
    }
    auto r = SessionListScript::decode(reply->view());
    if (!r) {
        co_return r.error();
    }
    co_return decode_members(*r, lease_.lease.count());
}

boost::asio::awaitable<core::Result<KickResult>> SessionStore::async_kick(std::string_view account_id,
                                                                          std::string_view session_id,
                                                                          std::int64_t now_ms,
                                                                          core::Deadline deadline) {
    const SessionKickScript::Call call(SessionKickArgs{account_id, session_id, now_ms, lease_.tombstone.count()});
    auto reply = co_await eval_script(redis_, kick_.script(), call.keys(), call.args(), deadline);
    if (!reply) {
        co_return reply.error();
    }
    auto kicked = SessionKickScript::decode(reply->view());
    if (!kicked) {
        co_return kicked.error();
    }
    co_return *kicked ? KickResult::kKicked : KickResult::kNotFound;
}

boost::asio::awaitable<core::Result<std::optional<LiveSession>>> SessionStore::async_live_session(
    std::string_view account_id, std::string_view session_id, std::int64_t now_ms, core::Deadline deadline) {
    KeyBuffer kb;
    lease_keys(kb, account_id);
    const std::string_view meta = session_meta_key(kb, account_id, session_id);
    redis::Pipeline p;
    p.add({"ZSCORE", kb[0], session_id});
    p.add({"GET", meta});
    auto replies = co_await redis_.async_pipeline(p, deadline);
    if (!replies) {
        co_return replies.error();
    }
    const auto& r = *replies;
    if (r[0].is_error()) {
        co_return fail<std::optional<LiveSession>>(Errc::kUpstreamError);
    }
    const auto expiry = r[0].to_int64();
    if (!expiry || *expiry <= now_ms) {
        co_return std::optional<LiveSession>{};
    }
    LiveSession s;
    s.lease_expires_at_ms = *expiry;
    if (r[1].is_error_with_prefix("WRONGTYPE")) {
        // A session started by moneta before the one-string meta (a HASH; docs/data.md
        // "Compatibility"): read it the old way. Its next heartbeat converts it.
        auto old = co_await redis_.async_command({"HMGET", meta, "pid", "cid", "sel"}, deadline);
        if (!old) {
            co_return old.error();
        }
        if (!old->is_array() || old->size() != 3 || !(*old)[0].is_string() || !(*old)[1].is_string() ||
            !(*old)[2].is_string()) {
            co_return std::optional<LiveSession>{};
        }
        s.profile_id = (*old)[0].as_string();
        s.content_id = (*old)[1].as_string();
        s.selection = (*old)[2].as_string();
        co_return std::optional<LiveSession>{std::move(s)};
    }
    if (r[1].is_error()) {
        co_return fail<std::optional<LiveSession>>(Errc::kUpstreamError);
    }
    const auto stored = r[1].is_string() ? decode_session_meta(r[1].as_string_view()) : std::nullopt;
    if (!stored) {
        co_return std::optional<LiveSession>{};
    }
    s.profile_id = std::string(stored->profile_id);
    s.content_id = std::string(stored->content_id);
    s.selection = std::string(stored->selection);
    co_return std::optional<LiveSession>{std::move(s)};
}

}  // namespace moneta::store
