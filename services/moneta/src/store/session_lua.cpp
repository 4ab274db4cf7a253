#include "store/lease_scripts.hpp"

#include <string_view>

namespace moneta::store {

// Shared prelude: `drop` removes one session from all three structures; an optional tombstone
// marks it evicted. `touch` keeps every key alive a minute past the longest thing it holds.
constexpr std::string_view kPrelude = R"lua(
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
  end
end
local function prune(now)
  for _, s in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
    drop(s, now, 0)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
end
local function touch(ttl)
  for i = 1, 4 do
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
)lua";

std::string lease_start_script() {
    return std::string(kPrelude) + R"lua(
local now = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local max_streams = tonumber(ARGV[3])
local sid, device, info, replace = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local tomb_ms = tonumber(ARGV[8])
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
  take[#take + 1] = prev
end
local live = redis.call('ZCARD', KEYS[1])
if live - #take >= max_streams then
  local out = {0}
  local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    out[#out + 1] = members[i]
    out[#out + 1] = redis.call('HGET', KEYS[2], members[i]) or '{}'
    out[#out + 1] = members[i + 1]
  end
  return out
end
for _, s in ipairs(take) do
  drop(s, now, tomb_ms)
end
local expires = now + lease_ms
redis.call('ZADD', KEYS[1], expires, sid)
redis.call('HSET', KEYS[2], sid, info)
redis.call('HSET', KEYS[3], device, sid)
touch(math.max(lease_ms, tomb_ms) + 60000)
return {1, expires, live - #take + 1, take[1] or ''}

)lua";
}

std::string lease_heartbeat_script() {
    return std::string(kPrelude) + R"lua(
local now = tonumber(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local sid = ARGV[3]
local tomb_ms = tonumber(ARGV[4])
local score = redis.call('ZSCORE', KEYS[1], sid)
if score and tonumber(score) > now then
  local expires = now + lease_ms
  redis.call('ZADD', KEYS[1], 'XX', expires, sid)
  touch(math.max(lease_ms, tomb_ms) + 60000)
  return {1, expires}
end
if score then
  drop(sid, now, 0)
end
local tomb = redis.call('ZSCORE', KEYS[4], sid)
if tomb and tonumber(tomb) > now then
  return {2}
end
return {0}

)lua";
}

std::string lease_stop_script() {
    return std::string(kPrelude) + R"lua(
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local score = redis.call('ZSCORE', KEYS[1], sid)
if not score then
  return 0
end
drop(sid, now, 0)
if tonumber(score) > now then
  return 1
end
return 0
)lua";
}

}  // namespace moneta::store
