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

void add_progress_marker(redis::Pipeline& p, std::string_view account_id, const ProgressSettings& settings) {
    KeyBuffer kb;
    // Stack buffers: the hot path (every heartbeat) allocates nothing here.
    const IntArg shard(progress_shard(account_id, settings.stream_shards));
    const IntArg max_len(settings.stream_max_len);
    p.add({"XADD", progress_stream_key(kb, shard.view()), "MAXLEN", "~", max_len.view(), "*", "a", account_id});
}

}  // namespace moneta::store
