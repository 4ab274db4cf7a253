/// @file services/moneta/src/store/scripts/heartbeat_script.hpp
/// @brief The heartbeat script, typed: its arguments (HeartbeatArgs), its keys and ARGV (built
/// into fixed buffers by HeartbeatScript::Call), its Lua source (heartbeat_script.cpp) and its
/// reply decoder, in one place. NOSCRIPT recovery stays in libs/redis.
///
/// One round trip renews the lease (or answers evicted / not found), records the position
/// through the progress guard (api.md §6; also for a lost lease, api.md §5.2) and reads the
/// entitlement digest. docs/data.md "Per-call Redis work" lists what it reads and writes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/progress_write.hpp"
#include "store/scripts/script_call.hpp"
#include "store/scripts/script_settings.hpp"

namespace moneta::store {

struct HeartbeatArgs {
    std::string_view account_id;
    std::string_view session_id;
    double position_sec = 0;
    std::int64_t seq = 0;
    std::int64_t now_ms = 0;  ///< also the progress value's updated_at
    /// false: a heartbeat replayed after a Redis outage (ProgressBuffer): its lease is never
    /// shortened, an evicted session never revived, nothing pruned with its older clock.
    bool renew = true;
};

/// The decoded reply. Views point into the reply the caller keeps alive.
struct HeartbeatReply {
    enum class Lease : std::uint8_t { kNotFound, kRenewed, kEvicted };
    Lease lease = Lease::kNotFound;
    std::int64_t expires_at_ms = 0;  ///< kRenewed only
    ProgressWrite progress = ProgressWrite::kUnknownSession;
    std::string_view entitlement_digest;  ///< empty: none cached (or the lease not renewed)
    std::string_view profile_id;          ///< empty: no session meta
    std::optional<std::int64_t> window_end_ms;
};

/// @par Thread safety
/// Immutable after construction: share freely.
class HeartbeatScript : public TypedScript {
public:
    /// KEYS lease, sess, dev, evict, meta, ent, entd, dirty, stream, due index.
    static constexpr std::size_t kKeys = 10;
    /// ARGV now, sid, pos, seq, renew (1/0), account_id.
    static constexpr std::size_t kArgs = 6;

    explicit HeartbeatScript(const ScriptSettings& settings);

    /// The keys and arguments of one call, in fixed buffers (nothing on the heap). Not copyable:
    /// the views point into it.
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const HeartbeatArgs& a) noexcept;

    private:
        IntArg now_, seq_;
        SecondsArg pos_;
    };

    /// A script error is kUpstreamError (a bug, or a key of the wrong type); a reply that is not
    /// this script's shape is kProtocolError.
    static core::Result<HeartbeatReply> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
