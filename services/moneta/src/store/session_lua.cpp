#include "store/session_lua.hpp"

#include <string_view>

namespace moneta::store {
namespace {

// Lease structures (KEYS[1..4] = lease ZSET, sess HASH, dev HASH, evict ZSET). `drop` removes
// one session from all three; an optional tombstone marks it evicted (heartbeat → 409).
// `touch` keeps every key alive a minute past the longest thing it holds.
constexpr std::string_view kLeasePrelude = R"lua(
local function drop(s, now, tomb_ms)
  local raw = redis.call('HGET', KEYS[2], s)
  if raw then
    local ok, d = pcall(cjson.decode, raw)
    if ok and type(d) == 'table' and type(d.device_id) == 'string'
       and redis.call('HGET', KEYS[3], d.device_id) == s then
      redis.call('HDEL', KEYS[3], d.device_id)
    end
    redis.call('HDEL', KEYS[2], s)
  end
  redis.call('ZREM', KEYS[1], s)
  if tomb_ms > 0 then
    redis.call('ZADD', KEYS[4], now + tomb_ms, s)
    if redis.call('PTTL', KEYS[4]) < tomb_ms + 60000 then
      redis.call('PEXPIRE', KEYS[4], tomb_ms + 60000)
    end
  end
end
local function prune(now)
  for _, s in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
    drop(s, now, 0)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
end
-- The four keys live 2x `span` and are refreshed together once less than `span` is left, so a
-- heartbeat usually writes no TTL at all (every PEXPIRE is also an AOF write). start always
-- refreshes: it may have recreated a hash that had emptied out (a key without a TTL).
local function touch(span, always)
  if always or redis.call('PTTL', KEYS[1]) < span then
    for i = 1, 4 do
      redis.call('PEXPIRE', KEYS[i], 2 * span)
    end
  end
end
-- Appends every lease as (session id, session info JSON, expiry) to `out` (list, denied start).
local function append_leases(out)
  local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    out[#out + 1] = members[i]
    out[#out + 1] = redis.call('HGET', KEYS[2], members[i]) or '{}'
    out[#out + 1] = members[i + 1]
  end
  return out
end
)lua";

// The progress guard (api.md §6): a write is applied only when it is newer than the stored one
// (same session: higher seq; otherwise higher (updated_at, seq)), and a zero position never
// replaces a non-zero one unless the session started over or the title was finished. Applied
// writes update continue-watching (bounded) and, unless they come from the system of record,
// mark (profile, content) dirty at this version for the write-behind flusher.
// Values: "pos|dur|updated_at|seq|completed|sid" (domain/progress.hpp); "-" = known absent (older
// versions kept negatives in the hash; they now live in `pnf:` and are evicted first here).
//
// Per-account bounds (docs/security.md): a profile's hash holds at most `max_titles` titles
// (a new one evicts the least recently updated of 16 sampled CLEAN titles — already in the system
// of record, so a later read reloads it — or is refused when every sample is dirty), and an
// account's dirty hash at most `max_dirty` entries until the flusher clears them. Refused: 3.
constexpr std::string_view kProgressPrelude = R"lua(
local max_titles, max_dirty = 0, 0
local function set_limits(titles, dirty)
  max_titles, max_dirty = tonumber(titles) or 0, tonumber(dirty) or 0
end
-- Sets a TTL only when none is left or less than half: keys written often stay at most 2x ttl.
local function keep(key, ttl)
  if redis.call('PTTL', key) < ttl / 2 then
    redis.call('PEXPIRE', key, ttl)
  end
end
-- Frees one title slot of profile `pid`: the oldest of 16 sampled titles that the write-behind
-- has already confirmed (not in `dk`). False when every sample is still dirty.
local function evict_one(pk, ck, dk, pid)
  local sample = redis.call('HRANDFIELD', pk, 16, 'WITHVALUES')
  local victim, oldest = nil, math.huge
  for i = 1, #sample, 2 do
    local f, v = sample[i], sample[i + 1]
    if string.sub(f, 1, 1) ~= '~' and redis.call('HEXISTS', dk, pid .. '/' .. f) == 0 then
      local upd = -1
      if v ~= '-' then
        upd = tonumber(string.match(v, '^[^|]*|[^|]*|([^|]*)|')) or -1
      end
      if upd < oldest then
        victim, oldest = f, upd
      end
    end
  end
  if not victim then
    return false
  end
  redis.call('HDEL', pk, victim)
  redis.call('ZREM', ck, victim)
  return true
end
local function put_progress(pk, ck, dk, pid, cid, pos, dur, upd, seq, done, sid, allow_zero, dirty, ttl, cwmax)
  local cur = redis.call('HGET', pk, cid)
  if cur and cur ~= '-' then
    local cpos, cdur, cupd, cseq, cdone, csid =
      string.match(cur, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if cpos then
      local nupd, nseq = tonumber(upd), tonumber(seq)
      local oupd, oseq = tonumber(cupd) or 0, tonumber(cseq) or 0
      if sid ~= '' and csid == sid then
        if nseq <= oseq then return 0 end
      elseif nupd < oupd or (nupd == oupd and nseq <= oseq) then
        return 0
      end
      if tonumber(pos) == 0 and (tonumber(cpos) or 0) > 0 and not allow_zero and not done then
        return 2
      end
    end
  end
  if dirty and max_dirty > 0 and redis.call('HLEN', dk) >= max_dirty
     and redis.call('HEXISTS', dk, pid .. '/' .. cid) == 0 then
    return 3
  end
  if (not cur or cur == '-') and max_titles > 0 and redis.call('HLEN', pk) >= max_titles
     and not evict_one(pk, ck, dk, pid) then
    return 3
  end
  redis.call('HSET', pk, cid, pos .. '|' .. dur .. '|' .. upd .. '|' .. seq .. '|' .. (done and '1' or '0') .. '|' .. sid)
  keep(pk, ttl)
  if done then
    redis.call('ZREM', ck, cid)
    if redis.call('EXISTS', ck) == 1 then
      keep(ck, ttl)
    end
  else
    if redis.call('ZADD', ck, upd, cid) == 1 then
      local n = redis.call('ZCARD', ck)
      if n > cwmax then
        redis.call('ZREMRANGEBYRANK', ck, 0, n - cwmax - 1)
      end
    end
    keep(ck, ttl)
  end
  if dirty then
    redis.call('HSET', dk, pid .. '/' .. cid, upd .. '|' .. seq)
  end
  return 1
end
-- Session meta → progress write of that session (heartbeat/stop). -1 when the session is unknown.
-- The session's own order: a seq at or below the highest one it already sent is a late retry
-- (stale), whatever other sessions wrote meanwhile. The meta lives as long as the session writes.
local function session_progress(meta_key, dk, now, sid, pos, seq, ended, pprefix, cprefix, ttl, cwmax, meta_ttl)
  local m = redis.call('HMGET', meta_key, 'pid', 'cid', 'dur', 'done_at', 'so', 'wend', 'hseq')
  if not m[1] or not m[2] then
    return -1, m
  end
  keep(meta_key, meta_ttl)
  if m[7] and tonumber(seq) <= (tonumber(m[7]) or -1) then
    return 0, m
  end
  redis.call('HSET', meta_key, 'hseq', seq)
  local done = ended or tonumber(pos) >= (tonumber(m[4]) or math.huge)
  return put_progress(pprefix .. m[1], cprefix .. m[1], dk, m[1], m[2], pos, m[3] or '0', now, seq,
                      done, sid, m[5] == '1', true, ttl, cwmax), m
end
)lua";

}  // namespace

std::string session_start_lua() {
    return std::string(kLeasePrelude) + R"lua(
local now = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local max_streams = tonumber(ARGV[3])
local sid, device, info, replace = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local tomb_ms = tonumber(ARGV[8])
local idem = ARGV[9]
-- The session meta (pid, cid, ... from ARGV[13..]) that heartbeats and stops store progress by.
local function write_meta()
  redis.call('HSET', KEYS[5], unpack(ARGV, 13))
  redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[11]))
end
if idem ~= '' then
  local seen = redis.call('GET', KEYS[6])
  if seen then
    return {3, seen}
  end
end
prune(now)
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
for _, s in ipairs(take) do
  drop(s, now, tomb_ms)
end
local expires = now + lease_ms
redis.call('ZADD', KEYS[1], expires, sid)
redis.call('HSET', KEYS[2], sid, info)
redis.call('HSET', KEYS[3], device, sid)
touch(math.max(lease_ms, tomb_ms) + 60000, true)
write_meta()
if idem ~= '' then
  redis.call('SET', KEYS[6], idem, 'PX', tonumber(ARGV[10]))
end
return {1, expires, live - #take + 1, take[1] or ''}
)lua";
}

std::string session_heartbeat_lua() {
    return std::string(kLeasePrelude) + std::string(kProgressPrelude) + R"lua(
local now = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local sid = ARGV[3]
local tomb_ms = tonumber(ARGV[4])
local status, expires = 0, 0
-- ARGV[12] = '0': a heartbeat replayed after a Redis outage. Its `now` is when the player sent it
-- (we answered 200 then): the lease gets what that heartbeat would have given it, never less than
-- it has — so an outage longer than the lease does not end every stream at the first heartbeat
-- after recovery. Nothing is pruned or dropped with that older clock, and an evicted session
-- (tombstone) is never revived.
if ARGV[12] == '0' then
  local score = redis.call('ZSCORE', KEYS[1], sid)
  local tomb = redis.call('ZSCORE', KEYS[4], sid)
  if score and tonumber(score) > now and not tomb then
    expires = math.max(tonumber(score), now + lease_ms)
    redis.call('ZADD', KEYS[1], 'XX', expires, sid)
    touch(math.max(lease_ms, tomb_ms) + 60000, false)
    status = 1
  end
else
  local score = redis.call('ZSCORE', KEYS[1], sid)
  if score and tonumber(score) > now then
    expires = now + lease_ms
    redis.call('ZADD', KEYS[1], 'XX', expires, sid)
    touch(math.max(lease_ms, tomb_ms) + 60000, false)
    status = 1
  else
    if score then
      drop(sid, now, 0)
    end
    local tomb = redis.call('ZSCORE', KEYS[4], sid)
    if tomb and tonumber(tomb) > now then
      status = 2
    end
  end
end
-- Progress is stored whatever happened to the lease (api.md §5.2).
set_limits(ARGV[13], ARGV[14])
local prog, m = session_progress(KEYS[5], KEYS[7], ARGV[1], sid, ARGV[5], ARGV[6], false,
                                 ARGV[7], ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]))
