#include "store/scripts/session_start_script.hpp"

#include <string>

#include "domain/requests.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the lease prelude (session_lua.cpp).
constexpr std::string_view kBody = R"lua(
local now = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local max_streams = tonumber(ARGV[3])
local sid, device, info, replace = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local tomb_ms = tonumber(ARGV[8])
local idem = ARGV[9]
-- The session meta (ARGV[13], one string) that heartbeats and stops store progress by.
local function write_meta()
  redis.call('SET', KEYS[5], ARGV[13], 'PX', ARGV[11])
end
if idem ~= '' then
  local seen = redis.call('GET', KEYS[6])
  if seen then
    return {3, seen}
  end
end
prune(now)
-- ARGV[12]: a replayed fail-open grant. Its session was stopped ('!' + sid, stop_script) or
-- evicted before the replay (another worker or instance took the stop while this one held the
-- grant): no lease; the meta is written so that buffered progress of the session still applies.
if ARGV[12] ~= '' and (redis.call('ZSCORE', KEYS[4], '!' .. sid) or redis.call('ZSCORE', KEYS[4], sid)) then
  write_meta()
  return {5}
end
-- Leases this start takes over: an explicit hand-over (autoplay-next) and the lease this device
-- already holds (an app restart is not a second stream). Counted before anything changes, so a
-- denied start never evicts anybody.
local take = {}
if replace ~= '' and redis.call('ZSCORE', KEYS[1], replace) then
  take[#take + 1] = replace
end
local prev = redis.call('HGET', KEYS[3], device)
if prev and prev ~= replace and redis.call('ZSCORE', KEYS[1], prev) then
  -- ARGV[12]: a replayed fail-open grant's start time. Its device started another session after
  -- it (directly, once Redis was back): that one wins; keep the meta so buffered progress applies.
  if ARGV[12] ~= '' and prev ~= sid then
    local ok, p = pcall(cjson.decode, redis.call('HGET', KEYS[2], prev) or '{}')
    if ok and type(p) == 'table' and tonumber(p.started_at_ms) and tonumber(p.started_at_ms) > tonumber(ARGV[12]) then
      write_meta()
      return {4, prev}
    end
  end
  take[#take + 1] = prev
end
local live = redis.call('ZCARD', KEYS[1])
if live - #take >= max_streams then
  return append_leases({0})
end
-- TTLs: keys that exist were given 2 × span by the last refresh, which happens whenever less
-- than span is left (here) or a heartbeat's refresh is due (at most span apart). Checked before
-- anything changes; the new lease is added before the old ones go, so no key empties out (and
-- comes back without a TTL) in between.
local span = math.max(lease_ms, tomb_ms) + 60000
local refresh = redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3]) < 3 or redis.call('PTTL', KEYS[1]) < span
local expires = now + lease_ms
redis.call('ZADD', KEYS[1], expires, sid)
redis.call('HSET', KEYS[2], sid, info)
redis.call('HSET', KEYS[3], device, sid)
for _, s in ipairs(take) do
  if s ~= sid then
    drop(s, now, tomb_ms, s == prev)
  end
end
if refresh then
  touch(span)
end
write_meta()
if idem ~= '' then
  redis.call('SET', KEYS[6], idem, 'PX', tonumber(ARGV[10]))
end
return {1, expires, live - #take + 1, take[1] or ''}
)lua";

}  // namespace

SessionStartScript::SessionStartScript()
    : TypedScript(std::string(lease_prelude()) + std::string(kBody)) {}

SessionStartScript::Call::Call(const SessionStartArgs& a) noexcept
    : now_(a.now_ms),
      lease_(a.lease_ms),
      max_(a.max_streams),
      tomb_(a.tombstone_ms),
      idem_ttl_(a.idempotency_ttl_ms),
      meta_ttl_(a.meta_ttl_ms),
      started_(a.started_at_ms) {
    lease_keys(keys_, a.account_id);
    session_meta_key(keys_, a.account_id, a.session_id);
    idempotency_key(keys_, a.account_id, a.idempotency_key);
    args_ = {
        now_.view(),
        lease_.view(),
        max_.view(),
        a.session_id,
        a.device_id,
        a.info_json,
        a.replace_session_id,
        tomb_.view(),
        a.idempotency_value,
        idem_ttl_.view(),
        meta_ttl_.view(),
        a.replayed_grant ? started_.view() : std::string_view(),
        a.meta};
}

core::Result<SessionStartReply> SessionStartScript::decode(const redis::ReplyView& r) noexcept {
    if (const auto e = array_reply_error(r, 1)) {
        return e;
    }
    SessionStartReply out;
    const auto status = r[0].to_int64();
    // A replaced id longer than any id this service accepts (domain::kMaxIdLength) is not one
    // it stored: refused here, so the caller can keep the id inline.
    if (status == 1 && r.size() == 4 && r[3].as_string_view().size() <= domain::kMaxIdLength) {
        out.outcome = SessionStartReply::Outcome::kGranted;
        out.expires_at_ms = r[1].to_int64().value_or(0);
        out.active_streams = r[2].to_int64().value_or(0);
        out.replaced_session_id = r[3].as_string_view();
    } else if (status == 0 && (r.size() - 1) % 3 == 0) {
        out.outcome = SessionStartReply::Outcome::kDenied;
        out.leases = LeaseList(r, 1);
    } else if (status == 4 && r.size() == 2) {
        out.outcome = SessionStartReply::Outcome::kSuperseded;
        out.superseded_by = r[1].as_string_view();
    } else if (status == 5 && r.size() == 1) {
        out.outcome = SessionStartReply::Outcome::kSuperseded;  // stopped or kicked before the replay
    } else if (status == 3 && r.size() == 2) {
        out.outcome = SessionStartReply::Outcome::kIdempotentReplay;
        out.idempotency_value = r[1].as_string_view();
    } else {
        return core::make_error(core::Errc::kProtocolError);
    }
    return out;
}

}  // namespace moneta::store
