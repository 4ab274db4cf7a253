#pragma once

// A real redis-server per test plus a Client on a test-owned io_context.

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coro_util.hpp"
#include "moneta/redis/client.hpp"
#include "moneta/testing/redis_server.hpp"

namespace moneta::redis::testing {

using namespace std::chrono_literals;

/// Owns its arguments, so it can be spawned and forgotten.
inline boost::asio::awaitable<core::Result<Reply>> owned_command(Client& client,
                                                                 std::vector<std::string> args,
                                                                 core::Deadline deadline,
                                                                 CommandControl control = {}) {
    std::vector<std::string_view> views(args.begin(), args.end());
    co_return co_await client.async_command(views, deadline, control);
}

/// Results of calls spawned in the background, filled in as they complete.
struct Outcomes {
    std::vector<std::optional<core::Result<Reply>>> results;
    std::size_t done = 0;
};

class RedisClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto server = moneta::testing::RedisServer::start(server_options());
        ASSERT_TRUE(server) << "redis-server: " << server.error().message();
        redis_.emplace(std::move(*server));
    }

    void TearDown() override {
        if (client_) {
            run(io_, [](Client& c) -> boost::asio::awaitable<int> {
                co_await c.async_stop();
                co_return 0;
            }(*client_), 10s);
            client_.reset();
        }
    }

    virtual moneta::testing::RedisServerOptions server_options() { return {}; }

    ClientConfig base_config() const {
        ClientConfig c;
        c.port = redis_->port();
        c.reconnect_backoff_min = 10ms;
        c.reconnect_backoff_max = 100ms;
        c.command_timeout = 2s;  // generous under ASan; timeout tests set their own
        return c;
    }

    /// Creates client_, starts it and waits until it is connected.
    Client& connect(ClientConfig config, core::Clock& clock = core::SystemClock::instance()) {
        client_ = std::make_unique<Client>(io_.get_executor(), std::move(config), clock);
        client_->start();
        EXPECT_TRUE(run_until(io_, [&] { return client_->connected(); }, 10s))
            << "client did not connect: " << client_->last_error();
        return *client_;
    }

    /// One command to completion.
    core::Result<Reply> call(std::vector<std::string> args,
                             core::Deadline deadline = core::Deadline::never(),
                             CommandControl control = {}) {
        auto r = run(io_, owned_command(*client_, std::move(args), deadline, control));
        if (!r) {
            return core::make_error(core::Errc::kInternal);
        }
        return std::move(*r);
    }

    /// Starts a call without waiting; its result lands in out->results[index].
    void spawn(std::vector<std::string> args,
               std::shared_ptr<Outcomes> out,
               std::size_t index,
               core::Deadline deadline = core::Deadline::never(),
               CommandControl control = {}) {
        boost::asio::co_spawn(io_, owned_command(*client_, std::move(args), deadline, control),
                              [out, index](std::exception_ptr, core::Result<Reply> r) {
                                  out->results[index] = std::move(r);
                                  ++out->done;
                              });
    }

    bool run_until_done(const Outcomes& out, std::chrono::milliseconds limit = 10s) {
        return run_until(io_, [&] { return out.done == out.results.size(); }, limit);
    }

    std::optional<moneta::testing::RedisServer> redis_;
    boost::asio::io_context io_;            // declared before client_: outlives it
    std::unique_ptr<Client> client_;
};

}  // namespace moneta::redis::testing