return {status, expires, prog, redis.call('GET', KEYS[6]) or '', m[1] or '', m[6] or ''}
)lua";
}

std::string session_stop_lua() {
    return std::string(kLeasePrelude) + std::string(kProgressPrelude) + R"lua(
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local released = 0
local score = redis.call('ZSCORE', KEYS[1], sid)
if score then
  drop(sid, now, 0)
  if tonumber(score) > now then
    released = 1
  end
end
set_limits(ARGV[11], ARGV[12])
local prog = session_progress(KEYS[5], KEYS[6], ARGV[1], sid, ARGV[3], ARGV[4], ARGV[5] == '1',
                              ARGV[6], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]))
return {released, prog}
)lua";
}

std::string session_list_lua() {
    return std::string(kLeasePrelude) + R"lua(
prune(tonumber(ARGV[1]))
return append_leases({})
)lua";
}

std::string session_kick_lua() {
    return std::string(kLeasePrelude) + R"lua(
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local score = redis.call('ZSCORE', KEYS[1], sid)
if not score then
  return 0
end
if tonumber(score) <= now then
  drop(sid, now, 0)
  return 0
end
drop(sid, now, tonumber(ARGV[3]))
return 1
)lua";
}

std::string progress_put_lua() {
    return std::string(kProgressPrelude) + R"lua(
set_limits(ARGV[10], ARGV[11])
return put_progress(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
                    ARGV[7] == '1', '', false, true, tonumber(ARGV[8]), tonumber(ARGV[9]))
)lua";
}

