#include "store/lease_store.hpp"

#include <charconv>

#include "store/keys.hpp"
#include "store/lease_scripts.hpp"

namespace moneta::store {
namespace {

using core::Errc;

/// Decimal text of an integer in a small stack buffer (Redis arguments are strings).
class IntArg {
public:
    explicit IntArg(std::int64_t v) noexcept {
        const auto r = std::to_chars(buf_, buf_ + sizeof buf_, v);
        len_ = static_cast<std::size_t>(r.ptr - buf_);
    }
    std::string_view view() const noexcept { return {buf_, len_}; }

private:
    char buf_[24];
    std::size_t len_ = 0;
};

std::optional<std::int64_t> int_at(const redis::ReplyView& v) noexcept { return v.to_int64(); }

}  // namespace

LeaseStore::LeaseStore(redis::Commands& redis, LeaseSettings settings)
    : redis_(redis),
      settings_(settings),
      start_script_(lease_start_script()),
      heartbeat_script_(lease_heartbeat_script()),
      stop_script_(lease_stop_script()) {}

boost::asio::awaitable<core::Result<domain::LeaseOutcome>> LeaseStore::async_acquire(
    std::string_view account_id, int max_streams, const domain::SessionInfo& info,
    std::string_view replace_session_id, std::int64_t now_ms, core::Deadline deadline) {
    KeyBuffer kb;
    lease_keys(kb, account_id);
    const IntArg now(now_ms);
    const IntArg lease(settings_.lease.count());
    const IntArg max(max_streams);
    const IntArg tomb(settings_.tombstone.count());
    const std::string info_json = domain::encode_session_info(info);
    const std::string_view args[] = {now.view(),     lease.view(), max.view(),
                                     info.session_id, info.device_id, info_json,
                                     replace_session_id, tomb.view()};
    auto reply = co_await redis_.async_eval(start_script_, std::span(kb.data(), 4), args, deadline);
    if (!reply) {
        co_return reply.error();
    }
    const redis::Reply& r = *reply;
    if (r.is_error()) {
        co_return core::make_error(Errc::kUpstreamError);  // a script error: a bug or a bad key type
    }
    if (!r.is_array() || r.size() < 1) {
        co_return core::make_error(Errc::kProtocolError);
    }
    const auto status = int_at(r[0]);
    if (status == 1 && r.size() == 4) {
        domain::LeaseGranted g;
        g.expires_at_ms = int_at(r[1]).value_or(0);
        g.active_streams = static_cast<int>(int_at(r[2]).value_or(0));
        g.replaced_session_id = std::string(r[3].as_string_view());
        co_return domain::LeaseOutcome{std::move(g)};
    }
    if (status == 0 && (r.size() - 1) % 3 == 0) {
        domain::LeaseDenied d;
        for (std::size_t i = 1; i + 2 < r.size(); i += 3) {
            domain::ActiveSession a;
            a.info = domain::decode_session_info(r[i + 1].as_string_view());
            a.info.session_id = std::string(r[i].as_string_view());
            const std::int64_t expiry = int_at(r[i + 2]).value_or(0);
            // The score is the lease expiry, set to last_seen + lease at each renewal.
            a.last_seen_ms = expiry - settings_.lease.count();
            d.active.push_back(std::move(a));
        }
        co_return domain::LeaseOutcome{std::move(d)};
    }
    co_return core::make_error(Errc::kProtocolError);
}

boost::asio::awaitable<core::Result<domain::HeartbeatOutcome>> LeaseStore::async_renew(
    std::string_view account_id, std::string_view session_id, std::int64_t now_ms,
    core::Deadline deadline) {
    KeyBuffer kb;
    lease_keys(kb, account_id);
    const IntArg now(now_ms);
    const IntArg lease(settings_.lease.count());
    const IntArg tomb(settings_.tombstone.count());
    const std::string_view args[] = {now.view(), lease.view(), session_id, tomb.view()};
    auto reply =
        co_await redis_.async_eval(heartbeat_script_, std::span(kb.data(), 4), args, deadline);
    if (!reply) {
        co_return reply.error();
    }
    const redis::Reply& r = *reply;
    if (r.is_error()) {
        co_return core::make_error(Errc::kUpstreamError);  // a script error: a bug or a bad key type
    }
    if (!r.is_array() || r.size() < 1) {
        co_return core::make_error(Errc::kProtocolError);
    }
    domain::HeartbeatOutcome out;
    switch (int_at(r[0]).value_or(-1)) {
        case 1:
            out.status = domain::HeartbeatStatus::kRenewed;
            out.expires_at_ms = int_at(r[1]).value_or(0);
            break;
        case 2: out.status = domain::HeartbeatStatus::kEvicted; break;
        case 0: out.status = domain::HeartbeatStatus::kNotFound; break;
        default: co_return core::make_error(Errc::kProtocolError);
    }
    co_return out;
}

boost::asio::awaitable<core::Result<bool>> LeaseStore::async_release(std::string_view account_id,
                                                                     std::string_view session_id,
                                                                     std::int64_t now_ms,
                                                                     core::Deadline deadline) {
    KeyBuffer kb;
    lease_keys(kb, account_id);
    const IntArg now(now_ms);
    const std::string_view args[] = {now.view(), session_id};
    auto reply = co_await redis_.async_eval(stop_script_, std::span(kb.data(), 4), args, deadline);
    if (!reply) {
        co_return core::Result<bool>(boost::system::in_place_error, reply.error());
    }
    const auto v = reply->as_integer();
    if (!v) {
        co_return core::Result<bool>(boost::system::in_place_error,
                                     core::make_error(Errc::kProtocolError));
    }
    co_return *v == 1;
}

}  // namespace moneta::store
