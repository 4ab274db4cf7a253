#include "store/scripts/continue_watching_script.hpp"

#include <string>

namespace moneta::store {
namespace {

// No prelude: it only reads.
constexpr std::string_view kSource = R"lua(
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

}  // namespace

ContinueWatchingScript::ContinueWatchingScript() : TypedScript(std::string(kSource)) {}

ContinueWatchingScript::Call::Call(const ContinueWatchingArgs& a) noexcept : limit_(a.limit) {
    progress_key(keys_, a.account_id, a.profile_id);
    continue_key(keys_, a.account_id, a.profile_id);
    args_ = {limit_.view()};
}

core::Result<ContinueWatchingReply> ContinueWatchingScript::decode(const redis::ReplyView& r
) noexcept {
    if (const auto e = array_reply_error(r, 1)) {
        return e;
    }
    return ContinueWatchingReply(r, r[0].as_integer().value_or(0) == 1);
}

}  // namespace moneta::store
