#include "progress/flusher.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <unordered_set>

#include "domain/progress.hpp"
#include "domain/requests.hpp"
#include "progress/batch_split.hpp"
#include "progress/chunked_pipeline.hpp"
#include "progress/share_out.hpp"
#include "store/keys.hpp"
#include "store/scripts/script_call.hpp"

namespace moneta::progress {
namespace {

using std::chrono::milliseconds;

std::int64_t steady_ms(const core::Clock& clock) {
    return std::chrono::duration_cast<milliseconds>(clock.steady_now().time_since_epoch()).count();
}

/// The account a marker names: field "a" of the entry.
std::string marker_account(const redis::ReplyView& fields) {
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].as_string_view() == "a" && domain::is_valid_id(fields[i + 1].as_string_view())) {
            return fields[i + 1].as_string();
        }
    }
    return {};
}

/// One dirty entry as snapshotted: "pid/cid" at a version, with the item that carries its
/// current value (none: undecodable or vanished, cleared without sending).
struct DirtyEntry {
    std::string_view field;  ///< views into the snapshot replies, alive for the whole flush
    std::string_view version;
    std::optional<std::size_t> item;
};

/// The first @p limit distinct accounts of @p batch in marker order, sorted by name (views into
/// the markers). Sorts instead of a hash set: no node allocated per account.
template <typename Marker>
std::vector<std::string_view> first_accounts(const std::vector<Marker>& batch, std::size_t limit) {
    std::vector<std::pair<std::string_view, std::size_t>> named;  // (account, first marker index)
    named.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!batch[i].account_id.empty()) {
            named.emplace_back(batch[i].account_id, i);
        }
    }
    std::sort(named.begin(), named.end());  // by account, then marker index: the first is kept
    named.erase(std::unique(named.begin(), named.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                named.end());
    if (named.size() > limit) {
        std::nth_element(named.begin(), named.begin() + static_cast<std::ptrdiff_t>(limit), named.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
        named.resize(limit);
    }
    std::vector<std::string_view> out;
    out.reserve(named.size());
    for (const auto& [account, first] : named) {
        out.push_back(account);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

ProgressFlusher::ProgressFlusher(boost::asio::any_io_executor executor, redis::Commands& redis,
                                 upstream::InternalApi& api, const core::Clock& clock, FlusherSettings settings,
                                 store::ProgressSettings progress, FlusherStats& stats, std::string consumer,
                                 log::Logger* logger)
    : executor_(executor),
      redis_(redis),
      api_(api),
      clock_(clock),
      settings_(settings),
      progress_(progress),
      stats_(stats),
      consumer_(std::move(consumer)),
      logger_(logger),
      timer_(executor) {
    settings_.split_calls_max = std::max(settings_.split_calls_max, kMinSplitCalls);
}

void ProgressFlusher::request_stop(milliseconds final_flush_budget) {
    stop_by_ms_.store(steady_ms(clock_) + final_flush_budget.count());
    stopping_.store(true);
    boost::asio::post(executor_, [this] { timer_.cancel(); });
}

core::Deadline ProgressFlusher::call_deadline() const {
    const core::Deadline d = core::Deadline::after(clock_, settings_.call_timeout);
    if (!stopping_.load()) {
        return d;
    }
    // Stopping: no call may outlive the final-flush budget.
    return d.min(core::Deadline::at(core::SteadyTime{} + milliseconds(stop_by_ms_.load())));
}

boost::asio::awaitable<void> ProgressFlusher::async_wait(milliseconds d) {
    if (stopping_.load()) {
        // Stopping: never sleep past the final-flush budget (but do back off between retries).
        d = std::min(d, milliseconds(std::max<std::int64_t>(0, stop_by_ms_.load() - steady_ms(clock_))));
        if (d.count() == 0) {
            co_return;
        }
    }
    timer_.expires_after(d);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

boost::asio::awaitable<bool> ProgressFlusher::async_create_groups() {
    redis::Pipeline p;
    std::vector<std::string> keys;
    for (int partition = 0; partition < store::kPartitions; ++partition) {
        store::KeyBuffer kb;
        keys.emplace_back(store::progress_stream_key(kb, partition));
    }
    for (const std::string& k : keys) {
        // From id 0: markers written before the group first existed are flushed too.
        p.add({"XGROUP", "CREATE", k, kGroup, "0", "MKSTREAM"});
    }
    auto replies = co_await redis_.async_pipeline(p, call_deadline());
    if (!replies) {
        co_return false;
    }
    for (const redis::Reply& r : *replies) {
        if (r.is_error() && !r.is_error_with_prefix("BUSYGROUP")) {
            co_return false;
        }
    }
    co_return true;
}

boost::asio::awaitable<std::size_t> ProgressFlusher::async_take_due(bool everything) {
    const std::size_t room = settings_.max_markers > batch_.size() ? settings_.max_markers - batch_.size() : 0;
    if (room == 0) {
        co_return 0;
    }
    const std::int64_t now = clock_.wall_ms();
    redis::Pipeline& p = poll_pipeline_;
    p.clear();
    ShareOut& plan = share_;
    plan.plan(room, take_first_);
    for (std::size_t k = 0; k < plan.partitions().size(); ++k) {
        const store::DueTakeScript::Call call(store::DueTakeArgs{
            .partition = plan.partitions()[k],
            .everything = everything,
            .due_by_ms = now,
            .claim_until_ms = now + settings_.claim_idle.count(),
            .count = static_cast<std::int64_t>(plan.shares()[k]),
        });
        p.add_eval(due_take_.script(), call.keys(), call.args());
    }
    auto replies = co_await redis_.async_pipeline(p, call_deadline());
    if (!replies) {
        co_return 0;
    }
    std::size_t added = 0;
    for (std::size_t k = 0; k < replies->size() && k < plan.partitions().size(); ++k) {
        const auto r = store::DueTakeScript::decode((*replies)[k].view());
        if (!r) {
            continue;  // an error: the next take retries
        }
        if (r->size() >= plan.shares()[k]) {
            plan.set_full(k);
        }
        for (std::size_t i = 0; i < r->size(); ++i) {
            const std::string_view account = (*r)[i].as_string_view();
            // An account already in the batch (through a marker) is flushed with it anyway.
            if (domain::is_valid_id(account) && held_.emplace(account).second) {
                batch_.push_back(Marker{kNoStream, {}, std::string(account)});
                ++added;
            }
        }
    }
    take_first_ = plan.next_first();
    stats_.due_taken_total += added;
    publish_in_flight();
    co_return added;
}

void ProgressFlusher::publish_in_flight() noexcept {
    std::int64_t oldest = 0;
    for (const Marker& m : batch_) {
        // A stream id is "<ms>-<seq>"; accounts from the due index have no id.
        std::int64_t ms = 0;
        std::size_t i = 0;
        for (; i < m.id.size() && m.id[i] >= '0' && m.id[i] <= '9' && i < 15; ++i) {
            ms = ms * 10 + (m.id[i] - '0');
        }
        if (i > 0 && ms > 0 && (oldest == 0 || ms < oldest)) {
            oldest = ms;
        }
    }
    stats_.markers_in_flight.store(static_cast<std::int64_t>(batch_.size()));
    stats_.oldest_marker_ms.store(oldest);
}

boost::asio::awaitable<void> ProgressFlusher::async_forget_consumers() {
    // Every moneta process joins as a new consumer (flusher.hpp), so without this the group
    // lists every process that ever ran. A consumer is forgotten only when it holds nothing
    // (pending 0: XGROUP DELCONSUMER would drop its pending entries) and has been idle for
    // consumer_forget (a live flusher reads every poll interval). Should one come back anyway,
    // its next XREADGROUP re-creates it.
    std::vector<std::string> keys;
    redis::Pipeline infos;
    for (int partition = 0; partition < store::kPartitions; ++partition) {
        store::KeyBuffer kb;
        keys.emplace_back(store::progress_stream_key(kb, partition));
        infos.add({"XINFO", "CONSUMERS", keys.back(), kGroup});
    }
    auto replies = co_await redis_.async_pipeline(infos, call_deadline());
    if (!replies) {
        co_return;
    }
    const std::int64_t forget_ms = settings_.consumer_forget.count();
    std::vector<std::string> names;  // kept alive for the pipeline below
    std::vector<std::size_t> partition_of;
    for (std::size_t partition = 0; partition < replies->size(); ++partition) {
        const redis::Reply& r = (*replies)[partition];
        if (!r.is_array()) {
            continue;  // NOGROUP: the reads recreate it
        }
        for (std::size_t c = 0; c < r.size(); ++c) {
            const redis::ReplyView fields = r[c];
            std::string_view name;
            std::int64_t pending = -1;
            std::int64_t idle = -1;
            for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
                const std::string_view k = fields[i].as_string_view();
                if (k == "name") {
                    name = fields[i + 1].as_string_view();
                } else if (k == "pending") {
                    pending = fields[i + 1].as_integer().value_or(-1);
                } else if (k == "idle") {
                    idle = fields[i + 1].as_integer().value_or(-1);
                }
            }
            if (!name.empty() && name != consumer_ && pending == 0 && idle >= forget_ms) {
                names.emplace_back(name);
                partition_of.push_back(partition);
            }
        }
    }
    if (names.empty()) {
        co_return;
    }
    redis::Pipeline forget;
    for (std::size_t i = 0; i < names.size(); ++i) {
        forget.add({"XGROUP", "DELCONSUMER", keys[partition_of[i]], kGroup, names[i]});
    }
    auto done = co_await redis_.async_pipeline(forget, call_deadline());
    if (!done) {
        co_return;
    }
    for (const redis::Reply& r : *done) {
        // The reply is the number of pending entries dropped: 0 unless the consumer read
        // something in between, which the dirty hashes and the due index still deliver.
        if (!r.is_error()) {
            ++stats_.consumers_forgotten_total;
        }
    }
}

boost::asio::awaitable<std::size_t> ProgressFlusher::async_read(bool claim) {
    const std::size_t room = settings_.max_markers > batch_.size() ? settings_.max_markers - batch_.size() : 0;
    if (room == 0) {
        co_return 0;
    }
    const store::IntArg idle(settings_.claim_idle.count());
    redis::Pipeline& p = poll_pipeline_;
    p.clear();
    int& turn = claim ? claim_first_ : read_first_;
    // The room is split over the partitions: one read never takes more than a batch.
    ShareOut& plan = share_;
    plan.plan(room, turn);
    const std::vector<int>& partitions = plan.partitions();
    const std::vector<std::size_t>& shares = plan.shares();
    for (std::size_t n = 0; n < partitions.size(); ++n) {
        const int partition = partitions[n];
        const std::size_t share = shares[n];
        store::KeyBuffer kb;
        const std::string_view k = store::progress_stream_key(kb, partition);
        const store::IntArg count(static_cast<std::int64_t>(share));
        if (claim) {
            p.add({"XAUTOCLAIM", k, kGroup, consumer_, idle.view(), "0-0", "COUNT", count.view()});
        } else {
            p.add({"XREADGROUP", "GROUP", kGroup, consumer_, "COUNT", count.view(), "STREAMS", k, ">"});
        }
    }
    auto replies = co_await redis_.async_pipeline(p, call_deadline());
    if (!replies) {
        co_return 0;
    }
    std::size_t added = 0;
    auto take_entries = [&](int partition, const redis::ReplyView& entries) {
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const redis::ReplyView e = entries[i];
            if (!e.is_array() || e.size() < 1) {
                continue;
            }
            batch_.push_back(Marker{partition, e[0].as_string(), marker_account(e[1])});
            if (!batch_.back().account_id.empty()) {
                held_.emplace(batch_.back().account_id);
            }
            ++added;
        }
    };
    for (std::size_t i = 0; i < partitions.size(); ++i) {
        const int partition = partitions[i];
        const redis::Reply& r = (*replies)[i];
        if (r.is_error()) {
            if (r.is_error_with_prefix("NOGROUP")) {
                co_await async_create_groups();  // the stream was deleted (FLUSHALL): recreate
            }
            continue;
        }
        if (claim) {
            if (r.is_array() && r.size() >= 2) {
                const std::size_t before = added;
                take_entries(partition, r[1]);
                stats_.markers_claimed_total += added - before;
                if (r[1].size() >= shares[i]) {
                    plan.set_full(i);
                }
            }
            // Redis 7: the third element lists pending ids whose entries no longer exist (trimmed
            // by MAXLEN, or XDELed by a consumer that died before its XACK). Redis has already
            // removed them from the PEL, so there is nothing to XACK; the account they named is
            // unknown; its account is in the due index (score: announced + marker_lost).
            if (r.is_array() && r.size() >= 3 && r[2].is_array()) {
                stats_.markers_trimmed_total += r[2].size();
            }
        } else if (r.is_array()) {
            for (std::size_t s = 0; s < r.size(); ++s) {
                if (r[s].is_array() && r[s].size() == 2) {
                    take_entries(partition, r[s][1]);
                    if (r[s][1].size() >= shares[i]) {
                        plan.set_full(i);
                    }
                }
            }
        }
    }
    turn = plan.next_first();
    if (claim) {
        // A marker can be claimed while it is already in our batch (our own slow flush): keep one.
        // (XREADGROUP ">" never hands out a delivered marker again, so only claims can repeat.)
        // (Accounts taken from the due index have no id: they are told apart by account.)
        std::sort(batch_.begin(), batch_.end(), [](const Marker& a, const Marker& b) {
            return std::tie(a.partition, a.id, a.account_id) < std::tie(b.partition, b.id, b.account_id);
        });
        const auto repeats = std::unique(batch_.begin(), batch_.end(), [](const Marker& a, const Marker& b) {
            return a.partition == b.partition && a.id == b.id && a.account_id == b.account_id;
        });
        if (repeats != batch_.end()) {
            batch_.erase(repeats, batch_.end());
            held_.clear();
            for (const Marker& m : batch_) {
                if (!m.account_id.empty()) {
                    held_.emplace(m.account_id);
                }
            }
        }
    }
    publish_in_flight();
    co_return added;
}

boost::asio::awaitable<ProgressFlusher::FlushResult> ProgressFlusher::async_flush() {
    // At most `batch` accounts per flush, taken in marker order; the rest waits for the next one.
    // Views into batch_, which is left alone until the end of the flush (the markers are dropped
    // last, after every view was used).
    const std::vector<std::string_view> accounts = first_accounts(batch_, settings_.batch);

    // 1. Snapshot every due dirty entry of those accounts (in trips of commands_per_trip).
    //    Held entries (a title still playing) wait for their due time, except when stopping: a
    //    clean stop flushes everything.
    constexpr std::int64_t kEverything = std::int64_t{1} << 53;
    const std::int64_t due_by = stopping_.load() ? kEverything : clock_.wall_ms();
    ChunkedPipeline& snap = snapshots_;
    snap.clear();
    for (const std::string_view a : accounts) {
        const store::FlushSnapshotScript::Call snapshot(store::FlushSnapshotArgs{a, due_by});
        snap.next().add_eval(snapshot_.script(), snapshot.keys(), snapshot.args());
    }
    auto snapped = co_await async_send(snap);  // NOSCRIPT: libs/redis reloads
    if (!snapped) {
        co_return FlushResult::kFailed;
    }
    std::vector<domain::ProgressUpsert> items;
    std::vector<std::size_t> item_account;  // per item: its index in `accounts` (non-decreasing)
    std::vector<DirtyEntry> entries;        // every account's, in account order
    std::vector<std::size_t> entries_end(accounts.size());  // account i's are [end(i-1), end(i))
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        const auto r = store::FlushSnapshotScript::decode((*snapped)[i].view());
        if (!r) {
            co_return FlushResult::kFailed;
        }
        for (std::size_t j = 0; j < r->size(); ++j) {
            const store::FlushSnapshotEntry e = (*r)[j];
            const std::string_view field = e.field;
            DirtyEntry entry{field, e.version, std::nullopt};
            const auto slash = field.find('/');
            if (slash != std::string_view::npos) {
                auto rec = domain::decode_progress_value(field.substr(slash + 1), e.value);
                if (rec) {
                    entry.item = items.size();
                    items.push_back(domain::ProgressUpsert{std::string(field.substr(0, slash)), std::move(*rec)});
                    item_account.push_back(i);
                }
            }
            // Undecodable or vanished values are cleared too: nothing can ever send them.
            entries.push_back(entry);
        }
        entries_end[i] = entries.size();
    }
    const auto entries_of = [&](std::size_t i) {
        const std::size_t begin = i == 0 ? 0 : entries_end[i - 1];
        return std::span<const DirtyEntry>(entries.data() + begin, entries_end[i] - begin);
    };

    // 2. Send; the system of record applies newer (updated_at, seq) only, so repeats are harmless.
    //    Calls refused for their items are split until the refused items stand alone.
    constexpr std::size_t kMaxPerCall = 1000;  // the internal API's batch limit
    BatchSplitter plan(item_account, kMaxPerCall, settings_.split_calls_max);
    std::vector<domain::ProgressUpsert> call;
    while (const std::optional<Range> range = plan.next()) {
        call.assign(items.begin() + static_cast<std::ptrdiff_t>(range->begin),
                    items.begin() + static_cast<std::ptrdiff_t>(range->end));
        core::RequestContext ctx;
        ctx.request_id = core::new_request_id();
        ctx.trace = core::TraceContext::new_root(false);
        ctx.deadline = call_deadline();
        auto res = co_await api_.async_upsert_progress(domain::batch_upsert_body(call), ctx);
        if (res && res->status == 200 && res->body.find("\"applied\"") != std::string::npos) {
            plan.accepted(*range);
            stats_.items_sent_total += range->size();
            continue;
        }
        std::optional<Rejection> refused = res ? item_rejection(res->status, res->body) : std::nullopt;
        if (!refused) {
            co_return FlushResult::kFailed;  // transport, 5xx, 429, auth…: the whole flush is retried with backoff
        }
        plan.rejected(*range, std::move(*refused));
    }
    stats_.split_calls_total += plan.split_calls();
    if (plan.exhausted()) {
        ++stats_.split_budget_exhausted_total;
    }

    // 3. Record what was refused alone, where an operator can see and replay it (before the
    //    dirty entries go: a crash in between re-sends and re-records it, never loses it).
    ChunkedPipeline& done = finishes_;  // in order: quarantine records, then clears, then acks
    done.clear();
    std::vector<bool> resolved(accounts.size(), true);  // no item of the account is still pending
    const store::IntArg quarantine_len(settings_.quarantine_max_len);
    const std::int64_t now = clock_.wall_ms();
    const store::IntArg now_ms(now);
    std::vector<std::size_t> quarantined;  // items, logged once recorded
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        for (const DirtyEntry& d : entries_of(i)) {
            if (!d.item) {
                continue;
            }
            const std::size_t item = *d.item;
            if (plan.state(item) == ItemState::kPending) {
                resolved[i] = false;
            } else if (plan.state(item) == ItemState::kQuarantined) {
                const Rejection& why = plan.rejection(item);
                const domain::ProgressUpsert& u = items[item];
                const store::IntArg status(why.status);
                const std::string body = domain::batch_upsert_body({u});
                const std::array<std::string_view, 20> xadd = {
                    "XADD", store::kQuarantineStreamKey, "MAXLEN", "~", quarantine_len.view(), "*",
                    "a", accounts[i], "p", u.profile_id, "c", u.record.content_id,
                    "status", status.view(), "code", why.code, "at", now_ms.view(), "body", body};
                done.next().add(xadd);
                quarantined.push_back(item);
            }
        }
    }

    // 4. Confirmed or quarantined: clear what is still at the flushed version and re-score the
    //    account in its due index from what is left (every account: one taken from the index
    //    with nothing due yet gets its true score back), then ack and delete the markers of every
    //    account left with nothing pending.
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        store::FlushClearScript::Call clear(
            store::FlushClearArgs{accounts[i], now, progress_.marker_lost.count()},
            entries_of(i).size());
        for (const DirtyEntry& d : entries_of(i)) {
            if (!d.item || plan.state(*d.item) != ItemState::kPending) {
                clear.add(d.field, d.version);
            }
        }
        done.next().add_eval(clear_.script(), clear.keys(), clear.args());
    }
    std::vector<std::string_view> finished_accounts;  // sorted, as `accounts` is
    finished_accounts.reserve(accounts.size());
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        if (resolved[i]) {
            finished_accounts.push_back(accounts[i]);
        }
    }
    auto in_flush = [&finished_accounts](const Marker& m) {
        return m.account_id.empty() ||
               std::binary_search(finished_accounts.begin(), finished_accounts.end(), std::string_view(m.account_id));
    };
    // The flushed markers by partition (one XACK and one XDEL per stream), sorted in a vector
    // the flusher keeps, and each command's arguments built in another: a flush names markers
    // of up to every partition, and a map of vectors cost two allocations per partition.
    std::vector<std::pair<int, std::string_view>>& acks = ack_ids_;
    acks.clear();
    for (const Marker& m : batch_) {
        if (in_flush(m) && m.partition != kNoStream) {
            acks.emplace_back(m.partition, m.id);
        }
    }
    const std::size_t flushed_markers = acks.size();
    std::sort(acks.begin(), acks.end());  // by partition (std::stable_sort would take a buffer)
    for (std::size_t begin = 0; begin < acks.size();) {
        const int partition = acks[begin].first;
        std::size_t end = begin;
        while (end < acks.size() && acks[end].first == partition) {
            ++end;
        }
        store::KeyBuffer kb;
        const std::string_view stream = store::progress_stream_key(kb, partition);
        for (int pass = 0; pass < 2; ++pass) {  // XACK, then XDEL
            const bool ack = pass == 0;
            std::vector<std::string_view>& args = command_args_;
            args.clear();
            args.push_back(ack ? std::string_view("XACK") : std::string_view("XDEL"));
            args.push_back(stream);
            if (ack) {
                args.push_back(kGroup);
            }
            for (std::size_t i = begin; i < end; ++i) {
                args.push_back(acks[i].second);
            }
            done.next().add(args);  // copies the bytes: args is reused at once
        }
        begin = end;
    }
    if (!done.empty()) {
        auto finished = co_await async_send(done);
        if (!finished) {
            co_return FlushResult::kFailed;
        }
        for (const redis::Reply& r : *finished) {
            if (r.is_error()) {
                co_return FlushResult::kFailed;
            }
        }
    }
    stats_.quarantined_total += quarantined.size();
    for (const std::size_t item : quarantined) {
        const Rejection& why = plan.rejection(item);
        const domain::ProgressUpsert& u = items[item];
        log_quarantined(accounts[item_account[item]], u.profile_id, u.record.content_id, why.status, why.code);
    }
    ++stats_.flushes_total;
    stats_.markers_acked_total += flushed_markers;
    stats_.last_success_ms.store(clock_.wall_ms());
    // The accounts' views point into batch_: judge every marker before any is moved, then
    // forget the accounts, then drop the markers.
    std::vector<char> flushed(batch_.size());
    for (std::size_t i = 0; i < batch_.size(); ++i) {
        flushed[i] = in_flush(batch_[i]) ? 1 : 0;
    }
    for (const std::string_view a : finished_accounts) {
        held_.erase(std::pmr::string(a, &held_pool_));  // every marker of a flushed account went with it
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < batch_.size(); ++i) {
        if (flushed[i] == 0) {
            if (kept != i) {
                batch_[kept] = std::move(batch_[i]);
            }
            ++kept;
        }
    }
    batch_.resize(kept);
    publish_in_flight();
    co_return plan.exhausted() ? FlushResult::kPartial : FlushResult::kDone;
}

