#include "store/scripts/flush_clear_script.hpp"

#include <string>

#include "store/progress_stream.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the dirty-entry time parser (session_lua.cpp). Deletes the flushed entries still at
// their flushed version, then sets the account's score in its due index from what is left
// (mark_dirty's rule; a snapshotted '*' entry of a flush still running: lost_ms from now), or
// takes the account out when nothing is. The score is recomputed from the hash, not adjusted:
// whatever a take or an earlier write left there.
constexpr std::string_view kBody = R"lua(
local account, now, lost = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local n = 0
for i = 4, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
local next_at = nil
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local when = now + lost
  if string.byte(v, 1) ~= 42 then
    local at, due = dirty_times(v)
    if at > 0 then
      when = at + lost
    else
      when = due or now
    end
  end
  if not next_at or when < next_at then
    next_at = when
  end
end
if next_at then
  redis.call('ZADD', KEYS[2], next_at, account)
else
  redis.call('ZREM', KEYS[2], account)
end
return n
)lua";

}  // namespace

FlushClearScript::FlushClearScript()
    : TypedScript(std::string(dirty_times_lua()) + std::string(kBody)) {}

FlushClearScript::Call::Call(const FlushClearArgs& a, std::size_t entries)
    : now_(a.now_ms),
      lost_(a.marker_lost_ms) {
    dirty_key(keys_, a.account_id);
    progress_due_key(keys_);
    args_.reserve(3 + 2 * entries);
    args_.insert(args_.end(), {a.account_id, now_.view(), lost_.view()});
}

void FlushClearScript::Call::add(std::string_view field, std::string_view version) {
    args_.push_back(field);
    args_.push_back(version);
}

}  // namespace moneta::store
