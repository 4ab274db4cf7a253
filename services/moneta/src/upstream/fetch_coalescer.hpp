/// @file services/moneta/src/upstream/fetch_coalescer.hpp
/// @brief Process-wide singleflight for internal API reads: concurrent fetches of the same
/// (resource, id) from any worker make one call, and every caller gets its own copy.
#pragma once

#include <atomic>

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

/// The first caller for a key (the leader) runs api.async_get on its own executor with its own
/// api (the per-worker client it passed in). Callers arriving while that runs (followers, on
/// any thread) wait; the result is posted to each follower's own executor, as its own copy.
///
/// - A follower stops waiting when its own deadline passes (kDeadlineExceeded) or when it is
///   cancelled (kCancelled); the leader and the other followers carry on.
/// - The leader's result is everyone's result, failures included (no second call for a
///   follower). In particular a follower also gets the leader's kDeadlineExceeded when the
///   leader's (shorter) deadline ended the call.
/// - If the leader's coroutine is cancelled (its call returns kCancelled) or destroyed mid-flight
///   (its io_context shut down), the followers are released with kCancelled.
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
    explicit FetchCoalescer(const core::Clock& clock = core::SystemClock::instance()) noexcept;
    FetchCoalescer(const FetchCoalescer&) = delete;
    FetchCoalescer& operator=(const FetchCoalescer&) = delete;
    ~FetchCoalescer();

    /// api.async_get(r, id, ctx), shared with concurrent callers of the same (r, id).
    /// @return the fetch's result; kDeadlineExceeded when @p ctx's deadline passed (before the
    /// call, or while following); kCancelled when this caller or the leader was cancelled.
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

    /// Removes @p flight from the map and hands @p result (a copy each) to its waiters.
    void publish(Flight& flight, const core::Result<Fetched>& result) noexcept;
    void leave(Flight& flight, const Waiter& waiter) noexcept;

    const core::Clock& clock_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // guarded by mu_
    std::atomic<std::uint64_t> coalesced_total_{0};
};

}  // namespace moneta::upstream