// Loads positions from the system of record through the guard (a newer local one is kept; never
// marked dirty) and remembers ids it has no position for in the profile's negative cache
// `pnf:` — a separate hash so that a client asking for random ids cannot grow the progress hash:
// it lives `neg_ttl` from its creation (never extended) and holds at most `neg_max` ids (full:
// emptied first; it is only a cache). KEYS: prog, cw, dirty, pnf. ARGV: ttl, cwmax, marker
// ("~cw" when this is the continue-watching load), n, pid, neg_ttl, neg_max, max_titles,
// max_dirty, then n × (cid, pos, dur, upd, seq, done), then the ids without a position.
std::string progress_load_lua() {
    return std::string(kProgressPrelude) + R"lua(
local ttl, cwmax, marker, n, pid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local neg_ttl, neg_max = tonumber(ARGV[6]), tonumber(ARGV[7])
set_limits(ARGV[8], ARGV[9])
local i = 10
for _ = 1, n do
  put_progress(KEYS[1], KEYS[2], KEYS[3], pid, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
               ARGV[i + 5] == '1', '', false, false, ttl, cwmax)
  i = i + 6
end
if i <= #ARGV and neg_max > 0 then
  if redis.call('HLEN', KEYS[4]) + (#ARGV - i + 1) > neg_max then
    redis.call('DEL', KEYS[4])
  end
  local added = 0
  for j = i, #ARGV do
    if added < neg_max and redis.call('HEXISTS', KEYS[1], ARGV[j]) == 0 then
      added = added + redis.call('HSET', KEYS[4], ARGV[j], '1')
    end
  end
  if added > 0 and redis.call('PTTL', KEYS[4]) < 0 then
    redis.call('PEXPIRE', KEYS[4], neg_ttl)
  end
end
if marker ~= '' then
  redis.call('HSET', KEYS[1], marker, '1')
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  keep(KEYS[1], ttl)
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  keep(KEYS[2], ttl)
end
return 1
)lua";
}

std::string continue_watching_lua() {
    return R"lua(
local out = {redis.call('HEXISTS', KEYS[1], '~cw')}
for _, cid in ipairs(redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)) do
  local v = redis.call('HGET', KEYS[1], cid)
  if v then
    out[#out + 1] = cid
    out[#out + 1] = v
  end
end
return out
)lua";
}

std::string flush_snapshot_lua() {
    return R"lua(
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local pid, cid = string.match(all[i], '^([^/]+)/(.+)$')
  out[#out + 1] = all[i]
  out[#out + 1] = all[i + 1]
  out[#out + 1] = (pid and redis.call('HGET', ARGV[1] .. pid, cid)) or ''
end
return out
)lua";
}

std::string flush_clear_lua() {
    return R"lua(
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
)lua";
}

}  // namespace moneta::store
