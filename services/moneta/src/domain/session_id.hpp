/// @file services/moneta/src/domain/session_id.hpp
/// @brief Session ids that say which account they were minted for: "ps_" + base64url(10 random
/// bytes ‖ the first 8 bytes of HMAC-SHA256(key, account ‖ 0x00 ‖ random)), 24 characters.
///
/// Why: while Redis is down nothing can look a session up, yet heartbeats and stops must still be
/// held for replay (docs/resilience.md). Holding whatever id a client sends would let one token
/// fill the buffer with made-up sessions; a per-worker table of "sessions seen here" would refuse
/// the real ones that happen to reach another worker or instance. A keyed MAC answers "did moneta
/// mint this id for this account?" on any worker of any instance sharing the key, with no state
/// and no I/O. It is not an authorization check (the lease in Redis is): it only bounds what an
/// outage can be made to hold.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "moneta/jwt/hmac_sha256.hpp"

namespace moneta::domain {

/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (immutable after construction).
class SessionIdSigner {
public:
    /// @param key the shared secret (playback.session_key); empty: 32 random bytes, valid for
    /// this process only.
    explicit SessionIdSigner(std::string_view key);

    /// A new unguessable session id for @p account_id, in a string with room for
    /// @p spare_capacity more bytes (a start's Location header prefixes it in place).
    std::string mint(std::string_view account_id, std::size_t spare_capacity = 0) const;

    /// True when @p session_id is one mint(@p account_id) could have returned with this key.
    bool minted_for(std::string_view account_id, std::string_view session_id) const;

private:
    static constexpr std::size_t kRandomBytes = 10;
    static constexpr std::size_t kMacBytes = 8;
    static constexpr std::size_t kEncoded = ((kRandomBytes + kMacBytes) * 4 + 2) / 3;  ///< unpadded base64url
    void mac(std::string_view account_id, const std::uint8_t* random, std::uint8_t* out) const noexcept;

    jwt::HmacSha256Key key_;  ///< precomputed ipad/opad states: a MAC allocates nothing
};

}  // namespace moneta::domain
