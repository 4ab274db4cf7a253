#include "moneta/redis/client.hpp"

#include "client_impl.hpp"

namespace moneta::redis {

Client::Client(boost::asio::any_io_executor executor, ClientConfig config, core::Clock& clock)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), clock)) {}

Client::~Client() { impl_->stop(); }

void Client::start() { impl_->start(); }

void Client::stop() { impl_->stop(); }

boost::asio::awaitable<void> Client::async_stop() { return impl_->async_stop(); }

boost::asio::awaitable<bool> Client::async_wait_connected(Duration timeout) {
    return impl_->async_wait_connected(timeout);
}

bool Client::connected() const noexcept { return impl_->connected(); }

const ClientStats& Client::stats() const noexcept { return impl_->stats(); }

std::string Client::last_error() const { return impl_->last_error(); }

const ClientConfig& Client::config() const noexcept { return impl_->config(); }

boost::asio::awaitable<core::Result<Reply>> Client::do_async_command(
    std::span<const std::string_view> args, core::Deadline deadline, CommandControl control) {
    return impl_->async_command(args, deadline, control);
}

boost::asio::awaitable<core::Result<Replies>> Client::do_async_pipeline(
    const Pipeline& pipeline, core::Deadline deadline, CommandControl control) {
    return impl_->async_pipeline(pipeline, deadline, control);
}

boost::asio::awaitable<core::Result<Reply>> Client::do_async_eval(
    const Script& script,
    std::span<const std::string_view> keys,
    std::span<const std::string_view> args,
    core::Deadline deadline,
    CommandControl control) {
    return impl_->async_eval(script, keys, args, deadline, control);
}

}  // namespace moneta::redis
