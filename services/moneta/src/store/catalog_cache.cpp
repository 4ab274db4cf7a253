#include "store/catalog_cache.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <charconv>

#include "domain/cache_envelope.hpp"
#include "domain/catalog_codec.hpp"
#include "domain/entitlement_digest.hpp"
#include "moneta/core/random.hpp"
#include "moneta/redis/pipeline.hpp"
#include "store/keys.hpp"
#include "upstream/fetch_coalescer.hpp"

namespace moneta::store {
namespace {

using core::Errc;
using upstream::Resource;

std::string ms_arg(std::int64_t ms) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, ms);
    return std::string(buf, r.ptr);
}

std::string refresh_key(Resource resource, std::string_view id) {
    std::string k(resource == Resource::kAccount ? "a:" : "c:");
    k += id;
    return k;
}

}  // namespace

CatalogCache::CatalogCache(redis::Commands& redis, upstream::InternalApi& api, upstream::FetchCoalescer* coalescer,
                           boost::asio::any_io_executor executor, const core::Clock& clock, CacheSettings settings,
                           CacheStats& stats)
    : redis_(redis),
      api_(api),
      coalescer_(coalescer),
      executor_(std::move(executor)),
      clock_(clock),
      settings_(settings),
      stats_(stats),
      accounts_(&domain::decode_account, settings.decoded_accounts),
      contents_(&domain::decode_content, settings.decoded_contents) {}

boost::asio::awaitable<core::Result<std::optional<std::string>>> CatalogCache::async_fetch(
    Resource resource, std::string_view id, const core::RequestContext& ctx) {
    // Two statements, not `?:`: g++ 12 destroys a co_await temporary twice inside a conditional
    // expression (a double free under ASan).
    core::Result<upstream::Fetched> fetched = core::make_error(Errc::kInternal);
    if (coalescer_ != nullptr) {
        fetched = co_await coalescer_->async_get(api_, resource, id, ctx);
    } else {
        fetched = co_await api_.async_get(resource, id, ctx);
    }
    if (!fetched) {
        co_return fetched.error();
    }
    if (fetched->status == 404) {
        co_return std::optional<std::string>{};
    }
    if (fetched->status != 200) {
        co_return core::make_error(Errc::kUpstreamError);
    }
    co_return std::optional<std::string>{std::move(fetched->body)};
}

std::string CatalogCache::redis_ttl_ms(Resource resource) const {
    if (resource == Resource::kAccount) {
        return ms_arg(settings_.account_stale_max.count());
    }
    // ±10 % jitter so titles cached together do not all expire together.
    const auto base = settings_.content_stale_max.count();
    const auto spread = base / 5;
    const auto jitter =
        spread > 0 ? static_cast<std::int64_t>(core::secure_random_u64() % static_cast<std::uint64_t>(spread)) -
                         spread / 2
                   : 0;
    return ms_arg(base + jitter);
}

std::optional<std::string_view> CatalogCache::servable(Resource resource, std::string_view id,
                                                       std::string_view stored, std::int64_t now_ms) {
    const auto doc = domain::decode_cached(stored);
    if (!doc) {
        return std::nullopt;
    }
    const bool account = resource == Resource::kAccount;
    const std::int64_t age = now_ms - doc->fetched_at_ms;
    const auto hard = account ? settings_.account_stale_max : settings_.content_stale_max;
    if (age >= hard.count()) {
        return std::nullopt;  // older than we are willing to serve (a lowered bound, or a clock jump)
    }
    const auto soft = account ? settings_.account_ttl : settings_.content_ttl;
    if (age >= soft.count()) {
        ++(account ? stats_.account_stale_served_total : stats_.content_stale_served_total);
        refresh_in_background(resource, id);
    }
    return doc->json;
}

void CatalogCache::remember(Resource resource, std::string_view id, const std::string& envelope) {
    if (settings_.local_max_entries == 0) {
        return;
    }
    std::string key = refresh_key(resource, id);
    if (auto it = local_.find(key); it != local_.end()) {
        it->second = envelope;
        return;
    }
    if (local_.size() >= settings_.local_max_entries) {
        local_.erase(local_.begin());  // any one: this is a bounded outage reserve, not an LRU
    }
    local_.emplace(std::move(key), envelope);
}

std::optional<std::string_view> CatalogCache::local_copy(Resource resource, std::string_view id, std::int64_t now_ms) {
    const auto it = local_.find(refresh_key(resource, id));
    if (it == local_.end()) {
        return std::nullopt;
    }
    auto json = servable(resource, id, it->second, now_ms);
    if (json) {
        ++stats_.local_served_total;
    }
    return json;
}

