#include "store/scripts/stop_script.hpp"

#include <charconv>

#include "store/progress_stream.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the lease and progress preludes (session_lua.cpp), settings baked in (ScriptSettings).
constexpr std::string_view kBody = R"lua(
configure(6, KEYS[6], KEYS[7], KEYS[8])
local now, sid = S.now, ARGV[2]
local released = 0
local score = redis.call('ZSCORE', KEYS[1], sid)
if score then
  drop(sid, now, 0, false)
  if tonumber(score) > now then
    released = 1
  end
else
  -- No lease: the session may be a fail-open start whose lease grant another worker or instance
  -- still holds in its buffer (Redis was down for it). A "stopped" mark ('!' + sid in the
  -- tombstone set: heartbeats and kicks look up the bare sid, so they still answer 404) stops
  -- that grant from taking a lease when it is replayed after this stop (session_start_script).
  -- Pruned by score with the tombstones. Any id of valid shape may be stopped (the MAC is not
  -- checked here), so the set is bounded per account: past 256 members no mark is written, and
  -- only this account's own late grants could then take a lease (docs/security.md).
  if redis.call('ZCARD', KEYS[4]) < 256 then
    redis.call('ZADD', KEYS[4], now + S.tomb_ms, '!' .. sid)
    if redis.call('PTTL', KEYS[4]) < S.tomb_ms + 60000 then
      redis.call('PEXPIRE', KEYS[4], S.tomb_ms + 60000)
    end
  end
end
local prog = session_progress(KEYS[5], KEYS[6], sid, ARGV[3], ARGV[4], ARGV[5] == '1', true)
return {released, prog}
)lua";

std::string source(const ScriptSettings& settings) {
    std::string out(lease_prelude());
    out += progress_prelude(&settings);
    out += kBody;
    return out;
}

}  // namespace

StopScript::StopScript(const ScriptSettings& settings) : TypedScript(source(settings)) {}

StopScript::Call::Call(const StopArgs& a) noexcept
    : now_(a.now_ms), seq_(a.seq), pos_(a.position_sec) {
    lease_keys(keys_, a.account_id);
    session_meta_key(keys_, a.account_id, a.session_id);
    dirty_key(keys_, a.account_id);
    progress_stream_key(keys_);
    progress_due_key(keys_);
    args_ = {now_.view(), a.session_id, pos_.view(),
             seq_.view(), a.ended ? "1" : "0", a.account_id};
}

core::Result<StopReply> StopScript::decode(const redis::ReplyView& r) noexcept {
    if (const auto e = array_reply_error(r, 2)) {
        return e;
    }
    return StopReply{r[0].to_int64().value_or(0) == 1, to_progress_write(r[1].to_int64())};
}

}  // namespace moneta::store
