#include "store/scripts/due_take_script.hpp"

#include <string>

namespace moneta::store {
namespace {

// Takes up to ARGV[3] accounts of one due index whose score is at most ARGV[1] and moves them to
// ARGV[2] (a claim: another flusher takes them only if this one has not cleared them by then).
constexpr std::string_view kSource = R"lua(
local out = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, a in ipairs(out) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], a)
end
return out
)lua";

}  // namespace

DueTakeScript::DueTakeScript() : TypedScript(std::string(kSource)) {}

DueTakeScript::Call::Call(const DueTakeArgs& a) noexcept
    : due_by_(a.due_by_ms), claim_until_(a.claim_until_ms), count_(a.count) {
    progress_due_key(keys_, a.partition);
    args_ = {
        a.everything ? std::string_view("+inf") : due_by_.view(),
        claim_until_.view(),
        count_.view()};
}

core::Result<redis::ReplyView> DueTakeScript::decode(const redis::ReplyView& r) noexcept {
    if (const auto e = array_reply_error(r)) {
        return e;
    }
    return r;
}

}  // namespace moneta::store