boost::asio::awaitable<core::Result<StartCatalog>> CatalogCache::async_load(
    std::string_view account_id, std::string_view content_id, const core::RequestContext& ctx,
    const redis::Pipeline* extra) {
    StartCatalog out = co_await async_read(account_id, content_id, ctx, extra);
    // A warm read (both cached) needs no fill: not even its coroutine frame.
    if (out.account_miss || out.content_miss) {
        if (auto filled = co_await async_fill(out, account_id, content_id, ctx); !filled) {
            co_return filled.error();
        }
    }
    co_return out;
}

/// The read's commands (GET account [, GET content, EXISTS content:nf]) then @p extra's, encoded
/// into @p read. A plain function: the keys and the commands' argument lists are needed only
/// while encoding, so they stay out of async_read's coroutine frame (which must stay under
/// the 1,020 bytes Asio recycles). @return how many commands are the read's own.
std::size_t CatalogCache::build_read(redis::Pipeline& read, std::string_view account_id,
                                     std::string_view content_id, const redis::Pipeline* extra) {
    KeyBuffer kb;
    read.add({"GET", account_key(kb, account_id)});
    if (!content_id.empty()) {
        read.add({"GET", content_key(kb, content_id)}).add({"EXISTS", content_missing_key(kb, content_id)});
    }
    const std::size_t own = read.size();
    if (extra != nullptr) {
        read.append(*extra);
    }
    return own;
}

void CatalogCache::serve_local_copies(StartCatalog& out, std::string_view account_id, std::string_view content_id,
                                      std::int64_t now_ms) {
    // Redis is failing: this worker's own last good copies spare the internal API the whole
    // catalog traffic of the outage (the fetches in async_fill refill them). A plain function:
    // the decoded documents would otherwise take room in async_read's coroutine frame.
    if (auto json = local_copy(Resource::kAccount, account_id, now_ms)) {
        if (auto a = domain::decode_account(*json)) {
            out.account = std::make_shared<const domain::Account>(std::move(*a));
            out.account_miss = false;
        }
    }
    if (!content_id.empty()) {
        if (auto json = local_copy(Resource::kContent, content_id, now_ms)) {
            if (auto c = domain::decode_content(*json)) {
                out.content = std::make_shared<const domain::Content>(std::move(*c));
                out.content_miss = false;
            }
        }
    }
}

boost::asio::awaitable<StartCatalog> CatalogCache::async_read(std::string_view account_id,
                                                              std::string_view content_id,
                                                              const core::RequestContext& ctx,
                                                              const redis::Pipeline* extra) {
    const bool want_content = !content_id.empty();
    StartCatalog out;
    out.account_miss = true;
    out.content_miss = want_content;

    redis::Pipeline read;
    const std::size_t own = build_read(read, account_id, content_id, extra);
    const std::int64_t read_ms = clock_.wall_ms();
    auto replies = co_await redis_.async_pipeline(read, ctx.deadline);
    if (!replies || replies->size() != read.size()) {
        ++stats_.redis_errors_total;
        out.redis_error = replies ? core::make_error(Errc::kProtocolError) : replies.error();
        serve_local_copies(out, account_id, content_id, read_ms);
    } else {
        const auto& r = *replies;
        // Decoded once per cached value per worker: an unchanged value is a byte comparison.
        if (auto json = servable(Resource::kAccount, account_id, r[0].as_string_view(), read_ms)) {
            if (auto a = accounts_.get(account_id, r[0].as_string_view(), *json)) {
                out.account = std::move(a);
                out.account_miss = false;
            }
        }
        if (want_content) {
            if (auto json = servable(Resource::kContent, content_id, r[1].as_string_view(), read_ms)) {
                if (auto c = contents_.get(content_id, r[1].as_string_view(), *json)) {
                    out.content = std::move(c);
                    out.content_miss = false;
                }
            } else if (r[2].as_integer().value_or(0) == 1) {
                out.content_miss = false;  // known missing: out.content stays empty
            }
        }
        // The caller's replies, in the pipeline's own vector (no second one).
        out.extra = std::move(*replies);
        out.extra.erase(out.extra.begin(), out.extra.begin() + static_cast<std::ptrdiff_t>(own));
    }
    (out.account_miss ? stats_.account_misses_total : stats_.account_hits_total)++;
    if (want_content) {
        (out.content_miss ? stats_.content_misses_total : stats_.content_hits_total)++;
    }
    co_return out;
}

