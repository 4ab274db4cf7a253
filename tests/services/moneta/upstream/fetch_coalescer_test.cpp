// FetchCoalescer: one internal API call per (resource, id) among concurrent callers on any
// io_context, under the coalescer's own deadline; every caller leaves on its own deadline or
// cancellation; a failed fetch fails everyone, a destroyed one releases everyone; the map only
// holds running fetches.
#include "upstream/fetch_coalescer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "coro_util.hpp"
#include "fake_internal_api.hpp"
#include "moneta/testing/wait.hpp"

namespace moneta::upstream {
namespace {

using namespace std::chrono_literals;
using core::Errc;
using moneta::testing::wait_until;
using testing::answer;
using testing::failure;
using testing::ManualApi;

core::RequestContext context(core::Deadline deadline = core::Deadline::never()) {
    core::RequestContext ctx;
    ctx.request_id = "req";
    ctx.deadline = deadline;
    return ctx;
}

/// Results of coroutines spawned on any thread, collected under a mutex.
class Results {
public:
    auto handler(std::size_t i) {
        return [this, i](std::exception_ptr e, core::Result<Fetched> r) {
            std::lock_guard lock(mu_);
            if (e) {
                errors_++;
            }
            results_.at(i) = std::move(r);
        };
    }
    explicit Results(std::size_t n) : results_(n) {}
    std::size_t done() const {
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        for (const auto& r : results_) {
            n += r.has_value() ? 1 : 0;
        }
        return n;
    }
    std::optional<core::Result<Fetched>> at(std::size_t i) const {
        std::lock_guard lock(mu_);
        return results_.at(i);
    }
    int errors() const {
        std::lock_guard lock(mu_);
        return errors_;
    }

private:
    mutable std::mutex mu_;
    std::vector<std::optional<core::Result<Fetched>>> results_;  // guarded by mu_
    int errors_ = 0;                                             // guarded by mu_
};

/// An io_context run by its own thread until stop().
class Worker {
public:
    Worker() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
    ~Worker() { stop(); }
    void stop() {
        guard_.reset();
        io_.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    boost::asio::io_context& io() { return io_; }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::thread thread_;
};

/// Polls several io_contexts from the test thread until @p pred holds.
template <class Pred>
bool poll_until(
    std::initializer_list<boost::asio::io_context*> ios, Pred pred, std::chrono::milliseconds limit
) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < until) {
        for (auto* io : ios) {
            io->restart();
            io->poll();
        }
        std::this_thread::yield();
    }
    return pred();
}

TEST(FetchCoalescerTest, ConcurrentCallersOnTwoThreadsMakeOneCall) {
    constexpr std::size_t kCallers = 16;
    FetchCoalescer coalescer;
    ManualApi api_a;  // each worker passes its own client
    ManualApi api_b;
    Results results(kCallers);
    const auto ctx = context();
    {
        Worker a;
        Worker b;
        boost::asio::co_spawn(
            a.io(), coalescer.async_get(api_a, Resource::kContent, "c1", ctx), results.handler(0)
        );
        ASSERT_TRUE(wait_until([&] { return api_a.calls() == 1; }, 5s, "leader called the API"));
        for (std::size_t i = 1; i < kCallers; ++i) {
            auto& w = i % 2 == 0 ? a : b;
            auto& api = i % 2 == 0 ? api_a : api_b;
            boost::asio::co_spawn(
                w.io(), coalescer.async_get(api, Resource::kContent, "c1", ctx), results.handler(i)
            );
        }
        ASSERT_TRUE(wait_until(
            [&] { return coalescer.coalesced_total() == kCallers - 1; }, 5s, "followers joined"
        ));
        EXPECT_EQ(coalescer.in_flight(), 1U);

        api_a.complete(answer(200, "the content"));
        ASSERT_TRUE(
            wait_until([&] { return results.done() == kCallers; }, 5s, "every caller answered")
        );
    }
    EXPECT_EQ(results.errors(), 0);
    for (std::size_t i = 0; i < kCallers; ++i) {
        auto r = results.at(i);
        ASSERT_TRUE(r && r->has_value()) << i;
        EXPECT_EQ((*r)->status, 200);
        EXPECT_EQ((*r)->body, "the content") << i;
    }
    EXPECT_EQ(api_a.calls(), 1);
    EXPECT_EQ(api_b.calls(), 0);
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

TEST(FetchCoalescerTest, DifferentKeysAreNotCoalescedAndFinishedKeysAreFetchedAgain) {
    FetchCoalescer coalescer;
    ManualApi api;
    api.complete(answer(200, "x"));  // answers at once
    boost::asio::io_context io;
    using redis::testing::run;
    const auto ctx = context();
    EXPECT_EQ((*run(io, coalescer.async_get(api, Resource::kAccount, "id", ctx)))->body, "x");
    EXPECT_EQ((*run(io, coalescer.async_get(api, Resource::kAccount, "id", ctx)))->body, "x");
    EXPECT_EQ(api.calls(), 2);
    EXPECT_EQ(coalescer.coalesced_total(), 0U);
    EXPECT_EQ(coalescer.in_flight(), 0U);

    // Same id, different resource: two flights.
    ManualApi pending;
    Results results(2);
    boost::asio::co_spawn(
        io, coalescer.async_get(pending, Resource::kAccount, "same", ctx), results.handler(0)
    );
    boost::asio::co_spawn(
        io, coalescer.async_get(pending, Resource::kContent, "same", ctx), results.handler(1)
    );
    io.restart();
    io.poll();
    EXPECT_EQ(pending.calls(), 2);
    EXPECT_EQ(coalescer.in_flight(), 2U);
    pending.complete(answer(200));
    ASSERT_TRUE(poll_until(
        {&io}, [&] { return results.done() == 2; }, 5s
    ));
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

TEST(FetchCoalescerTest, AFollowerLeavesOnItsOwnDeadlineAndTheOthersStillGetTheBody) {
    core::FakeClock clock;
    FetchCoalescer coalescer(clock);
    ManualApi api;
    boost::asio::io_context io_a;
    boost::asio::io_context io_b;
    Results results(3);
    const auto never = context();
    const auto hurried = context(core::Deadline::after(clock, 20ms));
    boost::asio::co_spawn(
        io_a, coalescer.async_get(api, Resource::kAccount, "a1", never), results.handler(0)
    );
    io_a.poll();
    boost::asio::co_spawn(
        io_b, coalescer.async_get(api, Resource::kAccount, "a1", hurried), results.handler(1)
    );
    boost::asio::co_spawn(
        io_b, coalescer.async_get(api, Resource::kAccount, "a1", never), results.handler(2)
    );
    io_b.poll();
    ASSERT_EQ(coalescer.coalesced_total(), 2U);

    // The hurried follower's 20 ms run out (a real timer on its io_context).
    ASSERT_TRUE(poll_until(
        {&io_a, &io_b}, [&] { return results.at(1).has_value(); }, 5s
    ));
    ASSERT_TRUE(results.at(1)->has_error());
    EXPECT_EQ(results.at(1)->error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_FALSE(results.at(0).has_value());
    EXPECT_FALSE(results.at(2).has_value());
    EXPECT_EQ(coalescer.in_flight(), 1U);

    api.complete(answer(200, "account"));
    ASSERT_TRUE(poll_until(
        {&io_a, &io_b}, [&] { return results.done() == 3; }, 5s
    ));
    EXPECT_EQ(results.at(0)->value().body, "account");
    EXPECT_EQ(results.at(2)->value().body, "account");
    EXPECT_EQ(api.calls(), 1);
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

TEST(FetchCoalescerTest, AnExpiredDeadlineNeitherLeadsNorFollows) {
    core::FakeClock clock;
    FetchCoalescer coalescer(clock);
    ManualApi api;
    boost::asio::io_context io;
    const auto ctx = context(core::Deadline::after(clock, 1ms));
    clock.advance(1ms);
    auto r = *redis::testing::run(io, coalescer.async_get(api, Resource::kAccount, "a1", ctx));
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_EQ(api.calls(), 0);
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

TEST(FetchCoalescerTest, LeaderFailurePropagatesToFollowers) {
    for (auto outcome : {failure(Errc::kConnectFailed), answer(500, "oops")}) {
        FetchCoalescer coalescer;
        ManualApi api;
        boost::asio::io_context io_a;
        boost::asio::io_context io_b;
        Results results(3);
        const auto ctx = context();
        boost::asio::co_spawn(
            io_a, coalescer.async_get(api, Resource::kContent, "c", ctx), results.handler(0)
        );
        io_a.poll();
        boost::asio::co_spawn(
            io_b, coalescer.async_get(api, Resource::kContent, "c", ctx), results.handler(1)
        );
        boost::asio::co_spawn(
            io_a, coalescer.async_get(api, Resource::kContent, "c", ctx), results.handler(2)
        );
        io_b.poll();
        io_a.poll();
        ASSERT_EQ(coalescer.coalesced_total(), 2U);
        api.complete(outcome);
        ASSERT_TRUE(poll_until(
            {&io_a, &io_b}, [&] { return results.done() == 3; }, 5s
        ));
        for (std::size_t i = 0; i < 3; ++i) {
            auto r = *results.at(i);
            ASSERT_EQ(r.has_value(), outcome.has_value()) << i;
            if (outcome) {
                EXPECT_EQ(r->status, 500);
                EXPECT_EQ(r->body, "oops");
            } else {
                EXPECT_EQ(r.error(), outcome.error());
            }
        }
        EXPECT_EQ(api.calls(), 1);
        EXPECT_EQ(coalescer.in_flight(), 0U);
    }
}

TEST(FetchCoalescerTest, DestroyedLeaderReleasesFollowersWithCancelled) {
    FetchCoalescer coalescer;
    ManualApi api;
    Results results(2);
    const auto ctx = context();
    Worker b;
    auto io_a = std::make_unique<boost::asio::io_context>();
    boost::asio::co_spawn(
        *io_a, coalescer.async_get(api, Resource::kAccount, "a1", ctx), results.handler(0)
    );
    io_a->poll();
    ASSERT_EQ(api.calls(), 1);
    boost::asio::co_spawn(
        b.io(), coalescer.async_get(api, Resource::kAccount, "a1", ctx), results.handler(1)
    );
    ASSERT_TRUE(wait_until([&] { return coalescer.coalesced_total() == 1; }, 5s, "follower joined")
    );

    io_a.reset();  // the leader's worker goes away mid-flight: its frame is destroyed
    ASSERT_TRUE(wait_until([&] { return results.at(1).has_value(); }, 5s, "follower released"));
    ASSERT_TRUE(results.at(1)->has_error());
    EXPECT_EQ(results.at(1)->error(), core::make_error(Errc::kCancelled));
    EXPECT_FALSE(results.at(0).has_value());  // never completed
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

TEST(FetchCoalescerTest, ACancelledFirstCallerLeavesAndTheSharedFetchGoesOn) {
    FetchCoalescer coalescer;
    ManualApi api;
    const auto ctx = context();
    boost::asio::io_context io;
    Results results(2);
    boost::asio::cancellation_signal cancel;
    boost::asio::co_spawn(
        io,
        coalescer.async_get(api, Resource::kAccount, "a1", ctx),
        boost::asio::bind_cancellation_slot(cancel.slot(), results.handler(0))
    );
    io.poll();
    boost::asio::co_spawn(
        io, coalescer.async_get(api, Resource::kAccount, "a1", ctx), results.handler(1)
    );
    io.poll();
    ASSERT_EQ(coalescer.coalesced_total(), 1U);
    cancel.emit(boost::asio::cancellation_type::terminal);  // e.g. the first client hung up
    ASSERT_TRUE(poll_until(
        {&io}, [&] { return results.at(0).has_value(); }, 5s
    ));
    EXPECT_EQ(results.at(0)->error(), core::make_error(Errc::kCancelled));
    EXPECT_FALSE(results.at(1).has_value());
    EXPECT_EQ(coalescer.in_flight(), 1U);

    api.complete(answer(200, "ok"));
    ASSERT_TRUE(poll_until(
        {&io}, [&] { return results.done() == 2; }, 5s
    ));
    EXPECT_EQ(results.at(1)->value().body, "ok");
    EXPECT_EQ(api.calls(), 1);
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

// Issue 10: the shared fetch ran under its first caller's deadline, so one client sending
// X-Request-Timeout-Ms: 1 failed the fetch for everyone waiting on the same account or title.
TEST(FetchCoalescerTest, TheSharedFetchRunsUnderItsOwnDeadlineNotTheFirstCallers) {
    core::FakeClock clock;
    FetchCoalescer coalescer(clock, 1500ms);
    ManualApi api;
    boost::asio::io_context io;
    Results results(2);
    const auto hurried = context(core::Deadline::after(clock, 5ms));
    boost::asio::co_spawn(
        io, coalescer.async_get(api, Resource::kContent, "c1", hurried), results.handler(0)
    );
    io.poll();
    ASSERT_EQ(api.calls(), 1);
    // The fetch got the coalescer's budget from now, not the caller's 5 ms.
    EXPECT_EQ(api.last_deadline().time_left(clock), 1500ms);
    const auto patient = context();  // outlives the lazily started coroutine
    boost::asio::co_spawn(
        io, coalescer.async_get(api, Resource::kContent, "c1", patient), results.handler(1)
    );
    io.poll();
    ASSERT_TRUE(poll_until(
        {&io}, [&] { return results.at(0).has_value(); }, 5s
    ));
    EXPECT_EQ(results.at(0)->error(), core::make_error(Errc::kDeadlineExceeded));
    EXPECT_FALSE(results.at(1).has_value()) << "the second caller still waits for the fetch";

    api.complete(answer(200, "title"));
    ASSERT_TRUE(poll_until(
        {&io}, [&] { return results.at(1).has_value(); }, 5s
    ));
    EXPECT_EQ(results.at(1)->value().body, "title");
    EXPECT_EQ(api.calls(), 1);
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

TEST(FetchCoalescerTest, ACancelledFollowerLeavesWithoutDisturbingTheLeader) {
    FetchCoalescer coalescer;
    ManualApi api;
    const auto ctx = context();
    boost::asio::io_context io;
    Results results(3);
    boost::asio::cancellation_signal cancel;
    boost::asio::co_spawn(
        io, coalescer.async_get(api, Resource::kAccount, "a1", ctx), results.handler(0)
    );
    boost::asio::co_spawn(
        io,
        coalescer.async_get(api, Resource::kAccount, "a1", ctx),
        boost::asio::bind_cancellation_slot(cancel.slot(), results.handler(1))
    );
    boost::asio::co_spawn(
        io, coalescer.async_get(api, Resource::kAccount, "a1", ctx), results.handler(2)
    );
    io.poll();
    ASSERT_EQ(coalescer.coalesced_total(), 2U);
    cancel.emit(boost::asio::cancellation_type::terminal);
    ASSERT_TRUE(poll_until(
        {&io}, [&] { return results.at(1).has_value(); }, 5s
    ));
    EXPECT_EQ(results.at(1)->error(), core::make_error(Errc::kCancelled));
    EXPECT_EQ(coalescer.in_flight(), 1U);

    api.complete(answer(200, "ok"));
    ASSERT_TRUE(poll_until(
        {&io}, [&] { return results.done() == 3; }, 5s
    ));
    EXPECT_EQ(results.at(0)->value().body, "ok");
    EXPECT_EQ(results.at(2)->value().body, "ok");
    EXPECT_EQ(api.calls(), 1);
    EXPECT_EQ(coalescer.in_flight(), 0U);
}

}  // namespace
}  // namespace moneta::upstream
