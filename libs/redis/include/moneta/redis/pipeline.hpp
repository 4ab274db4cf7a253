/// @file moneta/redis/pipeline.hpp
/// @brief N commands sent together and answered in one round trip (Client::async_pipeline).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moneta/redis/command_args.hpp"
#include "moneta/redis/script.hpp"

namespace moneta::redis {

/// Commands are encoded to RESP as they are added, so sending a pipeline is one buffer append.
/// Not a transaction: other connections' commands may interleave (wrap in MULTI/EXEC, or use a
/// Script, when atomicity matters). Reusable: clear() keeps the buffer's capacity.
///
/// Allocation: the encoding buffer comes from a small per-thread cache of buffers and goes back
/// to it when the Pipeline is destroyed, so a Pipeline built per request allocates nothing in
/// steady state.
///
/// Scripts: commands added with add_eval() are EVALSHAs the client can recover: when any reply
/// of the pipeline is NOSCRIPT (Redis restarted, failed over, SCRIPT FLUSH), the client loads
/// the pipeline's scripts and sends the WHOLE pipeline once more, in one extra round trip. So a
/// pipeline holding scripts must be safe to repeat (its other commands may run twice).
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class Pipeline {
public:
    Pipeline() noexcept = default;
    Pipeline(const Pipeline& other);
    Pipeline(Pipeline&& other) noexcept;
    Pipeline& operator=(const Pipeline& other);
    Pipeline& operator=(Pipeline&& other) noexcept;
    ~Pipeline();

    /// Appends one command, e.g. `p.add({"HSET", key, "f", v})`; an empty one is ignored.
    Pipeline& add(const CommandArgs& args);

    /// Appends `EVALSHA sha1 numkeys keys... args...` and remembers @p script (which must
    /// outlive the call that sends this pipeline) for NOSCRIPT recovery.
    Pipeline& add_eval(const Script& script, const CommandArgs& keys, const CommandArgs& args);

    /// Appends every command of @p other (already encoded: a byte copy) and its scripts.
    Pipeline& append(const Pipeline& other);

    /// Appends ONE command already encoded as RESP (@p command: exactly one multibulk command,
    /// as for_each_command() in cluster.hpp cuts them). For routers that split a pipeline.
    Pipeline& add_encoded(std::string_view command);
    /// Remembers @p other's scripts for NOSCRIPT recovery (a part of a split pipeline).
    void adopt_scripts(const Pipeline& other);

    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    void clear() noexcept {
        wire_.clear();
        count_ = 0;
        inline_scripts_ = 0;
        more_scripts_.clear();
    }
    /// The encoded RESP bytes of all commands.
    std::string_view wire() const noexcept { return wire_; }
    /// The distinct scripts of add_eval(), in first-use order.
    std::vector<const Script*> scripts() const;
    /// True when add_eval() was used.
    bool has_scripts() const noexcept { return inline_scripts_ != 0; }

private:
    void reserve_buffer();
    void remember(const Script& script);

    static constexpr std::size_t kInlineScripts = 4;
    std::string wire_;
    std::size_t count_ = 0;
    std::array<const Script*, kInlineScripts> scripts_{};
    std::size_t inline_scripts_ = 0;
    std::vector<const Script*> more_scripts_;  ///< beyond kInlineScripts distinct ones (rare)
};

}  // namespace moneta::redis