boost::asio::awaitable<core::Result<void>> CatalogCache::async_fill(StartCatalog& out, std::string_view account_id,
                                                                    std::string_view content_id,
                                                                    const core::RequestContext& ctx) {
    if (!out.account_miss && !out.content_miss) {
        co_return core::Result<void>{};
    }
    // Miss path: ask the system of record, validate, then write back in one pipeline.
    KeyBuffer kb;
    const std::string_view account_k = account_key(kb, account_id);
    const std::string_view content_k = content_key(kb, content_id);
    const std::string_view missing_k = content_missing_key(kb, content_id);
    const std::string_view digest_k = entitlement_digest_key(kb, account_id);
    redis::Pipeline write;
    std::string account_value;
    std::string account_digest;
    std::string content_value;
    std::string account_ttl;
    std::string content_ttl;
    const std::int64_t now_ms = clock_.wall_ms();
    if (out.account_miss) {
        auto body = co_await async_fetch(Resource::kAccount, account_id, ctx);
        if (!body) {
            co_return body.error();
        }
        if (*body) {
            auto a = domain::decode_account(**body);
            if (!a || a->id != account_id) {
                co_return core::make_error(Errc::kUpstreamError);  // never cache garbage
            }
            account_digest = domain::encode_entitlement_digest(*a, now_ms);
            out.account = std::make_shared<const domain::Account>(std::move(*a));
            account_value = domain::encode_cached(now_ms, **body);
            accounts_.put(account_id, account_value, out.account);  // the next read of it is warm
            remember(Resource::kAccount, account_id, account_value);
            account_ttl = redis_ttl_ms(Resource::kAccount);
            write.add({"SET", account_k, account_value, "PX", account_ttl});
            // What heartbeats read instead of the account (docs/data.md), after it: a crash in
            // between leaves no digest, which a heartbeat reads as "no news" and refreshes.
            write.add({"SET", digest_k, account_digest, "PX", account_ttl});
        }
        out.account_miss = false;
    }
    if (out.content_miss) {
        auto body = co_await async_fetch(Resource::kContent, content_id, ctx);
        if (!body) {
            co_return body.error();
        }
        if (*body) {
            auto c = domain::decode_content(**body);
            if (!c || c->id != content_id) {
                co_return core::make_error(Errc::kUpstreamError);
            }
            out.content = std::make_shared<const domain::Content>(std::move(*c));
            content_value = domain::encode_cached(now_ms, **body);
            contents_.put(content_id, content_value, out.content);
            remember(Resource::kContent, content_id, content_value);
            content_ttl = redis_ttl_ms(Resource::kContent);
            write.add({"SET", content_k, content_value, "PX", content_ttl});
        } else {
            content_ttl = ms_arg(settings_.content_missing_ttl.count());
            write.add({"SET", missing_k, "1", "PX", content_ttl});
        }
        out.content_miss = false;
    }
    if (!write.empty()) {
        auto written = co_await redis_.async_pipeline(write, ctx.deadline);
        if (!written) {
            ++stats_.redis_errors_total;  // served anyway; the next request refills
        }
    }
    co_return core::Result<void>{};
}

bool CatalogCache::refresh_in_background(Resource resource, std::string_view id) {
    if (!api_.available(resource)) {
        ++stats_.refreshes_skipped_total;  // breaker open: the stale value is all we have
        return false;
    }
    std::string key = refresh_key(resource, id);
    if (!refreshing_.insert(key).second) {
        return false;  // one refresh per key at a time on this worker (the coalescer spans workers)
    }
    ++stats_.refreshes_started_total;
    boost::asio::co_spawn(
        executor_,
        [this, resource, id = std::string(id), key = std::move(key)]() mutable -> boost::asio::awaitable<void> {
            co_await async_refresh(resource, std::move(id));
            refreshing_.erase(key);
        },
        boost::asio::detached);
    return true;
}

boost::asio::awaitable<void> CatalogCache::async_refresh(Resource resource, std::string id) {
    core::RequestContext ctx;
    ctx.request_id = core::new_request_id();
    ctx.trace = core::TraceContext::new_root(false);
    ctx.deadline = core::Deadline::after(clock_, std::chrono::seconds(2));
    auto body = co_await async_fetch(resource, id, ctx);
    if (!body || !*body) {
        ++stats_.refreshes_failed_total;  // unreachable or unknown: keep serving what we have
        co_return;
    }
    const bool account = resource == Resource::kAccount;
    const std::int64_t fetched_at_ms = clock_.wall_ms();
    std::string digest;  // of an account: written next to it (entitlement_digest_key)
    const bool valid = account ? [&] {
        auto a = domain::decode_account(**body);
        if (a && a->id == id) {
            digest = domain::encode_entitlement_digest(*a, fetched_at_ms);
            return true;
        }
        return false;
    }()
                               : [&] {
                                     auto c = domain::decode_content(**body);
                                     return c && c->id == id;
                                 }();
    if (!valid) {
        ++stats_.refreshes_failed_total;
        co_return;
    }
    KeyBuffer kb;
    const std::string value = domain::encode_cached(fetched_at_ms, **body);
    remember(resource, id, value);
    const std::string ttl = redis_ttl_ms(resource);
    const std::string_view key = account ? account_key(kb, id) : content_key(kb, id);
    redis::Pipeline write;
    write.add({"SET", key, value, "PX", ttl});
    if (account) {
        write.add({"SET", entitlement_digest_key(kb, id), digest, "PX", ttl});
    }
    auto written = co_await redis_.async_pipeline(write, ctx.deadline);
    if (!written) {
        ++stats_.redis_errors_total;
    }
}

}  // namespace moneta::store
