/// @file services/moneta/src/store/scripts/stop_script.hpp
/// @brief The stop script, typed (heartbeat_script.hpp has the pattern): releases the lease
/// (idempotent) and records the final position through the progress guard. One round trip.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/progress_write.hpp"
#include "store/scripts/script_call.hpp"
#include "store/scripts/script_settings.hpp"

namespace moneta::store {

struct StopArgs {
    std::string_view account_id;
    std::string_view session_id;
    double position_sec = 0;
    std::int64_t seq = 0;
    bool ended = false;  ///< reason=ended: completes the title
    std::int64_t now_ms = 0;
};

struct StopReply {
    bool released = false;  ///< a live lease was released by this call
    ProgressWrite progress = ProgressWrite::kUnknownSession;
};

/// @par Thread safety
/// Immutable after construction: share freely.
class StopScript : public TypedScript {
public:
    /// KEYS lease, sess, dev, evict, meta, dirty, stream, due index.
    static constexpr std::size_t kKeys = 8;
    /// ARGV now, sid, pos, seq, ended (1/0), account_id.
    static constexpr std::size_t kArgs = 6;

    explicit StopScript(const ScriptSettings& settings);

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const StopArgs& a) noexcept;

    private:
        IntArg now_, seq_;
        SecondsArg pos_;
    };

    /// Script error: kUpstreamError; another shape: kProtocolError.
    static core::Result<StopReply> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
