/// @file services/moneta/src/store/scripts/progress_put_script.hpp
/// @brief The offline progress write (PUT /v1/me/progress/{id}), typed (heartbeat_script.hpp
/// has the pattern): the progress guard with the device's own updated_at, no session.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "domain/progress.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/reply.hpp"
#include "moneta/redis/script.hpp"
#include "store/keys.hpp"
#include "store/progress_write.hpp"
#include "store/scripts/script_call.hpp"
#include "store/scripts/script_settings.hpp"

namespace moneta::store {

struct ProgressPutArgs {
    std::string_view account_id;
    std::string_view profile_id;
    const domain::ProgressRecord& record;
    std::int64_t now_ms = 0;
};

/// @par Thread safety
/// Immutable after construction: share freely.
class ProgressPutScript : public TypedScript {
public:
    /// KEYS prog, cw, dirty, stream, due index.
    static constexpr std::size_t kKeys = 5;
    /// ARGV now, pid, cid, pos, dur, updated_at, seq, completed (1/0), account_id.
    static constexpr std::size_t kArgs = 9;

    explicit ProgressPutScript(const ScriptSettings& settings);

    /// Keys and arguments of one call in fixed buffers; not copyable (views into itself).
    class Call : public FixedCall<kKeys, kArgs> {
    public:
        explicit Call(const ProgressPutArgs& a) noexcept;

    private:
        IntArg now_, upd_, seq_;
        SecondsArg pos_, dur_;
    };

    /// → applied | stale | zero kept | capped; anything else (a script error included) is
    /// kUpstreamError.
    static core::Result<ProgressWrite> decode(const redis::ReplyView& r) noexcept;
};

}  // namespace moneta::store
