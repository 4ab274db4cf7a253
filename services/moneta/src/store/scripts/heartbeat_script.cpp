#include "store/scripts/heartbeat_script.hpp"

#include <charconv>

#include "store/progress_stream.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the lease and progress preludes (session_lua.cpp). S.lease_ms / S.tomb_ms and the
// progress settings are baked into the source (ScriptSettings).
constexpr std::string_view kBody = R"lua(
configure(6, KEYS[8], KEYS[9], KEYS[10])
local now, sid = S.now, ARGV[2]
local lease_ms, tomb_ms = S.lease_ms, S.tomb_ms
local status, expires = 0, 0
-- ARGV[5] = '0': a heartbeat replayed after a Redis outage. Its `now` is when the player sent it
-- (we answered 200 then): the lease gets what that heartbeat would have given it, never less than
-- it has — so an outage longer than the lease does not end every stream at the first heartbeat
-- after recovery. Nothing is pruned or dropped with that older clock, and an evicted session
-- (tombstone) is never revived.
if ARGV[5] == '0' then
  local score = redis.call('ZSCORE', KEYS[1], sid)
  local tomb = redis.call('ZSCORE', KEYS[4], sid)
  if score and tonumber(score) > now and not tomb then
    expires = math.max(tonumber(score), now + lease_ms)
    redis.call('ZADD', KEYS[1], 'XX', expires, sid)
    status = 1
  end
else
  local score = redis.call('ZSCORE', KEYS[1], sid)
  if score and tonumber(score) > now then
    expires = now + lease_ms
    redis.call('ZADD', KEYS[1], 'XX', expires, sid)
    status = 1
  else
    if score then
      drop(sid, now, 0, false)
    end
    local tomb = redis.call('ZSCORE', KEYS[4], sid)
    if tomb and tonumber(tomb) > now then
      status = 2
    end
  end
end
-- Progress is stored whatever happened to the lease (api.md §5.2).
local prog, pid, wend, refresh = session_progress(KEYS[5], KEYS[8], sid, ARGV[3], ARGV[4], false, false)
local digest = ''
if status == 1 then
  local span = math.max(lease_ms, tomb_ms) + 60000
  if refresh or (prog == -1 and redis.call('PTTL', KEYS[1]) < span) then
    touch(span)  -- (no meta to keep time by: the TTL itself says when)
  end
  -- The entitlement digest, only while the account it was made of is cached: a billing event
  -- DELs `ent:` and that must read as "no news" (and a refresh), not as the old digest.
  local d = redis.call('GET', KEYS[7])
  if d and redis.call('EXISTS', KEYS[6]) == 1 then
    digest = d
  end
end
return {status, expires, prog, digest, pid or '', wend or ''}
)lua";

std::string source(const ScriptSettings& settings) {
    std::string out(lease_prelude());
    out += progress_prelude(&settings);
    out += kBody;
    return out;
}

}  // namespace

HeartbeatScript::HeartbeatScript(const ScriptSettings& settings) : TypedScript(source(settings)) {}

HeartbeatScript::Call::Call(const HeartbeatArgs& a) noexcept
    : now_(a.now_ms), seq_(a.seq), pos_(a.position_sec) {
    lease_keys(keys_, a.account_id);
    session_meta_key(keys_, a.account_id, a.session_id);
    entitlement_and_dirty_keys(keys_, a.account_id);
    progress_stream_key(keys_);
    progress_due_key(keys_);
    args_ = {now_.view(), a.session_id, pos_.view(),
             seq_.view(), a.renew ? "1" : "0", a.account_id};
}

core::Result<HeartbeatReply> HeartbeatScript::decode(const redis::ReplyView& r) noexcept {
    if (const auto e = array_reply_error(r, 6)) {
        return e;
    }
    HeartbeatReply out;
    switch (r[0].to_int64().value_or(-1)) {
        case 1:
            out.lease = HeartbeatReply::Lease::kRenewed;
            out.expires_at_ms = r[1].to_int64().value_or(0);
            break;
        case 2: out.lease = HeartbeatReply::Lease::kEvicted; break;
        case 0: out.lease = HeartbeatReply::Lease::kNotFound; break;
        default: return core::make_error(core::Errc::kProtocolError);
    }
    out.progress = to_progress_write(r[2].to_int64());
    out.entitlement_digest = r[3].as_string_view();
    out.profile_id = r[4].as_string_view();
    out.window_end_ms = r[5].to_int64();
    return out;
}

}  // namespace moneta::store
