/// @file moneta/redis/script.hpp
/// @brief A Lua script with its SHA1, for EVALSHA with transparent NOSCRIPT recovery.
#pragma once

#include <string>
#include <string_view>

namespace moneta::redis {

/// Immutable; build once (e.g. as a member of the store) and share.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (const).
class Script {
public:
    /// Computes the lower-case hex SHA1 of @p source (the same digest SCRIPT LOAD returns).
    explicit Script(std::string source);

    const std::string& sha1() const noexcept { return sha1_; }
    std::string_view source() const noexcept { return source_; }

private:
    std::string source_;
    std::string sha1_;
};

}  // namespace moneta::redis
