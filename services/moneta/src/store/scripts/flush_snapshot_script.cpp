#include "store/scripts/flush_snapshot_script.hpp"

#include <string>

#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the dirty-entry time parser (session_lua.cpp). Takes the entries due by ARGV[2] (wall
// ms; a retried snapshot's '*' entries always) and marks them as snapshotted ('*' prefix, once):
// a write after this point sees the mark and writes a new version, which this flush's clear
// (equal versions only) then keeps. Held entries stay as they are (mark_dirty: they are
// announced once due).
constexpr std::string_view kBody = R"lua(
local out = {}
local now = tonumber(ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local pid, cid = string.match(all[i], '^([^/]+)/(.+)$')
  local v = all[i + 1]
  local take = true
  if string.byte(v, 1) ~= 42 then
    local _, due = dirty_times(v)
    take = (due or 0) <= now
    if take then
      v = '*' .. v
      redis.call('HSET', KEYS[1], all[i], v)
    end
  end
  if take then
    out[#out + 1] = all[i]
    out[#out + 1] = v
    out[#out + 1] = (pid and redis.call('HGET', ARGV[1] .. pid, cid)) or ''
  end
end
return out
)lua";

}  // namespace

FlushSnapshotScript::FlushSnapshotScript()
    : TypedScript(std::string(dirty_times_lua()) + std::string(kBody)) {}

FlushSnapshotScript::Call::Call(const FlushSnapshotArgs& a) noexcept : due_by_(a.due_by_ms) {
    dirty_key(keys_, a.account_id);
    // Not a key: the prefix of the account's progress keys, whose profile the entries name.
    args_ = {progress_prefix(keys_, a.account_id), due_by_.view()};
}

core::Result<FlushSnapshotReply> FlushSnapshotScript::decode(const redis::ReplyView& r) noexcept {
    if (const auto e = array_reply_error(r)) {
        return e;
    }
    return FlushSnapshotReply(r, 0);
}

}  // namespace moneta::store
