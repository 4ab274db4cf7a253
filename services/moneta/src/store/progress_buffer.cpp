#include "store/progress_buffer.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <utility>

#include "moneta/core/error.hpp"
#include "store/progress_store.hpp"
#include "store/redis_failure.hpp"

namespace moneta::store {
namespace {

using core::Errc;

/// Ids are validated ([A-Za-z0-9_-]), so a newline cannot occur inside either part.
std::string session_key(std::string_view account_id, std::string_view session_id) {
    std::string k;
    k.reserve(account_id.size() + 1 + session_id.size());
    k.append(account_id).push_back('\n');
    k.append(session_id);
    return k;
}

}  // namespace

void ProgressBufferStats::count(ProgressWrite w) noexcept {
    switch (w) {
        case ProgressWrite::kApplied: ++replay_applied_total; break;
        case ProgressWrite::kStale: ++replay_stale_total; break;
        case ProgressWrite::kZeroKept: ++replay_zero_kept_total; break;
        case ProgressWrite::kCapped: ++replay_capped_total; break;
        case ProgressWrite::kUnknownSession: ++replay_unknown_session_total; break;
    }
}

ProgressBuffer::ProgressBuffer(boost::asio::any_io_executor executor, const core::Clock& clock,
                               ProgressBufferSettings settings, ProgressBufferStats& stats,
                               const domain::SessionIdSigner* session_ids)
    : executor_(std::move(executor)),
      clock_(clock),
      settings_(settings),
      stats_(stats),
      timer_(executor_),
      session_ids_(session_ids) {
    // A zero backoff would retry a dead Redis in a tight loop.
    settings_.retry_min = std::max(settings_.retry_min, std::chrono::milliseconds(1));
    settings_.retry_max = std::max(settings_.retry_max, settings_.retry_min);
}

ProgressBuffer::~ProgressBuffer() {
    // Shutdown (or a worker that never saw Redis again): these writes are lost; say how many.
    stats_.abandoned_total += entries_.size();
    stats_.buffered -= static_cast<std::int64_t>(entries_.size());
}

namespace {

std::string_view account_of(const BufferedWrite& w) noexcept {
    return std::visit([](const auto& v) -> std::string_view { return v.account_id; }, w);
}

/// The session a heartbeat or stop is about (empty for PUTs and grants).
std::string_view session_of(const BufferedWrite& w) noexcept {
    if (const auto* hb = std::get_if<BufferedHeartbeat>(&w)) {
        return hb->session_id;
    }
    if (const auto* st = std::get_if<BufferedStop>(&w)) {
        return st->session_id;
    }
    return {};
}

}  // namespace

ProgressBuffer::Push ProgressBuffer::push(BufferedWrite&& write) {
    const std::string_view session = session_of(write);
    if (!session.empty() && session_ids_ != nullptr && !session_ids_->minted_for(account_of(write), session)) {
        // Nothing can look the session up while Redis is down: hold only ids moneta minted for
        // this account, so made-up ids cannot take room (domain/session_id.hpp).
        ++stats_.unknown_session_total;
        return Push::kUnknownSession;
    }
    if (const auto* hb = std::get_if<BufferedHeartbeat>(&write); hb != nullptr && fold_heartbeat(*hb)) {
        ++stats_.coalesced_total;
        return Push::kHeld;  // an entry of this session is already held: async_run knows
    }
    if (entries_.size() >= settings_.max_entries) {
        ++stats_.dropped_total;
        return Push::kFull;
    }
    if (const auto it = accounts_.find(account_of(write)); it != accounts_.end()) {
        const AccountShare& share = it->second;
        bool over = share.entries >= settings_.max_per_account;
        if (const auto* grant = std::get_if<BufferedLeaseGrant>(&write); grant != nullptr && !over) {
            const bool known_device =
                std::any_of(share.grant_devices.begin(), share.grant_devices.end(),
                            [&](const auto& d) { return d.first == grant->info.device_id; });
            over = !known_device && share.grant_devices.size() >= static_cast<std::size_t>(std::max(grant->max_streams, 1));
        }
        if (over) {
            ++stats_.account_full_total;
            return Push::kAccountFull;
        }
    }
    append(std::move(write));
    if (idle_) {
        timer_.cancel();  // only an idle wait: a push must not cut a backoff short
    }
    return Push::kHeld;
}

bool ProgressBuffer::fold_heartbeat(const BufferedHeartbeat& hb) {
    const auto it = foldable_.find(session_key(hb.account_id, hb.session_id));
    if (it == foldable_.end()) {
        return false;
    }
    Slot& slot = entries_[static_cast<std::size_t>(it->second - entries_.front().id)];  // ids are contiguous
    auto& held = std::get<BufferedHeartbeat>(slot.write);
    if (hb.seq <= held.seq) {
        // A late retry: once `held` is replayed the session's highest seq is at least held.seq,
        // so the guard would call this one stale. Keeping it would change nothing.
        return true;
    }
    if (slot.id == in_flight_) {
        return false;  // being replayed: its answer must be about what was sent
    }
    if (hb.position_sec == 0 && held.position_sec > 0) {
        // Replayed in order, the non-zero position is stored first and the zero one is kept out
        // ("zero never overwrites"); the zero alone could lose to an older stored position.
        return false;
    }
    held.position_sec = hb.position_sec;
    held.seq = hb.seq;
    held.now_ms = hb.now_ms;
    return true;
}

void ProgressBuffer::append(BufferedWrite&& write) {
    const std::uint64_t id = next_id_++;
    if (const auto* hb = std::get_if<BufferedHeartbeat>(&write)) {
        foldable_[session_key(hb->account_id, hb->session_id)] = id;
    } else if (const auto* st = std::get_if<BufferedStop>(&write)) {
        // A heartbeat after a stop must not move before it (the stop may complete the title).
        foldable_.erase(session_key(st->account_id, st->session_id));
    } else if (const auto* grant = std::get_if<BufferedLeaseGrant>(&write)) {
        pending_grants_.insert(session_key(grant->account_id, grant->info.session_id));
        ++stats_.fail_open_starts_total;
    }
    AccountShare& share = accounts_[std::string(account_of(write))];
    ++share.entries;
    if (const auto* grant = std::get_if<BufferedLeaseGrant>(&write)) {
        auto d = std::find_if(share.grant_devices.begin(), share.grant_devices.end(),
                              [&](const auto& e) { return e.first == grant->info.device_id; });
        if (d == share.grant_devices.end()) {
            share.grant_devices.emplace_back(grant->info.device_id, 1);
        } else {
            ++d->second;
        }
    }
    entries_.push_back(Slot{id, std::move(write)});
    ++stats_.buffered_total;
    ++stats_.buffered;
}

void ProgressBuffer::pop_front() {
    const Slot& slot = entries_.front();
    if (const auto* hb = std::get_if<BufferedHeartbeat>(&slot.write)) {
        const auto it = foldable_.find(session_key(hb->account_id, hb->session_id));
        if (it != foldable_.end() && it->second == slot.id) {
            foldable_.erase(it);
        }
    } else if (const auto* grant = std::get_if<BufferedLeaseGrant>(&slot.write)) {
        pending_grants_.erase(session_key(grant->account_id, grant->info.session_id));
    }
    if (const auto it = accounts_.find(account_of(slot.write)); it != accounts_.end()) {
        --it->second.entries;
        if (const auto* grant = std::get_if<BufferedLeaseGrant>(&slot.write)) {
            auto& devices = it->second.grant_devices;
            auto d = std::find_if(devices.begin(), devices.end(),
                                  [&](const auto& e) { return e.first == grant->info.device_id; });
            if (d != devices.end() && --d->second == 0) {
                devices.erase(d);
            }
        }
        if (it->second.entries == 0) {
            accounts_.erase(it);
        }
    }
    entries_.pop_front();
    --stats_.buffered;
}

bool ProgressBuffer::has_pending_grant(std::string_view account_id, std::string_view session_id) const {
    return !pending_grants_.empty() && pending_grants_.contains(session_key(account_id, session_id));
}

std::vector<BufferedWrite> ProgressBuffer::entries_for_test() const {
    std::vector<BufferedWrite> out;
    for (const Slot& s : entries_) {
        out.push_back(s.write);
    }
    return out;
}

void ProgressBuffer::stop() {
    stopping_.store(true);
    // On the executor: the timer is not thread-safe. async_run checks stopping_ before each wait,
    // so a cancel that lands while it is not waiting is not lost.
    boost::asio::post(executor_, [this] { timer_.cancel(); });
}

boost::asio::awaitable<void> ProgressBuffer::async_wait(std::chrono::steady_clock::duration d) {
    if (d == std::chrono::steady_clock::duration::max()) {
        timer_.expires_at(boost::asio::steady_timer::time_point::max());
    } else {
        timer_.expires_after(d);
    }
    boost::system::error_code ec;  // operation_aborted: push(), stop() or cancellation
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

boost::asio::awaitable<void> ProgressBuffer::async_run(SessionStore& sessions, ProgressStore& progress) {
    running_ = true;
    const auto cancelled = [](const boost::asio::cancellation_state& cs) {
        return cs.cancelled() != boost::asio::cancellation_type::none;
    };
    std::chrono::milliseconds backoff = settings_.retry_min;
    while (!stopping_.load() && !cancelled(co_await boost::asio::this_coro::cancellation_state)) {
        if (entries_.empty()) {
            idle_ = true;
            co_await async_wait(std::chrono::steady_clock::duration::max());
            idle_ = false;
            continue;
        }
        const Slot slot = entries_.front();  // a copy: nothing pushed meanwhile can touch it
        in_flight_ = slot.id;
        const Replay r = co_await async_replay(slot.write, sessions, progress);
        in_flight_ = 0;
        if (r == Replay::kRetry) {
            if (stopping_.load() || cancelled(co_await boost::asio::this_coro::cancellation_state)) {
                break;  // the failure was our own stop (the Redis client stopped, or we were cancelled)
            }
            ++stats_.replay_failed_total;
            co_await async_wait(backoff);
            backoff = std::min(backoff * 2, settings_.retry_max);
            continue;
        }
        pop_front();
        backoff = settings_.retry_min;
    }
    running_ = false;
}

boost::asio::awaitable<ProgressBuffer::Replay> ProgressBuffer::async_replay(const BufferedWrite& write,
                                                                            SessionStore& sessions,
                                                                            ProgressStore& progress) {
    const core::Deadline deadline = core::Deadline::after(clock_, settings_.call_timeout);
    // Redis did not answer (or not in time, or this worker was busy): retry later. It answered
    // with an error: the same write would get the same answer, so it leaves the buffer (counted)
    // instead of blocking everything behind it.
    const auto failed = [this](const boost::system::error_code& ec) {
        if (classify_redis_failure(ec) != RedisFailure::kBadAnswer) {
            return Replay::kRetry;
        }
        ++stats_.replay_rejected_total;
        return Replay::kRejected;
    };
    if (const auto* hb = std::get_if<BufferedHeartbeat>(&write)) {
        auto r = co_await sessions.async_heartbeat_progress(hb->account_id, hb->session_id, hb->position_sec,
                                                            hb->seq, hb->now_ms, deadline);
        if (!r) {
            co_return failed(r.error());
        }
        stats_.count(*r);
    } else if (const auto* st = std::get_if<BufferedStop>(&write)) {
        auto r = co_await sessions.async_stop(st->account_id, st->session_id, st->position_sec, st->seq, st->ended,
                                              st->now_ms, deadline);
        if (!r) {
            co_return failed(r.error());
        }
        stats_.count(r->progress);
    } else if (const auto* put = std::get_if<BufferedPut>(&write)) {
        auto r = co_await progress.async_put(put->account_id, put->profile_id, put->record, clock_.wall_ms(), deadline);
        if (!r) {
            co_return failed(r.error());
        }
        stats_.count(*r);
    } else {
        const auto& grant = std::get<BufferedLeaseGrant>(write);
        // The lease counts from now: the player has been playing all along, and a lease dated
        // at the start would already have run out after an outage longer than the lease.
        const StartCommand cmd{grant.account_id, grant.max_streams,  grant.info, grant.replace_session_id,
                               clock_.wall_ms(), std::string_view(), std::string_view(), grant.meta, true};
        auto r = co_await sessions.async_start(cmd, deadline);
        if (!r) {
            co_return failed(r.error());
        }
        if (std::holds_alternative<domain::LeaseDenied>(*r)) {
            ++stats_.grants_denied_total;  // its next heartbeat gets SESSION_NOT_FOUND
        } else if (std::holds_alternative<LeaseSuperseded>(*r)) {
            ++stats_.grants_superseded_total;  // the device moved on to a newer session
        }
    }
    ++stats_.replayed_total;
    co_return Replay::kDone;
}

}  // namespace moneta::store
