/// @file services/moneta/src/store/scripts/session_kick_script.hpp
/// @brief The kick script, typed (heartbeat_script.hpp has the pattern): ends another device's
/// live lease and leaves a tombstone, so that session's next heartbeat answers evicted.
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

struct SessionKickArgs {
    std::string_view account_id;
    std::string_view session_id;
    std::int64_t now_ms = 0;
    std::int64_t tombstone_ms = 0;  ///< LeaseSettings::tombstone
};

/// @par Thread safety
/// Immutable after construction: share freely.
class SessionKickScript : public TypedScript {
public:
    /// KEYS lease, sess, dev, evict.
    static constexpr std::size_t kKeys = 4;
    /// ARGV now, sid, tombstone_ms.
    static constexpr std::size_t kArgs = 3;

    SessionKickScript();

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const SessionKickArgs& a) noexcept;

    private:
        IntArg now_, tomb_;
    };

    /// true: a live lease was kicked. A script error is kUpstreamError; any other reply than
    /// the integer 1 reads as "no live lease" (false), as the store always did.
    static core::Result<bool> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
