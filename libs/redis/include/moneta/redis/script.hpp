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
    /// `$7\r\nEVALSHA\r\n$40\r\n<sha1>\r\n`: the verb and the SHA1 as RESP bulk strings, made
    /// once, so every EVALSHA of this script copies them as one piece.
    std::string_view evalsha_head() const noexcept { return evalsha_head_; }

private:
    std::string source_;
    std::string sha1_;
    std::string evalsha_head_;
};

}  // namespace moneta::redis
