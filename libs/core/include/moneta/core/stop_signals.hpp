/// @file moneta/core/stop_signals.hpp
/// @brief How a service's main waits to be told to stop: SIGTERM/SIGINT (and SIGHUP, "reopen
/// your log file" by daemon convention) blocked in every thread and received by sigwait() in
/// main, SIGPIPE ignored (a peer closing a socket is an error return, not a death).
#pragma once

#include <pthread.h>

#include <csignal>

namespace moneta::core {

/// Construct it first in main, before any thread starts: threads inherit the blocked mask, so
/// no worker is ever interrupted by a stop signal.
/// @par Thread safety
/// One per process, used by main only.
class StopSignals {
public:
    StopSignals() noexcept {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
        std::signal(SIGPIPE, SIG_IGN);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    /// Blocks until SIGTERM or SIGINT arrives; returns which. Each SIGHUP before that calls
    /// @p on_hangup (when given) and waits on: a rotation never stops the service.
    template <typename OnHangup>
    int wait(OnHangup&& on_hangup) const {
        for (;;) {
            int sig = 0;
            sigwait(&set_, &sig);
            if (sig != SIGHUP) {
                return sig;
            }
            on_hangup();
        }
    }
    int wait() const {
        return wait([] {});
    }

private:
    sigset_t set_{};
};

}  // namespace moneta::core
