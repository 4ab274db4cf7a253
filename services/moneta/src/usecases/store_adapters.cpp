#include "usecases/store_adapters.hpp"

#include "handlers/rate_limit.hpp"
#include "store/keys.hpp"

namespace moneta::usecases {

boost::asio::awaitable<AdmissionRead> StoreCatalogReader::async_read_admission(const AdmissionQuery& query,
                                                                               const core::RequestContext& ctx) {
    const bool start = query.kind == Admission::kStart;
    store::KeyBuffer kb;
    redis::Pipeline extra;
    if (start) {
        extra.add({"HGET", store::progress_key(kb, query.account_id, query.profile_id), query.content_id});
        extra.add({"HEXISTS", store::progress_missing_key(kb, query.account_id, query.profile_id), query.content_id});
    }
    const handlers::AccountRateLimit limit(
        start ? handlers::AccountRateLimit::Kind::kStart : handlers::AccountRateLimit::Kind::kProgress,
        query.rate_per_min);
    std::string window;
    const std::size_t rate_reply = extra.size();  // the INCR's place among the extra replies
    limit.add_to(extra, kb, query.account_id, query.now_ms, window);

    AdmissionRead read;
    read.catalog = co_await cache_.async_read(query.account_id, query.content_id, ctx, &extra);
    const std::vector<redis::Reply>& replies = read.catalog.extra;
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