boost::asio::awaitable<core::Result<redis::Replies>> ProgressFlusher::async_send(ChunkedPipeline& batch) {
    redis::Replies all;
    std::size_t commands = 0;
    for (const redis::Pipeline& part : batch.parts()) {
        commands += part.size();
    }
    all.reserve(commands);
    for (redis::Pipeline& part : batch.parts()) {
        auto replies = co_await redis_.async_pipeline(part, call_deadline());
        if (!replies) {
            co_return replies.error();  // what went before is applied: every step is safe to repeat
        }
        std::move(replies->begin(), replies->end(), std::back_inserter(all));
    }
    co_return all;
}

void ProgressFlusher::log_quarantined(std::string_view account, std::string_view profile, std::string_view content,
                                      int status, std::string_view code) {
    if (logger_ == nullptr) {
        return;
    }
    // Ids and the API's error code only: never the body it answered, nor the session id that the
    // stored value carries.
    logger_->warn("progress quarantined: the internal API refused this position",
                  {{"moneta.account_id", account},
                   {"moneta.profile_id", profile},
                   {"moneta.content_id", content},
                   {"http.response.status_code", std::int64_t{status}},
                   {"error.code", code},
                   {"moneta.quarantine_stream", store::kQuarantineStreamKey}});
}

boost::asio::awaitable<void> ProgressFlusher::async_run() {
    // The connection comes up moments after start: retry quickly at first, then back off.
    for (milliseconds wait = std::min(settings_.poll, settings_.retry_min); !co_await async_create_groups();
         wait = std::min(wait * 2, settings_.retry_max)) {
        if (stopping_.load()) {
            co_return;  // Redis never came up: nothing of ours is pending
        }
        co_await async_wait(wait);
    }
    auto next_flush = clock_.steady_now() + settings_.interval;
    auto next_claim = clock_.steady_now();
    auto next_take = clock_.steady_now();
    auto next_forget = clock_.steady_now();
    milliseconds backoff = settings_.retry_min;
    milliseconds idle_wait = settings_.poll;
    const milliseconds idle_wait_max = std::max(settings_.poll, std::min(settings_.poll_max, settings_.interval));
    bool took_all_for_stop = false;
    while (true) {
        const bool stopping = stopping_.load();
        if (stopping && steady_ms(clock_) > stop_by_ms_.load()) {
            co_return;  // out of time: unflushed markers stay pending for the next consumer
        }
        std::size_t read = 0;
        if (stopping && !took_all_for_stop) {
            // Held entries have no marker yet: take every indexed account, so that a clean stop
            // flushes them too.
            took_all_for_stop = true;
            read += co_await async_take_due(true);
        } else if (!stopping && clock_.steady_now() >= next_take) {
            read += co_await async_take_due(false);
            next_take = clock_.steady_now() + settings_.interval;
        }
        if (!stopping && clock_.steady_now() >= next_forget) {
            co_await async_forget_consumers();
            next_forget = clock_.steady_now() + settings_.forget_interval;
        }
        if (clock_.steady_now() >= next_claim) {
            read += co_await async_read(true);
            next_claim = clock_.steady_now() + settings_.claim_idle / 2;
        }
        read += co_await async_read(false);
        const bool due = clock_.steady_now() >= next_flush || batch_.size() >= settings_.max_markers ||
                         held_.size() >= settings_.batch || stopping;
        if (due && !batch_.empty()) {
            const FlushResult flushed = co_await async_flush();
            if (flushed == FlushResult::kDone) {
                backoff = settings_.retry_min;
                next_flush = clock_.steady_now() + settings_.interval;
                continue;  // there may be more right away
            }
            if (flushed == FlushResult::kPartial) {
                // Progress was made and acknowledged, but refused items are left: pace the next
                // attempt like a retry (not counted as a failure), so accounts full of refused
                // titles cost at most split_calls_max calls per backoff step, not a busy loop.
                next_flush = clock_.steady_now() + settings_.interval;
                co_await async_wait(backoff);
                backoff = std::min(backoff * 2, settings_.retry_max);
                continue;
            }
            ++stats_.failures_total;
            co_await async_wait(backoff);
            backoff = std::min(backoff * 2, settings_.retry_max);
            continue;
        }
        if (due) {
            next_flush = clock_.steady_now() + settings_.interval;
        }
        if (stopping && batch_.empty() && read == 0) {
            co_return;  // everything written before the stop is confirmed
        }
        if (read == 0) {
            co_await async_wait(idle_wait);
            idle_wait = std::min(idle_wait * 2, idle_wait_max);
        } else {
            idle_wait = settings_.poll;
        }
    }
}

}  // namespace moneta::progress
