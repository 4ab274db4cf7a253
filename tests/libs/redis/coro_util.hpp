#pragma once

// Runs coroutines to completion on a test's io_context, bounded in time.

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

namespace moneta::redis::testing {

/// Runs @p aw on @p io until it completes (the io_context also runs the client's background
/// tasks meanwhile). Fails the test and returns nullopt after @p limit.
template <class T>
std::optional<T> run(boost::asio::io_context& io,
                     boost::asio::awaitable<T> aw,
                     std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    // Shared: if the limit passes, the coroutine may still complete later (or be destroyed
    // with the io_context) after this function returned.
    struct State {
        std::optional<T> result;
        std::exception_ptr error;
        bool done = false;
    };
    auto state = std::make_shared<State>();
    boost::asio::co_spawn(io, std::move(aw), [state](std::exception_ptr e, T v) {
        state->error = e;
        if (!e) {
            state->result.emplace(std::move(v));
        }
        state->done = true;
    });
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!state->done && std::chrono::steady_clock::now() < until) {
        io.restart();
        io.run_one_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(state->done) << "coroutine did not finish within " << limit.count() << " ms";
    if (state->error) {
        std::rethrow_exception(state->error);
    }
    return std::move(state->result);
}

/// Runs ready handlers and waits up to @p limit for @p pred (polling the io_context).
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred pred, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < until) {
        io.restart();
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return pred();
}

}  // namespace moneta::redis::testing
