/// @file services/moneta/src/upstream/fetch_coalescer.hpp
/// @brief Process-wide singleflight for internal API reads: concurrent fetches of the same
/// (resource, id) from any worker make one call, and every caller gets its own copy.
#pragma once

#include <atomic>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "moneta/core/clock.hpp"
#include "moneta/core/request_context.hpp"
#include "moneta/core/result.hpp"
#include "upstream/internal_api.hpp"

namespace moneta::upstream {

/// The first caller for a key starts api.async_get on its own executor with its own api (the
/// per-worker client it passed in), as a detached task with the coalescer's own deadline
/// (`fetch_timeout` from when it starts: the server's budget for one guarded read). Every caller,
/// the first included, then waits for that task's result, which is posted to each caller's own
/// executor as its own copy.
///
/// - The shared fetch never inherits a caller's deadline or cancellation: one client with a
///   1 ms X-Request-Timeout-Ms, or a caller that disconnects, cannot fail a fetch that other
///   callers (on any worker) are waiting for.
/// - A caller stops waiting when its own deadline passes (kDeadlineExceeded) or when it is
///   cancelled (kCancelled); the fetch and the other callers carry on.
/// - The fetch's result is everyone's result, failures included (no second call).
/// - If the fetch task is destroyed mid-flight (its io_context shut down), the waiters are
///   released with kCancelled.
/// - The map holds an entry only while its fetch runs, so a finished key is fetched afresh.
///
/// NOTE: deliberate simplifications.
/// - Followers wait on a steady_timer on their own executor, which must be single-threaded
///   (thread-per-core io_context, or a strand): the result is posted to it.
/// - Shutdown: stop every worker's io_context (run() returns) before destroying any of them;
///   a leader destroyed while another io_context is being destroyed could post to it.
/// - Follower deadlines are waited for in real time (std::chrono::steady_clock), converted
///   from the time left on the injected clock when the follower joins.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: safe (one mutex around the map and the waiter lists;
/// nothing is called or posted while it is held).
class FetchCoalescer {
public:
    /// @param clock the clock the callers' deadlines refer to; must outlive the coalescer.
    /// @param fetch_timeout the deadline of each shared fetch, from its start.
    explicit FetchCoalescer(
        const core::Clock& clock = core::SystemClock::instance(),
        core::Duration fetch_timeout = std::chrono::seconds(2)
    ) noexcept;
    FetchCoalescer(const FetchCoalescer&) = delete;
    FetchCoalescer& operator=(const FetchCoalescer&) = delete;
    ~FetchCoalescer();

    /// api.async_get(r, id, ctx), shared with concurrent callers of the same (r, id).
    /// @return the fetch's result; kDeadlineExceeded when @p ctx's deadline passed (before the
    /// call, or while waiting); kCancelled when this caller was cancelled or the fetch task was
    /// destroyed. The fetch is made with @p ctx's request id and trace, not its deadline.
    boost::asio::awaitable<core::Result<Fetched>> async_get(
        InternalApi& api, Resource r, std::string_view id, const core::RequestContext& ctx
    );

    /// Callers that joined a running fetch instead of making their own.
    std::uint64_t coalesced_total() const noexcept {
        return coalesced_total_.load(std::memory_order_relaxed);
    }
    /// Fetches running now (entries in the map).
    std::size_t in_flight() const;

private:
    struct Flight;
    struct Waiter;
    class LeaderGuard;
    class FollowerGuard;

    /// The shared fetch, detached on the first caller's executor; publishes its result.
    boost::asio::awaitable<void> async_fetch(
        InternalApi& api, Resource r, std::string id, core::RequestContext ctx,
        std::shared_ptr<Flight> flight
    );

    /// Removes @p flight from the map and hands @p result (a copy each) to its waiters, except
    /// those on @p dying (an io_context being destroyed; null: none).
    void publish(
        Flight& flight, const core::Result<Fetched>& result, const boost::asio::any_io_executor* dying
    ) noexcept;
    void leave(Flight& flight, const Waiter& waiter) noexcept;

    const core::Clock& clock_;
    const core::Duration fetch_timeout_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // guarded by mu_
    std::atomic<std::uint64_t> coalesced_total_{0};
};

}  // namespace moneta::upstream
