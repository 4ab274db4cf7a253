/// @file services/moneta/src/usecases/progress_calls.hpp
/// @brief Progress and continue-watching (api.md §5.7) as use cases, for the token's profile:
/// PUT (an offline write through the guard, held when Redis is unavailable), GET by ids, and
/// continue-watching. Each first admits the call in one Redis round trip when warm.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "moneta/trace/client_span.hpp"
#include "domain/requests.hpp"
#include "usecases/outcome.hpp"
#include "usecases/playback_stats.hpp"
#include "usecases/ports.hpp"

namespace moneta::usecases {

/// A 204 progress write.
struct ProgressAccepted {
    bool held = false;  ///< Redis unavailable: held for replay through the same guard
};

/// A 200 list of positions.
struct ProgressItems {
    std::vector<domain::ProgressRecord> items;
};

struct ProgressCallsDeps {
    CatalogReader& catalog;
    ProgressRecords& progress;
    HeldWrites& held;
    const PlaybackSettings& settings;
    PlaybackStats& stats;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (one per worker, like its ports).
class ProgressCalls {
public:
    explicit ProgressCalls(ProgressCallsDeps deps) noexcept : d_(deps) {}

    /// PUT /v1/me/progress/{content_id}.
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<ProgressAccepted>&&>> async_put(
        Caller caller, std::string_view content_id, domain::ProgressPut put, std::int64_t now_ms,
        const core::RequestContext& ctx, Present present) {
        if (auto refused = co_await async_admit(caller, content_id, now_ms, ctx)) {
            co_return present(refusal<ProgressAccepted>(std::move(*refused)));
        }
        domain::ProgressRecord rec = record(content_id, put);
        const auto t0 = trace::client_call_start();
        auto written = co_await d_.progress.async_put(caller.account_id, caller.profile_id, rec, now_ms, ctx.deadline);
        trace::record_redis_call(ctx, t0, "progress_put", written.has_value());
        co_return present(judge_put(caller, std::move(rec), written));
    }

    /// GET /v1/me/progress?content_ids=...
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<ProgressItems>&&>> async_get(
        Caller caller, std::vector<std::string> content_ids, std::int64_t now_ms, const core::RequestContext& ctx,
        Present present) {
        if (auto refused = co_await async_admit(caller, {}, now_ms, ctx)) {
            co_return present(refusal<ProgressItems>(std::move(*refused)));
        }
        auto items = co_await d_.progress.async_get(caller.account_id, caller.profile_id, content_ids, ctx);
        co_return present(listed(items));
    }

    /// GET /v1/me/continue-watching?limit=N
    template <class Present>
    boost::asio::awaitable<std::invoke_result_t<Present&, Outcome<ProgressItems>&&>> async_continue_watching(
        Caller caller, int limit, std::int64_t now_ms, const core::RequestContext& ctx, Present present) {
        if (auto refused = co_await async_admit(caller, {}, now_ms, ctx)) {
            co_return present(refusal<ProgressItems>(std::move(*refused)));
        }
        auto items = co_await d_.progress.async_continue_watching(caller.account_id, caller.profile_id, limit, ctx);
        co_return present(listed(items));
    }

private:
    using Refusal = std::variant<Refused, UpstreamFailed>;
    template <class T>
    static Outcome<T> refusal(Refusal&& r) {
        return std::visit([](auto&& v) { return Outcome<T>(std::move(v)); }, std::move(r));
    }

    /// What every progress call checks first: the account's progress-route rate limit
    /// (RATE_LIMITED, judged before any internal-API call), the profile belongs to the account
    /// (PROFILE_NOT_IN_ACCOUNT: the profile id comes from the client), and for a write, that
    /// @p content_id is a title (CONTENT_NOT_FOUND). nullopt: admitted.
    boost::asio::awaitable<std::optional<Refusal>> async_admit(const Caller& caller,
                                                                               std::string_view content_id,
                                                                               std::int64_t now_ms,
                                                                               const core::RequestContext& ctx);
    static domain::ProgressRecord record(std::string_view content_id, const domain::ProgressPut& put);
    Outcome<ProgressAccepted> judge_put(const Caller& caller, domain::ProgressRecord&& rec,
                                        const core::Result<store::ProgressWrite>& written);
    static Outcome<ProgressItems> listed(core::Result<std::vector<domain::ProgressRecord>>& items);

    ProgressCallsDeps d_;
};

}  // namespace moneta::usecases
