#include "store/scripts/progress_put_script.hpp"

#include <charconv>

#include "store/progress_stream.hpp"
#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the progress prelude (session_lua.cpp), settings baked in (ScriptSettings).
constexpr std::string_view kBody = R"lua(
configure(9, KEYS[3], KEYS[4], KEYS[5])
return put_progress(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7],
                    ARGV[8] == '1', '', false, 'now', true)
)lua";

}  // namespace

ProgressPutScript::ProgressPutScript(const ScriptSettings& settings)
    : TypedScript(progress_prelude(&settings) + std::string(kBody)) {}

ProgressPutScript::Call::Call(const ProgressPutArgs& a) noexcept
    : now_(a.now_ms),
      upd_(a.record.updated_at_ms),
      seq_(a.record.seq),
      pos_(a.record.position_sec),
      dur_(a.record.duration_sec) {
    progress_key(keys_, a.account_id, a.profile_id);
    continue_key(keys_, a.account_id, a.profile_id);
    dirty_key(keys_, a.account_id);
    progress_stream_key(keys_);
    progress_due_key(keys_);
    args_ = {now_.view(),
             a.profile_id,
             a.record.content_id,
             pos_.view(),
             dur_.view(),
             upd_.view(),
             seq_.view(),
             a.record.completed ? "1" : "0",
             a.account_id};
}

core::Result<ProgressWrite> ProgressPutScript::decode(const redis::ReplyView& r) noexcept {
    const auto v = r.as_integer();
    if (!v || *v < 0 || *v > 3) {
        return core::make_error(core::Errc::kUpstreamError);
    }
    return static_cast<ProgressWrite>(*v);
}

}  // namespace moneta::store
