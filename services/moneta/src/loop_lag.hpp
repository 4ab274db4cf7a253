/// @file services/moneta/src/loop_lag.hpp
/// @brief Event-loop lag of one worker: a timer due every `interval` measures how late it fires.
/// A loop busy with a long handler, a blocking call or a burst fires it late; that lateness is
/// the wait every request queued behind it had too.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>

#include "moneta/core/clock.hpp"
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/registry.hpp"

namespace moneta {

/// One worker's lag (single writer: that worker's loop; read by the scrape).
struct LoopLagStats {
    /// moneta_event_loop_lag_seconds{worker}: every tick's lateness.
    metrics::LocalHistogram<metrics::kLatencyBounds> lag;
    /// moneta_event_loop_lag_max_seconds{worker}: the largest lateness of the current and the
    /// previous window (LoopLagMonitor::kWindow each), so a 15 s scrape never misses a spike and
    /// the gauge falls back within two windows once the loop is idle again.
    std::atomic<double> recent_max_seconds{0};
};

/// Runs on the worker's executor. Costs one timer wakeup per interval (5 per second at the
/// default 200 ms), no allocation per tick.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe — start() and stop() on the executor's thread
/// (or before it runs).
class LoopLagMonitor {
public:
    static constexpr std::chrono::milliseconds kDefaultInterval{200};
    static constexpr std::chrono::seconds kWindow{10};

    LoopLagMonitor(boost::asio::any_io_executor executor, const core::Clock& clock, LoopLagStats& stats,
                   std::chrono::milliseconds interval = kDefaultInterval);
    ~LoopLagMonitor();
    LoopLagMonitor(const LoopLagMonitor&) = delete;
    LoopLagMonitor& operator=(const LoopLagMonitor&) = delete;

    /// Spawns the ticking coroutine on the executor.
    void start();
    /// Cancels the timer: the coroutine ends at its next resumption, so the loop can run dry.
    void stop();

    /// One tick, measured: @p late is how much later than due the timer fired (negative counts
    /// as 0). Public for the unit test (fake clock, no timer).
    void record(core::Duration late, core::SteadyTime now) noexcept;

private:
    boost::asio::awaitable<void> run();

    boost::asio::any_io_executor executor_;
    const core::Clock& clock_;
    LoopLagStats& stats_;
    std::chrono::milliseconds interval_;
    std::shared_ptr<boost::asio::steady_timer> timer_;  ///< shared with the running coroutine
    std::shared_ptr<bool> stopped_;
    // The writer's own window bookkeeping (not shared).
    core::SteadyTime window_start_{};
    double current_max_ = 0;
    double previous_max_ = 0;
};

}  // namespace moneta
