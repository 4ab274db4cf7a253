#pragma once

// Shared by the store tests: a connected redis::Client on a test's io_context, and unwrapping
// the result of a store call run with coro_util's run().

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "coro_util.hpp"
#include "moneta/core/clock.hpp"
#include "moneta/core/result.hpp"
#include "moneta/redis/client.hpp"
#include "upstream/internal_api.hpp"

namespace moneta::store::test_util {

/// For tests whose store never needs the internal API: every call fails with kUnavailable.
class NoInternalApi final : public upstream::InternalApi {
public:
    boost::asio::awaitable<core::Result<upstream::Fetched>> async_get(upstream::Resource, std::string_view,
                                                                      const core::RequestContext&) override {
        co_return core::make_error(core::Errc::kUnavailable);
    }
    boost::asio::awaitable<core::Result<upstream::Fetched>> async_get_progress(std::string_view, std::string_view,
                                                                               const core::RequestContext&) override {
        co_return core::make_error(core::Errc::kUnavailable);
    }
    boost::asio::awaitable<core::Result<upstream::Fetched>> async_upsert_progress(
        std::string_view, const core::RequestContext&) override {
        co_return core::make_error(core::Errc::kUnavailable);
    }
};

/// A started client of 127.0.0.1:@p port, given up to 10 s to connect (check connected()).
inline std::unique_ptr<redis::Client> connect_client(boost::asio::io_context& io, std::uint16_t port) {
    redis::ClientConfig cfg;
    cfg.port = port;
    cfg.command_timeout = std::chrono::seconds(5);  // generous under ASan
    auto client = std::make_unique<redis::Client>(io.get_executor(), cfg, core::SystemClock::instance());
    client->start();
    redis::testing::run_until(io, [&] { return client->connected(); }, std::chrono::seconds(10));
    return client;
}

/// The value of a finished call, or a test failure (and a default value) when it did not finish
/// or failed. @p what names the call in the failure.
template <class T>
T value_of(std::optional<core::Result<T>> r, std::string_view what = "store call") {
    if (!r) {
        ADD_FAILURE() << what << ": did not finish";
        return T{};
    }
    if (!*r) {
        ADD_FAILURE() << what << " failed: " << r->error().message();
        return T{};
    }
    return std::move(**r);
}

}  // namespace moneta::store::test_util
