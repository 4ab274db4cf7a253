/// @file services/moneta/src/store/scripts/due_take_script.hpp
/// @brief The due-index take, typed (heartbeat_script.hpp has the pattern): the accounts of one
/// `progdue:` partition that are due, claimed for a while so that another flusher leaves them alone
/// (docs/data.md "Due index").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/scripts/script_call.hpp"

namespace moneta::store {

struct DueTakeArgs {
    int partition = 0;  ///< 0 ≤ partition < kPartitions
    bool everything = false;     ///< a stop's final flush: every indexed account, due or not
    std::int64_t due_by_ms = 0;  ///< otherwise: those scored at most this
    std::int64_t claim_until_ms = 0;
    std::int64_t count = 0;  ///< at most this many
};

/// @par Thread safety
/// Immutable after construction: share freely.
class DueTakeScript : public TypedScript {
public:
    /// KEYS progdue of the partition.
    static constexpr std::size_t kKeys = 1;
    /// ARGV max score ("+inf": everything), claim-until score, count.
    static constexpr std::size_t kArgs = 3;

    DueTakeScript();

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const DueTakeArgs& a) noexcept;

    private:
        IntArg due_by_, claim_until_, count_;
    };

    /// The accounts taken (and claimed): an array of their ids, read with size() and
    /// operator[]. A script error is kUpstreamError; not an array: kProtocolError.
    static core::Result<redis::ReplyView> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
