/// @file moneta/redis/pipeline.hpp
/// @brief N commands sent together and answered in one round trip (Client::async_pipeline).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "moneta/redis/command_args.hpp"

namespace moneta::redis {

/// Commands are encoded to RESP as they are added, so sending a pipeline is one buffer append.
/// Not a transaction: other connections' commands may interleave (wrap in MULTI/EXEC, or use a
/// Script, when atomicity matters). Reusable: clear() keeps the buffer's capacity.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class Pipeline {
public:
    Pipeline() = default;

    /// Appends one command, e.g. `p.add({"HSET", key, "f", v})`; an empty one is ignored.
    Pipeline& add(const CommandArgs& args);

    /// Appends every command of @p other (already encoded: a byte copy).
    Pipeline& append(const Pipeline& other) {
        wire_ += other.wire_;
        count_ += other.count_;
        return *this;
    }

    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    void clear() noexcept {
        wire_.clear();
        count_ = 0;
    }
    /// The encoded RESP bytes of all commands.
    std::string_view wire() const noexcept { return wire_; }

private:
    std::string wire_;
    std::size_t count_ = 0;
};

}  // namespace moneta::redis
