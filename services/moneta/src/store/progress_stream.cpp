#include "store/progress_stream.hpp"

namespace moneta::store {

int progress_shard(std::string_view account_id, int shards) noexcept {
    std::uint32_t h = 2166136261U;
    for (const char c : account_id) {
        h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
    }
    return shards <= 1 ? 0 : static_cast<int>(h % static_cast<std::uint32_t>(shards));
}

}  // namespace moneta::store
