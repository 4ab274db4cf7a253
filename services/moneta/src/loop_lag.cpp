#include "loop_lag.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace moneta {

LoopLagMonitor::LoopLagMonitor(boost::asio::any_io_executor executor, const core::Clock& clock,
                               LoopLagStats& stats, std::chrono::milliseconds interval)
    : executor_(std::move(executor)),
      clock_(clock),
      stats_(stats),
      interval_(interval),
      timer_(std::make_shared<boost::asio::steady_timer>(executor_)),
      stopped_(std::make_shared<bool>(false)) {}

LoopLagMonitor::~LoopLagMonitor() {
    stop();
}

void LoopLagMonitor::start() {
    boost::asio::co_spawn(executor_, run(), boost::asio::detached);
}

void LoopLagMonitor::stop() {
    *stopped_ = true;
    timer_->cancel();
}

void LoopLagMonitor::record(core::Duration late, core::SteadyTime now) noexcept {
    const double seconds = std::max(0.0, std::chrono::duration<double>(late).count());
    stats_.lag.observe(seconds);
    if (now - window_start_ >= kWindow) {
        // A gap of more than one window (the loop blocked that long) leaves no previous window.
        previous_max_ = now - window_start_ >= 2 * kWindow ? 0 : current_max_;
        current_max_ = 0;
        window_start_ = now;
    }
    current_max_ = std::max(current_max_, seconds);
    stats_.recent_max_seconds.store(std::max(current_max_, previous_max_), std::memory_order_relaxed);
}

boost::asio::awaitable<void> LoopLagMonitor::run() {
    // The timer and the flag are held by the frame too: stop() may run after this object's
    // owner started tearing down, and the frame may still be resumed once with operation_aborted.
    const std::shared_ptr<boost::asio::steady_timer> timer = timer_;
    const std::shared_ptr<bool> stopped = stopped_;
    window_start_ = clock_.steady_now();
    while (!*stopped) {
        const core::SteadyTime due = clock_.steady_now() + interval_;
        timer->expires_after(interval_);
        boost::system::error_code ec;
        co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec || *stopped) {
            co_return;
        }
        const core::SteadyTime now = clock_.steady_now();
        record(now - due, now);
    }
}

}  // namespace moneta
