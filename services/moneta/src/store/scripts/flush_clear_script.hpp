/// @file services/moneta/src/store/scripts/flush_clear_script.hpp
/// @brief The write-behind clear of one account, typed (heartbeat_script.hpp has the pattern):
/// deletes each flushed dirty entry still at its flushed version and re-scores (or removes) the
/// account in its due index (docs/data.md "Due index").
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/scripts/script_call.hpp"

namespace moneta::store {

struct FlushClearArgs {
    std::string_view account_id;
    std::int64_t now_ms = 0;
    std::int64_t marker_lost_ms = 0;  ///< ProgressSettings::marker_lost
};

/// @par Thread safety
/// Immutable after construction: share freely.
class FlushClearScript : public TypedScript {
public:
    /// KEYS dirty, progdue of the account's partition.
    static constexpr std::size_t kKeys = 2;

    FlushClearScript();

    /// Keys and arguments of one call. ARGV account, now, marker_lost_ms, then a (field,
    /// version) pair per entry to clear (add()): their number varies, so the arguments are in a
    /// vector, inline up to 8 entries (an account rarely has more titles dirty at once; the
    /// flusher makes one Call per flushed account). Not copyable: the views point into it; the
    /// caller keeps the added fields and versions alive while it is used.
    class Call : public ScriptCall<kKeys, boost::container::small_vector<std::string_view, 3 + 2 * 8>> {
    public:
        /// @param entries how many add() calls follow (their room is reserved once)
        explicit Call(const FlushClearArgs& a, std::size_t entries = 0);
        /// Clears dirty entry @p field if it is still at @p version.
        void add(std::string_view field, std::string_view version);

    private:
        IntArg now_, lost_;
    };

    // The reply (how many entries were deleted) is not decoded: the flusher sends the clears in
    // one pipeline with its XADD/XACK/XDEL and only needs each of them not to be an error.
};

}  // namespace moneta::store
