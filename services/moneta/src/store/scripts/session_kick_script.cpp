#include "store/scripts/session_kick_script.hpp"

#include <string>

#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the lease prelude (session_lua.cpp). → 1 kicked | 0 no live lease.
constexpr std::string_view kBody = R"lua(
local now = tonumber(ARGV[1])
local sid = ARGV[2]
local score = redis.call('ZSCORE', KEYS[1], sid)
if not score then
  return 0
end
if tonumber(score) <= now then
  drop(sid, now, 0, false)
  return 0
end
drop(sid, now, tonumber(ARGV[3]), false)
return 1
)lua";

}  // namespace

SessionKickScript::SessionKickScript()
    : TypedScript(std::string(lease_prelude()) + std::string(kBody)) {}

SessionKickScript::Call::Call(const SessionKickArgs& a) noexcept
    : now_(a.now_ms), tomb_(a.tombstone_ms) {
    lease_keys(keys_, a.account_id);
    args_ = {now_.view(), a.session_id, tomb_.view()};
}

core::Result<bool> SessionKickScript::decode(const redis::ReplyView& r) noexcept {
    if (r.is_error()) {
        return core::Result<bool>(
            boost::system::in_place_error, core::make_error(core::Errc::kUpstreamError)
        );
    }
    return r.as_integer().value_or(0) == 1;
}

}  // namespace moneta::store
