/// @file services/sshca/src/identity.hpp
/// @brief Who is calling: a bearer JWT from the company IdP (`sub`, `groups`, `aud` "sshca",
/// verified by libs/jwt with its algorithm allow-list), and the host bootstrap token. Failed
/// attempts are counted per client address; past the limit the address is refused (429) until
/// its window ends, whatever it sends, so a token cannot be guessed at speed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "moneta/core/clock.hpp"
#include "moneta/jwt/verifier.hpp"
#include "policy.hpp"

namespace moneta::sshca {

struct FailureLimit {
    int max_failures = 10;                ///< per address per window
    std::chrono::seconds window{60};
    std::size_t max_addresses = 10'000;   ///< bound on the table (the oldest window goes first)
};

enum class AuthFailure : std::uint8_t {
    kMissing,   ///< no Authorization: Bearer
    kInvalid,   ///< a token that does not verify (reason in AuthResult::reason)
    kNoSubject,  ///< verified, but no `sub`, or a `sub` the CA cannot put in a key id
    kLimited,   ///< too many failures from this address
};

struct AuthResult {
    std::optional<Identity> identity;
    AuthFailure failure = AuthFailure::kMissing;
    std::string reason;  ///< for the audit log (never the token)
};

/// Counts failures per address in fixed windows. Not thread-safe (the server's one worker).
class FailureLimiter {
public:
    FailureLimiter(FailureLimit limit, const core::Clock& clock) : limit_(limit), clock_(clock) {}
    bool limited(std::string_view address);
    /// @return true when this failure is the one that reaches the limit (audit it once).
    bool record_failure(std::string_view address);
    std::size_t tracked() const noexcept { return windows_.size(); }

private:
    struct Window {
        std::int64_t start_ms = 0;
        int failures = 0;
    };
    Window* current(std::string_view address);
    FailureLimit limit_;
    const core::Clock& clock_;
    std::unordered_map<std::string, Window> windows_;
};

class Authenticator {
public:
    Authenticator(jwt::Verifier verifier, std::string host_token, FailureLimit limit, const core::Clock& clock);

    /// A user (JWT) from @p authorization (the header's value, if any) sent from @p address.
    AuthResult user(std::optional<std::string_view> authorization, std::string_view address);
    /// True for the host bootstrap token (compared in constant time). Not a failure when false:
    /// the caller then tries user(), which counts.
    bool is_host_token(std::optional<std::string_view> authorization) const noexcept;
    bool limited(std::string_view address) { return limiter_.limited(address); }
    FailureLimiter& limiter() noexcept { return limiter_; }

private:
    jwt::Verifier verifier_;
    std::string host_token_;
    FailureLimiter limiter_;
    const core::Clock& clock_;
};

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive), nullopt otherwise.
std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) noexcept;

}  // namespace moneta::sshca
