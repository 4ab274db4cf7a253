/// @file services/internal_api/src/fault.hpp
/// @brief Test-only fault injection for the reference internal API (resilience.md §6: the "fake
/// upstream" with programmable modes). Enabled only by `--fault-control`; see docs/fixtures.md.
///
/// Three layers:
/// - Mode, parse_mode, to_json, decide: pure (no I/O, no clock, no randomness of their own), so
///   the decision is unit-tested with explicit times and draws.
/// - FaultControl: the current mode plus the steady time it was set (thread-safe, one per app).
/// - FaultGate: one per worker thread; applies a decision to a request (timers for holds and
///   delays), and releases its held requests when the mode changes or the app stops.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moneta/core/clock.hpp"
#include "moneta/http/response.hpp"

namespace boost::asio {
class io_context;
}

namespace moneta::internal_api::fault {

using std::chrono::milliseconds;

enum class Kind : std::uint8_t { kOk, kBlackhole, kSlow, kErrorRate, kReset };

/// One steady fault (every mode but flap).
struct Fault {
    Kind kind = Kind::kOk;
    milliseconds delay{0};  ///< kSlow
    double rate = 0;        ///< kErrorRate: probability in [0, 1]
    int status = 503;       ///< kErrorRate: 500..599

    friend bool operator==(const Fault&, const Fault&) = default;
};

/// The whole mode: a fault, optionally flapping (period ms of ok, then period ms of the fault,
/// and so on, from the moment it was set).
struct Mode {
    Fault fault;
    milliseconds flap_period{0};  ///< 0: not flapping

    friend bool operator==(const Mode&, const Mode&) = default;
};

/// A held (blackholed) request is closed without a response after this long at most.
inline constexpr milliseconds kMaxHold{60'000};
/// Upper bound of slow's delay_ms.
inline constexpr milliseconds kMaxDelay{60'000};
/// Upper bound of flap's period_ms (one hour).
inline constexpr milliseconds kMaxFlapPeriod{3'600'000};
/// Held requests per worker thread; past it the oldest hold is closed (its client has almost
/// surely given up long ago), so a blackhole under load keeps a bounded number of sockets.
inline constexpr std::size_t kMaxHeldPerWorker = 1024;

/// Parses the strict PUT /_fault body: unknown keys, keys of another mode, wrong types and
/// out-of-range values are errors (the message is client-safe).
boost::system::result<Mode, std::string> parse_mode(std::string_view json);

/// The canonical JSON of @p mode (what GET /_fault returns; parse_mode accepts it back).
std::string to_json(const Mode& mode);

enum class Action : std::uint8_t {
    kPass,   ///< serve normally
    kHold,   ///< keep the request, answer nothing, close after `wait` or when released
    kDelay,  ///< wait `wait`, then serve normally
    kError,  ///< answer `status` with a JSON error body
    kReset,  ///< close the connection now, answer nothing
};

struct Decision {
    Action action = Action::kPass;
    core::Duration wait{};  ///< kHold: the longest hold; kDelay: the delay
    int status = 0;         ///< kError

    friend bool operator==(const Decision&, const Decision&) = default;
};

/// Pure: what to do with one request under @p mode, @p since_set after the mode was set.
/// @param draw uniform in [0, 1); error_rate fails the request when draw < rate.
Decision decide(const Mode& mode, core::Duration since_set, double draw) noexcept;

/// The current mode of the whole app.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe.
class FaultControl {
public:
    enum class Release : std::uint8_t { kHolds, kAll };
    /// Called (under the listeners' lock, so keep it to a post) when held requests must go.
    using Listener = std::function<void(Release)>;

    explicit FaultControl(const core::Clock& clock) : clock_(clock), set_at_(clock.steady_now()) {}

    /// Installs @p mode from now (flap phases count from here) and releases every held request.
    void set(const Mode& mode);
    Mode mode() const;
    /// decide() for the current mode at the clock's now.
    Decision decide(double draw) const;
    /// Shutdown: releases holds and delays; from now on gates drop every request.
    void stop();
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

    std::uint64_t subscribe(Listener listener);
    /// After it returns, the listener is not running and will not run again.
    void unsubscribe(std::uint64_t id);

private:
    void notify(Release what);

    const core::Clock& clock_;
    mutable std::mutex mu_;
    Mode mode_;                // guarded by mu_
    core::SteadyTime set_at_;  // guarded by mu_
    std::atomic<bool> stopping_{false};
    std::mutex listeners_mu_;
    std::uint64_t next_id_ = 1;                                  // guarded by listeners_mu_
    std::vector<std::pair<std::uint64_t, Listener>> listeners_;  // guarded by listeners_mu_
};

/// Applies the mode to requests on one worker thread.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (use it on its io_context's thread only).
class FaultGate {
public:
    /// @p control must outlive the gate; @p io is the worker's io_context.
    FaultGate(FaultControl& control, boost::asio::io_context& io, const core::Clock& clock);
    ~FaultGate();
    FaultGate(const FaultGate&) = delete;
    FaultGate& operator=(const FaultGate&) = delete;

    /// @return nullopt: serve the request (any injected delay has passed); otherwise the
    /// response to return instead (an error, or one with `drop` set: close, answer nothing).
    boost::asio::awaitable<std::optional<http::Response>> async_admit();
    /// Requests held right now on this worker.
    std::size_t held() const noexcept;

    struct State;

private:
    FaultControl& control_;
    const core::Clock& clock_;
    std::shared_ptr<State> state_;
    std::uint64_t subscription_ = 0;
};

}  // namespace moneta::internal_api::fault
