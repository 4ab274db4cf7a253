#include "moneta/core/one_shot_wait.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace moneta::core {
namespace {

namespace net = boost::asio;
using boost::system::error_code;
constexpr auto kUseAwaitable = net::as_tuple(net::use_awaitable);

// A coroutine that waits once on its own OneShotWait and records the outcome.
struct Probe {
    OneShotWait wait;
    std::optional<error_code> result;
};

net::awaitable<void> wait_once(WaitList& list, Probe& probe) {
    auto [ec] = co_await probe.wait.async_wait(list, kUseAwaitable);
    probe.result = ec;
}

TEST(OneShotWaitTest, CompletionRunsTheWaiterInALaterTurnNeverInline) {
    net::io_context io;
    WaitList list(io.get_executor());
    Probe probe;
    net::co_spawn(io, wait_once(list, probe), net::detached);
    io.poll();
    ASSERT_TRUE(probe.wait.pending());
    EXPECT_FALSE(list.empty());

    EXPECT_TRUE(probe.wait.complete());
    EXPECT_FALSE(probe.wait.pending());
    EXPECT_TRUE(list.empty());
    EXPECT_FALSE(probe.result.has_value()) << "the waiter ran inside complete()";
    io.poll();
    ASSERT_TRUE(probe.result.has_value());
    EXPECT_FALSE(*probe.result);
    EXPECT_FALSE(probe.wait.complete()) << "nothing is pending any more";
}

TEST(OneShotWaitTest, DeliversTheErrorCodeItIsCompletedWith) {
    net::io_context io;
    WaitList list(io.get_executor());
    Probe probe;
    net::co_spawn(io, wait_once(list, probe), net::detached);
    io.poll();
    probe.wait.complete(net::error::connection_reset);
    io.poll();
    ASSERT_TRUE(probe.result.has_value());
    EXPECT_EQ(*probe.result, net::error::connection_reset);
}

TEST(OneShotWaitTest, IsReusableOnceCompleted) {
    net::io_context io;
    WaitList list(io.get_executor());
    OneShotWait wait;
    int woken = 0;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            for (int i = 0; i < 3; ++i) {
                auto [ec] = co_await wait.async_wait(list, kUseAwaitable);
                if (!ec) {
                    ++woken;
                }
            }
        },
        net::detached
    );
    for (int i = 0; i < 3; ++i) {
        io.poll();
        ASSERT_TRUE(wait.complete()) << i;
    }
    io.poll();
    EXPECT_EQ(woken, 3);
    EXPECT_TRUE(list.empty());
}

TEST(OneShotWaitTest, CancellingTheAwaitingCoroutineCompletesWithOperationAborted) {
    net::io_context io;
    WaitList list(io.get_executor());
    Probe probe;
    net::cancellation_signal cancel;
    net::co_spawn(
        io, wait_once(list, probe), net::bind_cancellation_slot(cancel.slot(), net::detached)
    );
    io.poll();
    ASSERT_TRUE(probe.wait.pending());
    cancel.emit(net::cancellation_type::terminal);  // co_spawn forwards it through the executor
    io.poll();
    ASSERT_TRUE(probe.result.has_value());
    EXPECT_EQ(*probe.result, net::error::operation_aborted);
    EXPECT_TRUE(list.empty());
    EXPECT_FALSE(probe.wait.complete());
}

TEST(OneShotWaitTest, CancellationThroughTheHandlersSlotCompletesLaterWithOperationAborted) {
    net::io_context io;
    WaitList list(io.get_executor());
    OneShotWait wait;
    net::cancellation_signal cancel;
    std::optional<error_code> result;
    wait.async_wait(list, net::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
                        result = ec;
                    }));
    cancel.emit(net::cancellation_type::partial);
    EXPECT_FALSE(wait.pending());
    EXPECT_TRUE(list.empty());
    EXPECT_FALSE(result.has_value()) << "cancellation must not run the handler inline";
    cancel.emit(net::cancellation_type::terminal);  // a second signal finds nothing to do
    EXPECT_FALSE(wait.complete());
    io.poll();
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(*result, net::error::operation_aborted);
}

TEST(OneShotWaitTest, ANormalCompletionDisconnectsTheCancellationHandler) {
    net::io_context io;
    WaitList list(io.get_executor());
    OneShotWait wait;
    net::cancellation_signal cancel;
    std::optional<error_code> result;
    wait.async_wait(list, net::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
                        result = ec;
                    }));
    ASSERT_TRUE(cancel.slot().has_handler());
    wait.complete();
    EXPECT_FALSE(cancel.slot().has_handler());
    cancel.emit(net::cancellation_type::terminal);  // must not touch the wait
    io.poll();
    ASSERT_TRUE(result.has_value());
    EXPECT_FALSE(*result);
}

// Counts what goes through it; stands for Asio's recycling allocator of a real handler.
struct AllocCounts {
    std::size_t allocations = 0;
    std::size_t deallocations = 0;
};

template <class T>
struct CountingAllocator {
    using value_type = T;
    AllocCounts* counts;
    explicit CountingAllocator(AllocCounts* c) noexcept : counts(c) {}
    template <class U>
    CountingAllocator(const CountingAllocator<U>& other) noexcept : counts(other.counts) {}
    T* allocate(std::size_t n) {
        ++counts->allocations;
        return std::allocator<T>{}.allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        ++counts->deallocations;
        std::allocator<T>{}.deallocate(p, n);
    }
    template <class U>
    bool operator==(const CountingAllocator<U>& other) const noexcept {
        return counts == other.counts;
    }
};

