#pragma once

// Two fakes of upstream::InternalApi: ScriptedApi answers each call from a script, in order;
// ManualApi keeps every call pending until the test completes them (from any thread).

#include <atomic>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "upstream/internal_api.hpp"

namespace moneta::upstream::testing {

inline core::Result<Fetched> answer(int status, std::string body = "{}") {
    return Fetched{status, std::move(body)};
}
inline core::Result<Fetched> failure(core::Errc e) { return core::make_error(e); }

/// Answers calls from a script (200 "{}" once it runs out) and records what was called:
/// "get account <id>", "get content <id>", "progress <profile>", "upsert".
class ScriptedApi final : public InternalApi {
public:
    std::deque<core::Result<Fetched>> script;
    std::vector<std::string> calls;
    /// Runs inside each call, before it answers (e.g. to look at the bulkhead mid-call).
    std::function<void()> during_call;

    boost::asio::awaitable<core::Result<Fetched>>
    async_get(Resource resource, std::string_view id, const core::RequestContext&) override {
        calls.push_back(
            std::string(resource == Resource::kAccount ? "get account " : "get content ") +
            std::string(id)
        );
        co_return next();
    }
    boost::asio::awaitable<core::Result<Fetched>>
    async_get_progress(std::string_view profile_id, std::string_view, const core::RequestContext&)
        override {
        calls.push_back("progress " + std::string(profile_id));
        co_return next();
    }
    boost::asio::awaitable<core::Result<Fetched>>
    async_upsert_progress(std::string_view, const core::RequestContext&) override {
        calls.push_back("upsert");
        co_return next();
    }

private:
    core::Result<Fetched> next() {
        if (during_call) {
            during_call();
        }
        if (script.empty()) {
            return answer(200);
        }
        auto r = std::move(script.front());
        script.pop_front();
        return r;
    }
};

/// Every call waits (on a timer of the caller's executor) until complete() is called; calls made
/// after complete() answer at once. A call whose coroutine is cancelled answers kCancelled.
/// @par Thread safety
/// complete() and calls() from any thread; the calls themselves on their own executors.
class ManualApi final : public InternalApi {
public:
    int calls() const { return calls_.load(); }

    /// Answers every pending and future call with @p r.
    void complete(core::Result<Fetched> r) {
        std::vector<std::weak_ptr<boost::asio::steady_timer>> pending;
        {
            std::lock_guard lock(mu_);
            result_ = std::move(r);
            pending.swap(pending_);
        }
        for (auto& weak : pending) {
            if (auto t = weak.lock()) {
                boost::asio::post(t->get_executor(), [t] { t->cancel(); });
            }
        }
    }

    boost::asio::awaitable<core::Result<Fetched>>
    async_get(Resource, std::string_view, const core::RequestContext& ctx) override {
        {
            std::lock_guard lock(mu_);
            last_deadline_ = ctx.deadline;
        }
        co_return co_await wait();
    }
    /// The deadline the last async_get was made with.
    core::Deadline last_deadline() const {
        std::lock_guard lock(mu_);
        return last_deadline_;
    }
    boost::asio::awaitable<core::Result<Fetched>>
    async_get_progress(std::string_view, std::string_view, const core::RequestContext&) override {
        co_return co_await wait();
    }
    boost::asio::awaitable<core::Result<Fetched>>
    async_upsert_progress(std::string_view, const core::RequestContext&) override {
        co_return co_await wait();
    }

private:
    boost::asio::awaitable<core::Result<Fetched>> wait() {
        ++calls_;
        auto timer = std::make_shared<boost::asio::steady_timer>(
            co_await boost::asio::this_coro::executor, boost::asio::steady_timer::time_point::max()
        );
        {
            std::lock_guard lock(mu_);
            if (result_) {
                co_return *result_;
            }
            pending_.push_back(timer
            );  // weak: the frame owns the timer (it may die with its io_context)
        }
        co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        std::lock_guard lock(mu_);
        if (result_) {
            co_return *result_;
        }
        co_return core::make_error(core::Errc::kCancelled);
    }

    std::atomic<int> calls_{0};
    mutable std::mutex mu_;
    std::optional<core::Result<Fetched>> result_;                    // guarded by mu_
    core::Deadline last_deadline_;                                   // guarded by mu_
    std::vector<std::weak_ptr<boost::asio::steady_timer>> pending_;  // guarded by mu_
};

}  // namespace moneta::upstream::testing
