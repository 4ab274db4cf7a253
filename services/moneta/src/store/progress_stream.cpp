#include "store/progress_stream.hpp"

#include "store/keys.hpp"
#include "store/scripts.hpp"

namespace moneta::store {

int progress_shard(std::string_view account_id, int shards) noexcept {
    std::uint32_t h = 2166136261U;
    for (const char c : account_id) {
        h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
    }
    return shards <= 1 ? 0 : static_cast<int>(h % static_cast<std::uint32_t>(shards));
}

ProgressArgs::ProgressArgs(std::string_view account_id, const ProgressSettings& s, std::chrono::milliseconds meta_ttl,
                           std::chrono::milliseconds meta_refresh) noexcept
    : account_(account_id),
      ttl_(s.ttl.count()),
      cwmax_(s.continue_watching_max),
      titles_(s.max_titles_per_profile),
      dirty_(s.max_dirty_per_account),
      meta_ttl_(meta_ttl.count()),
      refresh_(meta_refresh.count()),
      announce_(s.announce.count()),
      max_len_(s.stream_max_len) {}

std::array<std::string_view, ProgressArgs::kSize> ProgressArgs::views() const noexcept {
    return {account_,         ttl_.view(),     cwmax_.view(),    titles_.view(),  dirty_.view(),
            meta_ttl_.view(), refresh_.view(), announce_.view(), max_len_.view()};
}

void add_progress_marker(redis::Pipeline& p, std::string_view account_id, const ProgressSettings& settings) {
    KeyBuffer kb;
    // Stack buffers: the hot path (every heartbeat) allocates nothing here.
    const IntArg shard(progress_shard(account_id, settings.stream_shards));
    const IntArg max_len(settings.stream_max_len);
    p.add({"XADD", progress_stream_key(kb, shard.view()), "MAXLEN", "~", max_len.view(), "*", "a", account_id});
}

}  // namespace moneta::store
