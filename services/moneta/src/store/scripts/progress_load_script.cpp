#include "store/scripts/progress_load_script.hpp"

#include <algorithm>
#include <string>

#include "store/session_lua.hpp"

namespace moneta::store {
namespace {

// After the progress prelude without settings (kNoSettings, session_lua.cpp): this script sets
// the ones it uses from its arguments.
constexpr std::string_view kBody = R"lua(
local ttl, cwmax, marker, n, pid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local neg_ttl, neg_max = tonumber(ARGV[6]), tonumber(ARGV[7])
S.ttl, S.cwmax, S.max_titles, S.max_dirty = ttl, cwmax, tonumber(ARGV[8]) or 0, tonumber(ARGV[9]) or 0
local i = 10
for _ = 1, n do
  put_progress(KEYS[1], KEYS[2], KEYS[3], pid, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
               ARGV[i + 5] == '1', '', false, false, true)
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

constexpr std::string_view kContinueMarker = "~cw";

}  // namespace

ProgressLoadScript::ProgressLoadScript()
    : TypedScript(progress_prelude(nullptr) + std::string(kBody)) {}

ProgressLoadScript::Call::Call(const ProgressLoadArgs& a)
    : ttl_(a.settings.ttl.count()),
      cwmax_(a.settings.continue_watching_max),
      n_(static_cast<std::int64_t>(a.records.size())),
      neg_ttl_(a.settings.missing_ttl.count()),
      neg_max_(a.settings.missing_max),
      max_titles_(a.settings.max_titles_per_profile),
      max_dirty_(a.settings.max_dirty_per_account) {
    progress_key(keys_, a.account_id, a.profile_id);
    continue_key(keys_, a.account_id, a.profile_id);
    dirty_key(keys_, a.account_id);
    progress_missing_key(keys_, a.account_id, a.profile_id);
    numbers_.reserve(a.records.size() * 4);  // views into it are taken after it is filled
    for (const domain::ProgressRecord& r : a.records) {
        numbers_.push_back(domain::format_seconds(r.position_sec));
        numbers_.push_back(domain::format_seconds(r.duration_sec));
        numbers_.push_back(std::to_string(r.updated_at_ms));
        numbers_.push_back(std::to_string(r.seq));
    }
    args_ = {
        ttl_.view(),
        cwmax_.view(),
        a.requested.empty() ? kContinueMarker : "",
        n_.view(),
        a.profile_id,
        neg_ttl_.view(),
        neg_max_.view(),
        max_titles_.view(),
        max_dirty_.view()};
    for (std::size_t i = 0; i < a.records.size(); ++i) {
        const domain::ProgressRecord& r = a.records[i];
        args_.insert(
            args_.end(),
            {r.content_id,
             numbers_[4 * i],
             numbers_[4 * i + 1],
             numbers_[4 * i + 2],
             numbers_[4 * i + 3],
             r.completed ? "1" : "0"}
        );
    }
    for (const std::string& id : a.requested) {
        const bool known =
            std::any_of(a.records.begin(), a.records.end(), [&](const domain::ProgressRecord& r) {
                return r.content_id == id;
            });
        if (!known) {
            args_.push_back(id);
        }
    }
}

core::Result<void> ProgressLoadScript::decode(const redis::ReplyView& r) noexcept {
    if (r.is_error()) {
        return core::make_error(core::Errc::kUpstreamError);
    }
    return {};
}

}  // namespace moneta::store
