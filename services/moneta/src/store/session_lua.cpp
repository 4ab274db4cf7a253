#include "store/session_lua.hpp"

#include <string_view>

#include "store/scripts/script_settings.hpp"

namespace moneta::store {
namespace {

// Lease structures (KEYS[1..4] = lease ZSET, sess HASH, dev HASH, evict ZSET). `drop` removes
// one session from all three; an optional tombstone marks it evicted (heartbeat → 409).
// `touch` keeps every key alive 2 × span (span = a minute past the longest thing they hold).
// Callers refresh by time, not by asking Redis: start when a key is new or below `span`, a
// heartbeat when its session meta says the refresh is due (docs/data.md "TTLs by time").
constexpr std::string_view kLeasePrelude = R"lua(
-- `device_known`: the caller already re-pointed this session's device (start of the same
-- device), so neither the session info JSON nor the device hash need reading.
local function drop(s, now, tomb_ms, device_known)
  if device_known then
    redis.call('HDEL', KEYS[2], s)
  else
    local raw = redis.call('HGET', KEYS[2], s)
    if raw then
      local ok, d = pcall(cjson.decode, raw)
      if ok and type(d) == 'table' and type(d.device_id) == 'string'
         and redis.call('HGET', KEYS[3], d.device_id) == s then
        redis.call('HDEL', KEYS[3], d.device_id)
      end
      redis.call('HDEL', KEYS[2], s)
    end
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
    drop(s, now, 0, false)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
end
local function touch(span)
  for i = 1, 4 do
    redis.call('PEXPIRE', KEYS[i], 2 * span)
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
// mark (profile, content) dirty for the write-behind flusher.
// Values: "pos|dur|updated_at|seq|completed|sid" (domain/progress.hpp); "-" = known absent (older
// versions kept negatives in the hash; they now live in `pnf:` and are evicted first here).
//
// Per-account bounds (docs/security.md): a profile's hash holds at most `max_titles` titles
// (a new one evicts the least recently updated of 16 sampled CLEAN titles — already in the system
// of record, so a later read reloads it — or is refused when every sample is dirty), and an
// account's dirty hash at most `max_dirty` entries until the flusher clears them. Refused: 3.
//
// Writes happen only on change (docs/data.md "Per-call Redis work"): continue-watching only when
// the title is not already the profile's newest, the dirty entry and its stream marker only when
// no pending, recently announced entry covers the title already.
// The settings table `S` precedes this text (settings_lua: baked into the source; scripts
// without a session or account get kNoSettings and set what they use themselves).
// A dirty entry "upd|seq|announced_at|due_at" (older moneta: "upd|seq" or "upd|seq|announced_at")
// → announced_at (0: none), due_at (nil: none, i.e. due). One parser for the writing scripts
// (mark_dirty), the flush snapshot and the flush clear, which all read these times.
constexpr std::string_view kDirtyTimesLua = R"lua(
local function dirty_times(v)
  local at, due = string.match(v, '^[^|]*|[^|]*|(%d+)|?(%d*)$')
  return tonumber(at) or 0, tonumber(due)
end
)lua";
constexpr std::string_view kNoSettings = "local S = {max_titles = 0, max_dirty = 0}\n";
constexpr std::string_view kProgressPrelude = R"lua(
-- Per call: the clock, the account (the stream marker's payload), its partition's stream and
-- due index (progdue:, same slot as the stream), and the profile keys' prefixes, derived from
-- the declared dirty key `dirty:{p<n>}:<account>`: the same tag, hence the same slot, by
-- construction (docs/data.md "Cluster").
local function configure(at, dirty, stream, due)
  S.now = tonumber(ARGV[1])
  S.account = ARGV[at]
  S.stream = stream
  S.due = due
  local base = string.sub(dirty, 7)
  S.pprefix = 'prog:' .. base .. ':'
  S.cprefix = 'cw:' .. base .. ':'
end
-- A write is about to replace (or evict) the value session `sid` wrote at `seq`: that value was
-- the session's record of its highest seq (an applied write does not copy it into the meta),
-- so copy it now. Rare: another device or an offline PUT of the same title. The meta key
-- `sm:{p<n>}:<account>:<sid>` is in the progress key's slot (same tag; ids never hold ':').
local function keep_hseq(pk, sid, seq)
  local base = string.match(pk, '^prog:(%b{}:[^:]*):')
  local n = tonumber(seq)
  if not base or sid == '' or not n then
    return
  end
  local mk = 'sm:' .. base .. ':' .. sid
  local v = redis.pcall('GET', mk)
  if type(v) == 'table' then
    -- a meta HASH of an older moneta (read_meta converts it, hseq included)
    if (tonumber(redis.call('HGET', mk, 'hseq')) or -1) < n then
      redis.call('HSET', mk, 'hseq', seq)
    end
  elseif v then
    local h, rest = string.match(v, '^2|([^|]*)|(.*)$')
    if h and (tonumber(h) or -1) < n then
      redis.call('SET', mk, '2|' .. seq .. '|' .. rest, 'KEEPTTL')
    end
  end
end
-- Sets a TTL only when none is left or less than half: keys written often stay at most 2x ttl.
local function keep(key, ttl)
  if redis.call('PTTL', key) < ttl / 2 then
    redis.call('PEXPIRE', key, ttl)
  end
end
local function updated_at(v)
  return tonumber(string.match(v, '^[^|]*|[^|]*|([^|]*)|'))
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
        upd = updated_at(v) or -1
      end
      if upd < oldest then
        victim, oldest = f, upd
      end
    end
  end
  if not victim then
    return false
  end
  local vv = redis.call('HGET', pk, victim)
  local vseq, vsid = string.match(vv or '', '^[^|]*|[^|]*|[^|]*|([^|]*)|[^|]*|(.*)$')
  if vsid then
    keep_hseq(pk, vsid, vseq)
  end
  redis.call('HDEL', pk, victim)
  redis.call('ZREM', ck, victim)
  return true
end
-- Continue-watching order. Only the newest member's score may lag behind its title's
-- updated_at (a title that stays the newest is not rewritten); it is made exact before another
-- title is placed, so the order is always the order of updated_at.
-- The steady case (the title already first) is asked with ZREVRANK: an integer reply, ~1.3 µs
-- less per heartbeat than reading the top member (docs/performance.md "Redis cost model").
local function place(ck, pk, cid, upd)
  if redis.call('ZREVRANK', ck, cid) == 0 then
    return false
  end
  local top = redis.call('ZREVRANGE', ck, 0, 0)[1]
  if top then
    local tv = redis.call('HGET', pk, top)
    local tu = tv and updated_at(tv)
    if tu then
      redis.call('ZADD', ck, tu, top)
    end
  end
  if redis.call('ZADD', ck, upd, cid) == 1 then
    local n = redis.call('ZCARD', ck)
    if n > S.cwmax then
      redis.call('ZREMRANGEBYRANK', ck, 0, n - S.cwmax - 1)
    end
  end
  return true
end
-- Dirty entry "upd|seq|announced_at|due_at"; a flush snapshot prefixes it with '*'
-- (flush_snapshot_lua) and clears it only if unchanged. `mark` says when the system of record
-- should have the title: 'now' (a stop, a PUT, a finished title: nothing more is coming) or
-- 'hold' (a heartbeat of a title still playing: due S.hold_ms after it first became dirty, so a
-- title playing for an hour is flushed every hold_ms, not at every heartbeat — docs/data.md
-- "Write-behind hold"). A held entry has no marker (announced_at 0): the flusher would skip it.
-- Once due, the next write announces it (XADD in the same script, so the marker can never
-- precede the write); a due entry announced less than announce_ms ago already brings the
-- flusher, which sends the CURRENT value: nothing to write. A pending entry keeps its earlier due
-- time. Re-announcing after announce_ms recovers a marker lost to MAXLEN trimming while the
-- account keeps writing. Every write of an entry also puts the account in its partition's due index
-- (`progdue:`, score = when the flusher must look without being told: a held entry's due time,
-- an announced one's announced_at + lost_ms, when its marker is presumed lost), keeping the
-- earlier score (LT): so a session that dies while its title is held, or a lost marker, is
-- found by the flusher without a scan (docs/data.md "Due index"). Entries without a due time
-- (older moneta) are due.
local function mark_dirty(dk, field, d, upd, seq, mark)
  local due = mark == 'now' and S.now or S.now + S.hold_ms
  if d and string.byte(d, 1) ~= 42 then
    local at, was = dirty_times(d)
    was = was or 0
    if was < due then
      due = was
    end
    if due > S.now or (at >= due and S.now - at < S.announce_ms) then
      return
    end
  end
  if due > S.now then
    redis.call('HSET', dk, field, upd .. '|' .. seq .. '|0|' .. due)
    redis.call('ZADD', S.due, 'LT', due, S.account)
    return
  end
  redis.call('HSET', dk, field, upd .. '|' .. seq .. '|' .. S.now .. '|' .. due)
  redis.call('XADD', S.stream, 'MAXLEN', '~', S.max_len, '*', 'a', S.account)
  redis.call('ZADD', S.due, 'LT', S.now + S.lost_ms, S.account)
end
-- `mark`: false (a load from the system of record: not dirty), 'hold' or 'now' (mark_dirty; a
-- finished title is always 'now'). `refresh`: also renew the TTLs of the profile's keys (PTTL
-- checks); otherwise only a key this write creates gets one. `cur`: the stored value when the
-- caller already read it (false: none), nil to read it here.
local function put_progress(pk, ck, dk, pid, cid, pos, dur, upd, seq, done, sid, allow_zero, mark, refresh, cur)
  if cur == nil then
    cur = redis.call('HGET', pk, cid)
  end
  local fresh = not cur or cur == '-'
  local owner, owner_seq = '', nil
  if not fresh then
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
      owner, owner_seq = csid, cseq
    end
  end
  local field = pid .. '/' .. cid
  local d = false
  if mark then
    d = redis.call('HGET', dk, field)
    if not d and S.max_dirty > 0 and redis.call('HLEN', dk) >= S.max_dirty then
      return 3
    end
  end
  if fresh and S.max_titles > 0 and redis.call('HLEN', pk) >= S.max_titles
     and not evict_one(pk, ck, dk, pid) then
    return 3
  end
  if owner ~= '' and owner ~= sid then
    keep_hseq(pk, owner, owner_seq)
  end
  redis.call('HSET', pk, cid, pos .. '|' .. dur .. '|' .. upd .. '|' .. seq .. '|' .. (done and '1' or '0') .. '|' .. sid)
  if fresh or refresh then
    keep(pk, S.ttl)
  end
  if done then
    redis.call('ZREM', ck, cid)
    if refresh and redis.call('EXISTS', ck) == 1 then
      keep(ck, S.ttl)
    end
  elseif place(ck, pk, cid, upd) or refresh then
    keep(ck, S.ttl)
  end
  if mark then
    mark_dirty(dk, field, d, upd, seq, done and 'now' or mark)
  end
  return 1
end
-- The session meta, one string: "2|hseq|refresh_due_ms|pid|cid|dur|done_at|so|wend|sel" (sel
-- last: it is the only free-form field). A HASH written by moneta before this format is
-- converted on first read (docs/data.md "Compatibility"). false when there is none.
local function read_meta(mk)
  local v = redis.pcall('GET', mk)
  if type(v) == 'table' then
    local m = redis.call('HMGET', mk, 'pid', 'cid', 'dur', 'done_at', 'so', 'wend', 'sel', 'hseq')
    if not m[1] or not m[2] then
      return false
    end
    local ttl = redis.call('PTTL', mk)
    v = '2|' .. (m[8] or '') .. '|0|' .. m[1] .. '|' .. m[2] .. '|' .. (m[3] or '0') .. '|' .. (m[4] or '')
        .. '|' .. (m[5] or '0') .. '|' .. (m[6] or '') .. '|' .. (m[7] or '')
    redis.call('DEL', mk)
    redis.call('SET', mk, v, 'PX', ttl > 0 and ttl or S.meta_ttl)
  end
  return v
end
-- Session meta → progress write of that session (heartbeat/stop). The session's own order: a
-- seq at or below the highest one it already sent is a late retry (stale), whatever other
-- sessions wrote meanwhile. That highest seq is the stored value's seq while the value is this
-- session's (sid field), else the meta's hseq: an applied write records it in the value only
-- (no meta write per heartbeat); the meta gets it when the write is not applied (zero kept,
-- capped, older than another session's value) and from keep_hseq when another write replaces
-- the value. Once its refresh time is due, the meta renews its own TTL and those of the
-- profile's keys. `stopped`: the session's last write (a stop), flushed without hold.
-- → code (-1 unknown session), profile id, window end, refresh due.
local function session_progress(mk, dk, sid, pos, seq, ended, stopped)
  local v = read_meta(mk)
  if not v then
    return -1
  end
  local hseq, due, pid, cid, dur, done_at, so, wend =
    string.match(v, '^2|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|')
  if not pid or pid == '' or cid == '' then
    return -1
  end
  local refresh = S.now >= (tonumber(due) or 0)
  local pk = S.pprefix .. pid
  local cur = redis.call('HGET', pk, cid)
  local high = tonumber(hseq) or -1
  if cur then
    local cseq, csid = string.match(cur, '^[^|]*|[^|]*|[^|]*|([^|]*)|[^|]*|(.*)$')
    if csid == sid and (tonumber(cseq) or -1) > high then
      high = tonumber(cseq)
    end
  end
  local stale = tonumber(seq) <= high
  local prog = 0
  if not stale then
    local done = ended or tonumber(pos) >= (tonumber(done_at) or math.huge)
    prog = put_progress(pk, S.cprefix .. pid, dk, pid, cid, pos, dur ~= '' and dur or '0', ARGV[1], seq,
                        done, sid, so == '1', stopped and 'now' or 'hold', refresh, cur)
  end
  local record = not stale and prog ~= 1
  if refresh or record then
    local rest = string.sub(v, 5 + #hseq + #due)
    if refresh then
      redis.call('SET', mk, '2|' .. (record and seq or hseq) .. '|' .. (S.now + S.refresh_ms) .. '|' .. rest,
                 'PX', S.meta_ttl)
    else
      redis.call('SET', mk, '2|' .. seq .. '|' .. due .. '|' .. rest, 'KEEPTTL')
    end
  end
  return prog, pid, wend, refresh
end
)lua";

}  // namespace

std::string_view lease_prelude() noexcept { return kLeasePrelude; }

std::string_view dirty_times_lua() noexcept { return kDirtyTimesLua; }

std::string progress_prelude(const ScriptSettings* settings) {
    std::string out = settings != nullptr ? settings_lua(*settings) : std::string(kNoSettings);
    out += kDirtyTimesLua;
    out += kProgressPrelude;
    return out;
}

}  // namespace moneta::store
