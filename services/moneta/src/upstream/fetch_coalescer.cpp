#include "upstream/fetch_coalescer.hpp"

#include <algorithm>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace moneta::upstream {

using core::Errc;

/// One follower. Created and read on the follower's executor; the leader only posts to it.
struct FetchCoalescer::Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex) : executor(ex), timer(ex) {}
    boost::asio::any_io_executor executor;
    boost::asio::steady_timer timer;              // the follower's deadline; cancelled to wake it
    std::optional<core::Result<Fetched>> result;  // set by the posted delivery, before waking
};

/// One running fetch.
struct FetchCoalescer::Flight {
    explicit Flight(std::string k) : key(std::move(k)) {}
    const std::string key;
    bool published = false;                        // guarded by mu_
    std::vector<std::shared_ptr<Waiter>> waiters;  // guarded by mu_
};

/// Publishes kCancelled if the fetch's frame goes away (destroyed with its io_context) before
/// it published a result, so no caller waits for a fetch that ended. Callers on that same
/// io_context are being destroyed too: nothing is posted to them (it is shutting down).
class FetchCoalescer::LeaderGuard {
public:
    LeaderGuard(FetchCoalescer& owner, std::shared_ptr<Flight> flight, boost::asio::any_io_executor ex) noexcept
        : owner_(owner), flight_(std::move(flight)), executor_(std::move(ex)) {}
    LeaderGuard(const LeaderGuard&) = delete;
    LeaderGuard& operator=(const LeaderGuard&) = delete;
    ~LeaderGuard() { owner_.publish(*flight_, core::make_error(Errc::kCancelled), &executor_); }

    void publish(const core::Result<Fetched>& r) noexcept { owner_.publish(*flight_, r, nullptr); }

private:
    FetchCoalescer& owner_;
    std::shared_ptr<Flight> flight_;
    boost::asio::any_io_executor executor_;
};

/// Takes the follower off its flight's list however its frame ends, so the leader never posts
/// to a follower (or an io_context) that is gone.
class FetchCoalescer::FollowerGuard {
public:
    FollowerGuard(
        FetchCoalescer& owner, std::shared_ptr<Flight> flight, const Waiter& waiter
    ) noexcept
        : owner_(owner), flight_(std::move(flight)), waiter_(waiter) {}
    FollowerGuard(const FollowerGuard&) = delete;
    FollowerGuard& operator=(const FollowerGuard&) = delete;
    ~FollowerGuard() { owner_.leave(*flight_, waiter_); }

private:
    FetchCoalescer& owner_;
    std::shared_ptr<Flight> flight_;
    const Waiter& waiter_;
};

FetchCoalescer::FetchCoalescer(const core::Clock& clock, core::Duration fetch_timeout) noexcept
    : clock_(clock), fetch_timeout_(fetch_timeout) {}

FetchCoalescer::~FetchCoalescer() = default;

std::size_t FetchCoalescer::in_flight() const {
    std::lock_guard lock(mu_);
    return flights_.size();
}

void FetchCoalescer::publish(
    Flight& flight, const core::Result<Fetched>& result, const boost::asio::any_io_executor* dying
) noexcept {
    std::vector<std::shared_ptr<Waiter>> waiters;
    {
        std::lock_guard lock(mu_);
        if (flight.published) {
            return;  // the guard's destructor after a normal publish
        }
        flight.published = true;
        auto it = flights_.find(flight.key);
        if (it != flights_.end() && it->second.get() == &flight) {
            flights_.erase(it);
        }
        waiters.swap(flight.waiters);
    }
    for (auto& w : waiters) {
        if (dying != nullptr && w->executor == *dying) {
            continue;
        }
        // The timer and result belong to the follower's (single-threaded) executor: touch them
        // only there. Each follower gets its own copy of the body.
        boost::asio::any_io_executor ex = w->executor;
        boost::asio::post(ex, [w = std::move(w), r = result]() mutable {
            w->result.emplace(std::move(r));
            w->timer.cancel();
        });
    }
}

void FetchCoalescer::leave(Flight& flight, const Waiter& waiter) noexcept {
    std::lock_guard lock(mu_);
    auto& ws = flight.waiters;
    ws.erase(
        std::remove_if(ws.begin(), ws.end(), [&](const auto& w) { return w.get() == &waiter; }),
        ws.end()
    );
}

boost::asio::awaitable<void> FetchCoalescer::async_fetch(
    InternalApi& api, Resource r, std::string id, core::RequestContext ctx, std::shared_ptr<Flight> flight
) {
    LeaderGuard guard(*this, std::move(flight), co_await boost::asio::this_coro::executor);
    core::Result<Fetched> result = co_await api.async_get(r, id, ctx);
    guard.publish(result);
}

boost::asio::awaitable<core::Result<Fetched>> FetchCoalescer::async_get(
    InternalApi& api, Resource r, std::string_view id, const core::RequestContext& ctx
) {
    if (ctx.deadline.expired(clock_)) {
        co_return core::make_error(Errc::kDeadlineExceeded);
    }
    std::string key;
    key.reserve(id.size() + 2);
    key += r == Resource::kAccount ? 'a' : 'c';
    key += ':';
    key += id;
    const boost::asio::any_io_executor ex = co_await boost::asio::this_coro::executor;

    std::shared_ptr<Flight> flight;
    bool first = false;
    const auto waiter = std::make_shared<Waiter>(ex);
    {
        std::lock_guard lock(mu_);
        auto it = flights_.find(key);
        if (it == flights_.end()) {
            flight = std::make_shared<Flight>(key);
            flights_.emplace(std::move(key), flight);
            first = true;
        } else {
            flight = it->second;
            coalesced_total_.fetch_add(1, std::memory_order_relaxed);
        }
        flight->waiters.push_back(waiter);
    }
    if (first) {
        // The shared fetch gets the server's own budget, not this caller's deadline; it runs on
        // this worker (its api client is this worker's) and outlives this caller if need be.
        core::RequestContext fetch_ctx{ctx.request_id, ctx.trace, ctx.parent,
                                       core::Deadline::after(clock_, fetch_timeout_), ctx.tracestate};
        boost::asio::co_spawn(
            ex, async_fetch(api, r, std::string(id), std::move(fetch_ctx), flight), boost::asio::detached
        );
    }

    FollowerGuard guard(*this, std::move(flight), *waiter);
    if (ctx.deadline.is_reachable()) {
        // Real time left on our deadline (bounded so the addition cannot overflow).
        waiter->timer.expires_after(
            std::min<core::Duration>(ctx.deadline.time_left(clock_), std::chrono::hours(24))
        );
    } else {
        waiter->timer.expires_at(boost::asio::steady_timer::time_point::max());
    }
    // Nothing can be delivered before this wait starts: deliveries are posted to this executor.
    auto [ec] =
        co_await waiter->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (waiter->result) {
        co_return std::move(*waiter->result);
    }
    // Not delivered: our own deadline fired, or our caller cancelled us.
    co_return core::make_error(ec ? Errc::kCancelled : Errc::kDeadlineExceeded);
}

}  // namespace moneta::upstream
