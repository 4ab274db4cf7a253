#include "store/progress_store.hpp"

#include <algorithm>

#include "moneta/trace/client_span.hpp"
#include "store/keys.hpp"
#include "store/scripts/script_call.hpp"

namespace moneta::store {
namespace {

using core::Errc;

template <class T>
core::Result<T> fail(Errc e) {
    return core::Result<T>(boost::system::in_place_error, core::make_error(e));
}

}  // namespace

ProgressStore::ProgressStore(redis::Commands& redis, upstream::InternalApi& api, ProgressSettings settings,
                             ProgressStats& stats, resilience::FallbackGate* fallback_gate)
    : redis_(redis),
      api_(api),
      settings_(settings),
      stats_(stats),
      fallback_gate_(fallback_gate),
      put_(ScriptSettings{.progress = settings}) {}

boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> ProgressStore::async_fallback(
    std::string_view account_id, std::string_view profile_id, std::span<const std::string> content_ids,
    const core::RequestContext& ctx, boost::system::error_code redis_error) {
    ++stats_.redis_errors_total;
    resilience::FallbackPermit permit;
    if (fallback_gate_ != nullptr) {
        auto entered = fallback_gate_->try_enter();
        if (!entered) {
            ++stats_.fallbacks_rejected_total;  // Redis is down for everyone: do not stampede the API
            co_return resilience::make_composite_error(redis_error, entered.error());
        }
        permit = std::move(*entered);
    }
    auto loaded = co_await async_fetch_and_load(account_id, profile_id, content_ids, ctx);
    if (!loaded) {
        ++stats_.fallbacks_failed_total;
        co_return resilience::make_composite_error(redis_error, loaded.error());
    }
    ++stats_.fallbacks_served_total;
    co_return loaded;
}

boost::asio::awaitable<core::Result<ProgressWrite>> ProgressStore::async_put(std::string_view account_id,
                                                                             std::string_view profile_id,
                                                                             const domain::ProgressRecord& rec,
                                                                             std::int64_t now_ms,
                                                                             core::Deadline deadline) {
    const ProgressPutScript::Call call(ProgressPutArgs{account_id, profile_id, rec, now_ms});
    auto reply = co_await eval_script(redis_, put_.script(), call.keys(), call.args(), deadline);
    if (!reply) {
        co_return reply.error();
    }
    co_return ProgressPutScript::decode(reply->view());
}

boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> ProgressStore::async_fetch_and_load(
    std::string_view account_id, std::string_view profile_id, std::span<const std::string> content_ids,
    const core::RequestContext& ctx) {
    ++stats_.upstream_loads_total;
    std::string csv;
    for (const std::string& id : content_ids) {
        if (!csv.empty()) {
            csv += ',';
        }
        csv += id;
    }
    auto fetched = co_await api_.async_get_progress(profile_id, csv, ctx);
    if (!fetched) {
        co_return fetched.error();
    }
    if (fetched->status != 200) {
        co_return fail<std::vector<domain::ProgressRecord>>(Errc::kUpstreamError);
    }
    auto items = domain::decode_upstream_progress(fetched->body);
    if (!items) {
        co_return fail<std::vector<domain::ProgressRecord>>(Errc::kUpstreamError);
    }
    // Load through the guard: a newer local position (not yet flushed) is kept; ids without a
    // position go to the profile's bounded, short-lived negative cache (ProgressLoadScript).
    const ProgressLoadScript::Call call(ProgressLoadArgs{account_id, profile_id, *items, content_ids, settings_});
    const auto t0 = trace::client_call_start();
    auto loaded = co_await eval_script(redis_, load_.script(), call.keys(), call.args(), ctx.deadline);
    trace::record_redis_call(ctx, t0, "progress_load", loaded.has_value());
    if (!loaded || !ProgressLoadScript::decode(loaded->view())) {
        ++stats_.redis_errors_total;  // answered from the internal API anyway; the next read retries
    }
    co_return std::move(*items);
}

boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> ProgressStore::async_get(
    std::string_view account_id, std::string_view profile_id, std::span<const std::string> content_ids,
    const core::RequestContext& ctx) {
    // One round trip: the positions and the negative cache of the same ids.
    KeyBuffer kb;
    std::vector<std::string_view> cmd = {"HMGET", progress_key(kb, account_id, profile_id)};
    cmd.insert(cmd.end(), content_ids.begin(), content_ids.end());
    redis::Pipeline p;
    p.add(cmd);
    cmd[1] = progress_missing_key(kb, account_id, profile_id);
    p.add(cmd);
    const auto t0 = trace::client_call_start();
    auto replies = co_await redis_.async_pipeline(p, ctx.deadline);
    trace::record_redis_call(ctx, t0, "progress_get", replies.has_value());
    std::vector<std::optional<domain::ProgressRecord>> found(content_ids.size());
    std::vector<std::string> missing;
    if (!replies) {
        co_return co_await async_fallback(account_id, profile_id, content_ids, ctx, replies.error());
    }
    const auto well_formed = [&](const redis::Reply& r) { return r.is_array() && r.size() == content_ids.size(); };
    if (replies->size() != 2 || !well_formed((*replies)[0]) || !well_formed((*replies)[1])) {
        ++stats_.redis_errors_total;
        missing.assign(content_ids.begin(), content_ids.end());
    } else {
        const redis::Reply& positions = (*replies)[0];
        const redis::Reply& absent = (*replies)[1];
        for (std::size_t i = 0; i < content_ids.size(); ++i) {
            const redis::ReplyView v = positions[i];
            if (!v.is_nil()) {
                found[i] = domain::decode_progress_value(content_ids[i], v.as_string_view());
            } else if (absent[i].is_nil()) {
                missing.push_back(content_ids[i]);
            }  // else: the system of record had nothing for it a moment ago
        }
    }
    if (!missing.empty()) {
        auto loaded = co_await async_fetch_and_load(account_id, profile_id, missing, ctx);
        if (!loaded) {
            co_return loaded.error();
        }
        for (domain::ProgressRecord& r : *loaded) {
            const auto it = std::find(content_ids.begin(), content_ids.end(), r.content_id);
            if (it != content_ids.end() && !found[static_cast<std::size_t>(it - content_ids.begin())]) {
                found[static_cast<std::size_t>(it - content_ids.begin())] = std::move(r);
            }
        }
    }
    std::vector<domain::ProgressRecord> out;
    for (auto& f : found) {
        if (f) {
            out.push_back(std::move(*f));
        }
    }
    co_return out;
}

boost::asio::awaitable<core::Result<std::optional<domain::ProgressRecord>>> ProgressStore::async_load_one(
    std::string_view account_id, std::string_view profile_id, std::string_view content_id,
    const core::RequestContext& ctx) {
    const std::string ids[] = {std::string(content_id)};
    auto loaded = co_await async_fetch_and_load(account_id, profile_id, ids, ctx);
    if (!loaded) {
        co_return loaded.error();
    }
    for (domain::ProgressRecord& r : *loaded) {
        if (r.content_id == content_id) {
            co_return std::optional<domain::ProgressRecord>{std::move(r)};
        }
    }
    co_return std::optional<domain::ProgressRecord>{};
}

boost::asio::awaitable<core::Result<std::vector<domain::ProgressRecord>>> ProgressStore::async_continue_watching(
    std::string_view account_id, std::string_view profile_id, int limit, const core::RequestContext& ctx) {
    const ContinueWatchingScript::Call call(ContinueWatchingArgs{account_id, profile_id, limit});
    boost::system::error_code redis_error = core::make_error(Errc::kUpstreamError);  // an odd reply
    for (int attempt = 0; attempt < 2; ++attempt) {
        const auto t0 = trace::client_call_start();
        auto reply = co_await eval_script(redis_, continue_watching_.script(), call.keys(), call.args(),
                                          ctx.deadline);
        trace::record_redis_call(ctx, t0, "continue_watching", reply.has_value());
        if (!reply) {
            redis_error = reply.error();
            break;
        }
        const auto r = ContinueWatchingScript::decode(reply->view());
        if (!r) {
            break;  // an error reply or an odd one: redis_error says kUpstreamError
        }
        if (r->loaded || attempt == 1) {
            std::vector<domain::ProgressRecord> out;
            for (std::size_t i = 0; i < r->size(); ++i) {
                const ContinueWatchingEntry e = (*r)[i];
                auto rec = domain::decode_progress_value(e.content_id, e.value);
                if (rec && !rec->completed) {
                    out.push_back(std::move(*rec));
                }
            }
            co_return out;
        }
        // Not loaded yet for this profile: fill from the system of record, then read again.
        auto loaded = co_await async_fetch_and_load(account_id, profile_id, {}, ctx);
        if (!loaded) {
            co_return loaded.error();
        }
    }
    // Redis is failing: answer from the internal API directly.
    auto loaded = co_await async_fallback(account_id, profile_id, {}, ctx, redis_error);
    if (!loaded) {
        co_return loaded.error();
    }
    std::vector<domain::ProgressRecord> out;
    for (domain::ProgressRecord& r : *loaded) {
        if (!r.completed) {
            out.push_back(std::move(r));
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.updated_at_ms > b.updated_at_ms; });
    if (out.size() > static_cast<std::size_t>(limit)) {
        out.resize(static_cast<std::size_t>(limit));
    }
    co_return out;
}

}  // namespace moneta::store
