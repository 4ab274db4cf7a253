/// @file moneta/consul/registrar.hpp
/// @brief The registration state machine, pure (no I/O, time passed in): what to send to the
/// agent next and when, given what the agent answered. The driver (agent_client.hpp) performs
/// the calls; unit tests drive this on a fake clock.
///
/// Policy (docs/consul.md):
/// - start: register now; once registered, pass the TTL check at once, then every pass_interval
///   (default TTL/3: two passes may be lost before the check goes critical);
/// - a pass answered 404 (or the older agents' 500 "does not have associated TTL"): the agent
///   lost us (it restarted without our registration) → register again now;
/// - any other failure (connect refused, timeout, 5xx, 403 ACL denied, a malformed answer):
///   retry the same call after an exponential backoff (initial × 2^n, capped at backoff_max);
///   a success resets it;
/// - stop: deregister once if a register was ever sent (it may have landed), then nothing.
/// The link's health (Starting/Up/Down) changes rarely; the driver logs only those changes.
#pragma once

#include <chrono>
#include <cstdint>

#include "moneta/core/clock.hpp"

namespace moneta::consul {

using core::Duration;
using core::SteadyTime;

struct RegistrarConfig {
    Duration ttl = std::chrono::seconds(15);
    Duration pass_interval{0};  ///< 0 = ttl / 3
    Duration backoff_initial = std::chrono::seconds(1);
    Duration backoff_max = std::chrono::seconds(30);
};

enum class Op : std::uint8_t { kNone, kRegister, kPass, kDeregister };

/// What one call came back with, as the state machine needs it.
enum class Outcome : std::uint8_t {
    kOk,      ///< 200
    kLost,    ///< a pass the agent answered "unknown check" (404): re-register
    kFailed,  ///< anything else: transport error, timeout, other status, malformed response
};

/// The agent link as an operator sees it (one log line per change).
enum class Link : std::uint8_t { kStarting, kUp, kDown, kStopped };

const char* to_string(Op op) noexcept;
const char* to_string(Link link) noexcept;

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (the driver's thread owns it).
class Registrar {
public:
    explicit Registrar(RegistrarConfig config) noexcept;

    struct Step {
        Op op = Op::kNone;
        SteadyTime at{};  ///< do it at this time (in the past: now)
    };

    /// Arms the first register at @p now.
    void start(SteadyTime now) noexcept;
    /// The next call and its time; kNone once stopped (or before start).
    Step next() const noexcept { return step_; }

    struct Change {
        bool link_changed = false;  ///< log it
        Link from = Link::kStarting;
        Link to = Link::kStarting;
        bool lost = false;          ///< the agent forgot us (404 on a pass): we re-register
        Duration retry_in{0};       ///< when failing: the backoff before the next try
    };
    /// The driver is about to send @p op (a register in flight at stop() may land: deregister).
    void on_send(Op op) noexcept {
        if (op == Op::kRegister) {
            register_sent_ = true;
        }
    }
    /// Feeds back the outcome of the call next() asked for (@p op is that call).
    Change on_result(Op op, Outcome outcome, SteadyTime now) noexcept;

    /// Stops scheduling. @return true when a deregister should be sent (a register was sent).
    bool stop() noexcept;

    Link link() const noexcept { return link_; }
    Duration pass_interval() const noexcept { return pass_interval_; }
    std::uint32_t consecutive_failures() const noexcept { return failures_; }

private:
    Duration backoff() const noexcept;
    Change set_link(Link to) noexcept;

    RegistrarConfig config_;
    Duration pass_interval_;
    Step step_;
    Link link_ = Link::kStarting;
    std::uint32_t failures_ = 0;
    bool register_sent_ = false;
};

}  // namespace moneta::consul
