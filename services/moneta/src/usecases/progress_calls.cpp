#include "usecases/progress_calls.hpp"

#include "store/redis_failure.hpp"

namespace moneta::usecases {

using domain::ApiError;

boost::asio::awaitable<std::optional<ProgressCalls::Refusal>> ProgressCalls::async_admit(
    const Caller& caller, std::string_view content_id, std::int64_t now_ms, const core::RequestContext& ctx) {
    const auto t0 = trace::client_call_start();
    AdmissionRead read = co_await d_.catalog.async_read_admission(
        AdmissionQuery{Admission::kProgress, caller.account_id, caller.profile_id, content_id,
                       d_.settings.progress_rate_per_min, now_ms},
        ctx);
    trace::record_redis_call(ctx, t0, "admission", !read.catalog.redis_error);
    if (read.retry_after_sec) {
        ++d_.stats.progress_rate_limited_total;
        co_return Refused{ApiError::kRateLimited, "{}", *read.retry_after_sec};
    }
    if (needs_fill(read.catalog)) {  // a warm read: no fill call, not even its frame
        if (auto filled = co_await d_.catalog.async_fill(read.catalog, caller.account_id, content_id, ctx); !filled) {
            co_return UpstreamFailed{filled.error()};
        }
    }
    if (!read.catalog.account) {
        co_return Refused{ApiError::kSubscriptionRequired};
    }
    if (read.catalog.account->find_profile(caller.profile_id) == nullptr) {
        co_return Refused{ApiError::kProfileNotInAccount};
    }
    if (!content_id.empty() && !read.catalog.content) {
        co_return Refused{ApiError::kContentNotFound};
    }
    co_return std::nullopt;
}

domain::ProgressRecord ProgressCalls::record(std::string_view content_id, const domain::ProgressPut& put) {
    domain::ProgressRecord rec;
    rec.content_id = std::string(content_id);
    rec.position_sec = put.position_sec;
    rec.duration_sec = put.duration_sec;
    rec.updated_at_ms = put.updated_at_ms;
    rec.seq = put.seq;
    // Offline writes carry no credits position: the 95 % rule alone decides completion.
    rec.completed = put.position_sec >= domain::completion_threshold_sec(put.duration_sec, std::nullopt);
    return rec;
}

Outcome<ProgressAccepted> ProgressCalls::judge_put(const Caller& caller, domain::ProgressRecord&& rec,
                                                   const core::Result<store::ProgressWrite>& written) {
    if (!written) {
        ++d_.stats.store_errors_total;
        if (!store::redis_unavailable(store::classify_redis_failure(written.error()))) {
            return StoreFailed{written.error()};
        }
        // Redis did not answer: hold the write for replay through the same guard and accept it.
        // (Whether it is stale is only known then: a stale one is counted, not answered 409.)
        const auto held =
            d_.held.push(store::BufferedPut{caller.account_id.str(), caller.profile_id.str(), std::move(rec)});
        if (held != store::ProgressBuffer::Push::kHeld) {
            return Refused{ApiError::kUpstreamUnavailable};
        }
        ++d_.stats.progress_puts_buffered_total;
        return ProgressAccepted{true};
    }
    d_.stats.count(*written);
    if (*written == store::ProgressWrite::kStale) {
        return Refused{ApiError::kStaleWrite};
    }
    if (*written == store::ProgressWrite::kCapped) {
        // A per-account bound (titles per profile, unflushed writes per account): the flusher
        // frees room within one flush interval.
        return Refused{ApiError::kRateLimited, R"({"reason":"progress_limit"})", d_.settings.progress_retry_after_sec};
    }
    return ProgressAccepted{false};
}

Outcome<ProgressItems> ProgressCalls::listed(core::Result<std::vector<domain::ProgressRecord>>& items) {
    if (!items) {
        return UpstreamFailed{items.error()};
    }
    return ProgressItems{std::move(*items)};
}

}  // namespace moneta::usecases
