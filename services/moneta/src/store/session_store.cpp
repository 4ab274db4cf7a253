#include "store/session_store.hpp"

#include <array>
#include <cmath>

#include "domain/entitlement_digest.hpp"
#include "domain/progress.hpp"
#include "store/keys.hpp"
#include "store/scripts.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

using core::Errc;

std::optional<std::int64_t> int_at(const redis::ReplyView& v) noexcept { return v.to_int64(); }

template <class T>
core::Result<T> fail(Errc e) {
    return core::Result<T>(boost::system::in_place_error, core::make_error(e));
}

/// A script reply must be an array of at least @p n; a script error is a bug or a key of the
/// wrong type (kUpstreamError), anything else is not what our scripts return (kProtocolError).
std::optional<Errc> check_array(const redis::ReplyView& r, std::size_t n) noexcept {
    if (r.is_error()) {
        return Errc::kUpstreamError;
    }
    if (!r.is_array() || r.size() < n) {
        return Errc::kProtocolError;
    }
    return std::nullopt;
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

std::vector<domain::ActiveSession> decode_members(const redis::ReplyView& r, std::size_t from,
                                                  std::int64_t lease_ms) {
    std::vector<domain::ActiveSession> out;
    out.reserve(r.size() > from ? (r.size() - from) / 3 : 0);  // one allocation, not one per growth
    for (std::size_t i = from; i + 2 < r.size(); i += 3) {
        domain::ActiveSession a;
        a.info = domain::decode_session_info(r[i + 1].as_string_view());
        a.info.session_id.assign(r[i].as_string_view());  // into the decoded id's storage
        // The score is the lease expiry, set to last_seen + lease at each renewal.
        a.last_seen_ms = int_at(r[i + 2]).value_or(0) - lease_ms;
        out.push_back(std::move(a));
    }
    return out;
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
    const Scripts& scripts = Scripts::get();
    KeyBuffer kb;
    lease_keys(kb, cmd.account_id);
    session_meta_key(kb, cmd.account_id, cmd.info.session_id);
    idempotency_key(kb, cmd.account_id, cmd.idempotency_key);

    const IntArg now(cmd.now_ms);
    const IntArg lease(lease_.lease.count());
    const IntArg max(cmd.max_streams);
    const IntArg tomb(lease_.tombstone.count());
    const IntArg idem_ttl(lease_.idempotency.count());
    const IntArg meta_ttl(lease_.meta.count());
    const std::string info_json = domain::encode_session_info(cmd.info);
    std::string idem_value;
    if (!cmd.idempotency_key.empty()) {
        idem_value.append(cmd.idempotency_hash).push_back('\n');
    }
    const std::string meta = encode_session_meta(cmd.meta, cmd.now_ms + meta_refresh().count());
    const IntArg started(cmd.info.started_at_ms);
    const std::array<std::string_view, 13> args = {
        now.view(), lease.view(), max.view(), cmd.info.session_id, cmd.info.device_id, info_json,
        cmd.replace_session_id, tomb.view(), idem_value, idem_ttl.view(), meta_ttl.view(),
        cmd.replayed_grant ? started.view() : std::string_view(), meta};
    auto reply = co_await eval_script(redis_, scripts.session_start, std::span(kb.data(), 6), args, deadline);
    if (!reply) {
        co_return reply.error();
    }
    const redis::ReplyView r = reply->view();
    if (auto e = check_array(r, 1)) {
        co_return core::make_error(*e);
    }
    const auto status = int_at(r[0]);
    if (status == 1 && r.size() == 4) {
        domain::LeaseGranted g;
        g.expires_at_ms = int_at(r[1]).value_or(0);
        g.active_streams = static_cast<int>(int_at(r[2]).value_or(0));
        g.replaced_session_id = std::string(r[3].as_string_view());
        co_return StartOutcome{std::move(g)};
    }
    if (status == 0 && (r.size() - 1) % 3 == 0) {
        co_return StartOutcome{domain::LeaseDenied{decode_members(r, 1, lease_.lease.count())}};
    }
    if (status == 4 && r.size() == 2) {
        co_return StartOutcome{LeaseSuperseded{std::string(r[1].as_string_view())}};
    }
    if (status == 3 && r.size() == 2) {
        const std::string_view v = r[1].as_string_view();
        const auto nl = v.find('\n');
        IdempotentReplay replay;
        replay.request_hash = std::string(v.substr(0, nl));
        if (nl != std::string_view::npos) {
            replay.response_body = std::string(v.substr(nl + 1));
        }
        co_return StartOutcome{std::move(replay)};
    }
    co_return core::make_error(Errc::kProtocolError);
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
    const HeartbeatScript::Call call(
        HeartbeatArgs{account_id, session_id, position_sec, seq, now_ms, renew}, progress_.stream_shards
    );
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
    const StopScript::Call call(StopArgs{account_id, session_id, position_sec, seq, ended, now_ms},
                                progress_.stream_shards);
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
    KeyBuffer kb;
    lease_keys(kb, account_id);
    const IntArg now(now_ms);
    const std::string_view args[] = {now.view()};
    auto reply = co_await eval_script(redis_, Scripts::get().session_list, std::span(kb.data(), 4), args, deadline);
    if (!reply) {
        co_return reply.error();
    }
    if (auto e = check_array(reply->view(), 0)) {
        co_return fail<std::vector<domain::ActiveSession>>(*e);
    }
    co_return decode_members(reply->view(), 0, lease_.lease.count());
}

boost::asio::awaitable<core::Result<KickResult>> SessionStore::async_kick(std::string_view account_id,
                                                                          std::string_view session_id,
                                                                          std::int64_t now_ms,
                                                                          core::Deadline deadline) {
    const Scripts& scripts = Scripts::get();
    KeyBuffer kb;
    lease_keys(kb, account_id);
    const IntArg now(now_ms);
    const IntArg tomb(lease_.tombstone.count());
    const std::array<std::string_view, 3> args = {now.view(), session_id, tomb.view()};
    auto kicked = co_await eval_script(redis_, scripts.session_kick, std::span(kb.data(), 4), args, deadline);
    if (!kicked) {
        co_return kicked.error();
    }
    if (kicked->is_error()) {
        co_return core::make_error(Errc::kUpstreamError);
    }
    if (kicked->as_integer().value_or(0) == 1) {
        co_return KickResult::kKicked;
    }
    co_return KickResult::kNotFound;
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
