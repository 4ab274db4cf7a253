#include "usecases/store_adapters.hpp"

#include "handlers/rate_limit.hpp"
#include "store/keys.hpp"

namespace moneta::usecases {

namespace {

/// The admission's own commands (a start's resume position, then the rate counter) encoded into
/// @p extra. A plain function: keys and argument lists are needed only while encoding, so they
/// stay out of the coroutine frame (kept under the 1,020 bytes Asio recycles).
/// @return the INCR's place among the extra replies.
std::size_t build_admission_extra(redis::Pipeline& extra, const AdmissionQuery& query,
                                  const handlers::AccountRateLimit& limit) {
    store::KeyBuffer kb;
    if (query.kind == Admission::kStart) {
        extra.add({"HGET", store::progress_key(kb, query.account_id, query.profile_id), query.content_id});
        extra.add({"HEXISTS", store::progress_missing_key(kb, query.account_id, query.profile_id), query.content_id});
    }
    const std::size_t rate_reply = extra.size();
    std::string window;
    limit.add_to(extra, kb, query.account_id, query.now_ms, window);
    return rate_reply;
}

}  // namespace

boost::asio::awaitable<AdmissionRead> StoreCatalogReader::async_read_admission(const AdmissionQuery& query,
                                                                               const core::RequestContext& ctx) {
    const bool start = query.kind == Admission::kStart;
    const handlers::AccountRateLimit limit(
        start ? handlers::AccountRateLimit::Kind::kStart : handlers::AccountRateLimit::Kind::kProgress,
        query.rate_per_min);
    redis::Pipeline extra;
    const std::size_t rate_reply = build_admission_extra(extra, query, limit);

    AdmissionRead read;
    read.catalog = co_await cache_.async_read(query.account_id, query.content_id, ctx, &extra);
    const redis::Replies& replies = read.catalog.extra;
    read.retry_after_sec = limit.exceeded(replies, rate_reply, query.now_ms);
    if (start && replies.size() >= 2) {  // fewer: Redis did not answer (nothing known)
        if (replies[0].is_string()) {
            read.progress_cached = true;
            read.stored_progress = domain::decode_progress_value(query.content_id, replies[0].as_string_view());
        }
        read.progress_known_absent = replies[1].to_int64() == 1;
    }
    read.catalog.extra.clear();  // consumed: the use cases never read replies by position
    co_return read;
}

}  // namespace moneta::usecases