TEST(OneShotWaitTest, StoresTheHandlerWithItsAssociatedAllocatorAndFreesItBeforeTheUpcall) {
    net::io_context io;
    WaitList list(io.get_executor());
    OneShotWait wait;
    AllocCounts counts;
    bool ran = false;
    wait.async_wait(list, net::bind_allocator(CountingAllocator<void>(&counts), [&](error_code) {
                        ran = true;
                        EXPECT_EQ(counts.deallocations, counts.allocations);
                    }));
    EXPECT_EQ(counts.allocations, 1U);
    EXPECT_EQ(counts.deallocations, 0U);
    wait.complete();
    io.poll();
    EXPECT_TRUE(ran);
    EXPECT_EQ(counts.deallocations, 1U);
}

TEST(OneShotWaitTest, OneDrainRunsTheCompletedWaitsInOrderAndLaterCompletionsInTheNextOne) {
    net::io_context io;
    WaitList list(io.get_executor());
    OneShotWait a;
    OneShotWait b;
    OneShotWait c;
    std::vector<char> order;
    c.async_wait(list, [&](error_code) { order.push_back('c'); });
    a.async_wait(list, [&](error_code) {
        order.push_back('a');
        c.complete();  // from a handler: must wait for the next turn
    });
    b.async_wait(list, [&](error_code) { order.push_back('b'); });
    b.complete();
    a.complete();
    EXPECT_TRUE(order.empty());
    EXPECT_EQ(io.poll_one(), 1U);  // one drain for both
    EXPECT_EQ(order, (std::vector<char>{'b', 'a'}));
    EXPECT_EQ(io.poll_one(), 1U);
    EXPECT_EQ(order, (std::vector<char>{'b', 'a', 'c'}));
    EXPECT_EQ(io.poll(), 0U);
}

TEST(OneShotWaitTest, AHandlerBoundToAnotherExecutorRunsThere) {
    net::io_context io;
    net::io_context other;
    WaitList list(io.get_executor());
    OneShotWait wait;
    bool ran = false;
    wait.async_wait(list, net::bind_executor(other.get_executor(), [&](error_code) {
                        ran = true;
                    }));
    wait.complete();
    io.poll();
    EXPECT_FALSE(ran);
    other.poll();
    EXPECT_TRUE(ran);
}

TEST(OneShotWaitTest, DestroyingTheWaitListCompletesPendingWaitsWithOperationAborted) {
    net::io_context io;
    std::optional<error_code> a;
    std::optional<error_code> b;
    OneShotWait wa;
    OneShotWait wb;
    {
        WaitList list(io.get_executor());
        wa.async_wait(list, [&](error_code ec) { a = ec; });
        wb.async_wait(list, [&](error_code ec) { b = ec; });
    }
    EXPECT_FALSE(wa.pending());
    EXPECT_FALSE(wb.pending());
    io.poll();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, net::error::operation_aborted);
    EXPECT_EQ(*b, net::error::operation_aborted);
}

TEST(OneShotWaitTest, DestroyingAPendingWaitDropsItsHandlerWithoutRunningIt) {
    net::io_context io;
    WaitList list(io.get_executor());
    auto token = std::make_shared<int>(0);
    bool ran = false;
    {
        OneShotWait wait;
        wait.async_wait(list, [token, &ran](error_code) { ran = true; });
        EXPECT_EQ(token.use_count(), 2);
    }
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_TRUE(list.empty());
    io.poll();
    EXPECT_FALSE(ran);
}

TEST(OneShotWaitTest, CompletedWaitsNeverDrainedAreDestroyedWithTheIoContext) {
    auto io = std::make_unique<net::io_context>();
    auto token = std::make_shared<int>(0);
    bool ran = false;
    {
        WaitList list(io->get_executor());
        OneShotWait wait;
        wait.async_wait(list, [token, &ran](error_code) { ran = true; });
        wait.complete();  // queued for a drain that will never run
    }
    EXPECT_EQ(token.use_count(), 2);
    io.reset();
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_FALSE(ran);
}

// What a client does: the waits' list lives in state that the suspended frames keep alive,
// so handler -> frame -> state -> list is a cycle only the io_context's shutdown can break.
TEST(OneShotWaitTest, DestroyingTheIoContextFreesSuspendedCoroutinesAndTheirState) {
    struct State {
        explicit State(const net::any_io_executor& ex) : list(ex) {}
        WaitList list;
    };
    auto io = std::make_unique<net::io_context>();
    auto state = std::make_shared<State>(io->get_executor());
    std::weak_ptr<State> weak = state;
    int finished = 0;
    for (int i = 0; i < 3; ++i) {
        net::co_spawn(
            *io,
            [](std::shared_ptr<State> s, int& done) -> net::awaitable<void> {
                OneShotWait wait;  // in the frame, as a redis Waiter is
                co_await wait.async_wait(s->list, kUseAwaitable);
                ++done;
            }(state, finished),
            net::detached
        );
    }
    io->poll();
    ASSERT_FALSE(state->list.empty());
    state.reset();
    EXPECT_FALSE(weak.expired()) << "the suspended frames hold the state";
    io.reset();
    EXPECT_TRUE(weak.expired()) << "shutdown must destroy the stored handlers and their frames";
    EXPECT_EQ(finished, 0);
    // LeakSanitizer checks the frames and the handler blocks at exit.
}

}  // namespace
}  // namespace moneta::core
