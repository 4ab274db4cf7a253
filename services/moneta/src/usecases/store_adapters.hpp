/// @file services/moneta/src/usecases/store_adapters.hpp
/// @brief The production implementations of usecases/ports.hpp, over the per-worker stores.
/// Thin: each forwarding call returns the store's own awaitable (no coroutine frame of its
/// own), except async_read_admission, which owns the first round trip's pipeline and reads its
/// replies by position so the use cases never see them.
#pragma once

#include "store/progress_store.hpp"
#include "usecases/ports.hpp"

namespace moneta::usecases {

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (per worker, like the store).
class StoreSessionLeases final : public SessionLeases {
public:
    explicit StoreSessionLeases(store::SessionStore& store) noexcept : store_(store) {}

    // moneta::usecases::SessionLeases
    Async<store::StartOutcome> async_start(const store::StartCommand& cmd, core::Deadline deadline) override {
        return store_.async_start(cmd, deadline);
    }
    Async<void> async_save_idempotent(std::string_view account_id, std::string_view key, std::string_view value,
                                      core::Deadline deadline) override {
        return store_.async_save_idempotent(account_id, key, value, deadline);
    }
    Async<store::HeartbeatResult> async_heartbeat(std::string_view account_id, std::string_view session_id,
                                                  double position_sec, std::int64_t seq, std::int64_t now_ms,
                                                  core::Deadline deadline) override {
        return store_.async_heartbeat(account_id, session_id, position_sec, seq, now_ms, deadline);
    }
    Async<store::StopResult> async_stop(std::string_view account_id, std::string_view session_id, double position_sec,
                                        std::int64_t seq, bool ended, std::int64_t now_ms,
                                        core::Deadline deadline) override {
        return store_.async_stop(account_id, session_id, position_sec, seq, ended, now_ms, deadline);
    }
    Async<std::vector<domain::ActiveSession>> async_list(std::string_view account_id, std::int64_t now_ms,
                                                         core::Deadline deadline) override {
        return store_.async_list(account_id, now_ms, deadline);
    }
    Async<store::KickResult> async_kick(std::string_view account_id, std::string_view session_id, std::int64_t now_ms,
                                        core::Deadline deadline) override {
        return store_.async_kick(account_id, session_id, now_ms, deadline);
    }
    Async<std::optional<store::LiveSession>> async_live_session(std::string_view account_id,
                                                                std::string_view session_id, std::int64_t now_ms,
                                                                core::Deadline deadline) override {
        return store_.async_live_session(account_id, session_id, now_ms, deadline);
    }
    std::chrono::milliseconds lease() const noexcept override { return store_.settings().lease; }

private:
    store::SessionStore& store_;
};

/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (per worker, like the cache).
class StoreCatalogReader final : public CatalogReader {
public:
    explicit StoreCatalogReader(store::CatalogCache& cache) noexcept : cache_(cache) {}

    // moneta::usecases::CatalogReader
    /// One pipeline: the account and content reads, then (start) `HGET` of the title's cached
    /// position and `HEXISTS` of its negative cache, then the rate counter's `INCR`/`PEXPIRE`
    /// (handlers/rate_limit.hpp).
    boost::asio::awaitable<AdmissionRead> async_read_admission(const AdmissionQuery& query,
                                                               const core::RequestContext& ctx) override;
    Async<void> async_fill(store::StartCatalog& catalog, std::string_view account_id, std::string_view content_id,
                           const core::RequestContext& ctx) override {
        return cache_.async_fill(catalog, account_id, content_id, ctx);
    }
    Async<store::StartCatalog> async_load(std::string_view account_id, std::string_view content_id,
                                          const core::RequestContext& ctx) override {
        return cache_.async_load(account_id, content_id, ctx);
    }
    bool refresh_account_in_background(std::string_view account_id) override {
        return cache_.refresh_in_background(upstream::Resource::kAccount, account_id);
    }
    std::chrono::milliseconds account_ttl() const noexcept override { return cache_.settings().account_ttl; }

private:
    store::CatalogCache& cache_;
};

class StoreProgressRecords final : public ProgressRecords {
public:
    explicit StoreProgressRecords(store::ProgressStore& store) noexcept : store_(store) {}

    // moneta::usecases::ProgressRecords
    Async<store::ProgressWrite> async_put(std::string_view account_id, std::string_view profile_id,
                                          const domain::ProgressRecord& record, std::int64_t now_ms,
                                          core::Deadline deadline) override {
        return store_.async_put(account_id, profile_id, record, now_ms, deadline);
    }
    Async<std::vector<domain::ProgressRecord>> async_get(std::string_view account_id, std::string_view profile_id,
                                                         std::span<const std::string> content_ids,
                                                         const core::RequestContext& ctx) override {
        return store_.async_get(account_id, profile_id, content_ids, ctx);
    }
    Async<std::optional<domain::ProgressRecord>> async_load_one(std::string_view account_id,
                                                                std::string_view profile_id,
                                                                std::string_view content_id,
                                                                const core::RequestContext& ctx) override {
        return store_.async_load_one(account_id, profile_id, content_id, ctx);
    }
    Async<std::vector<domain::ProgressRecord>> async_continue_watching(std::string_view account_id,
                                                                       std::string_view profile_id, int limit,
                                                                       const core::RequestContext& ctx) override {
        return store_.async_continue_watching(account_id, profile_id, limit, ctx);
    }

private:
    store::ProgressStore& store_;
};

class BufferHeldWrites final : public HeldWrites {
public:
    explicit BufferHeldWrites(store::ProgressBuffer& buffer) noexcept : buffer_(buffer) {}

    // moneta::usecases::HeldWrites
    store::ProgressBuffer::Push push(store::BufferedWrite&& write) override { return buffer_.push(std::move(write)); }
    bool has_pending_grant(std::string_view account_id, std::string_view session_id) const override {
        return buffer_.has_pending_grant(account_id, session_id);
    }

private:
    store::ProgressBuffer& buffer_;
};

class WorkerDelivery final : public StreamDelivery {
public:
    explicit WorkerDelivery(delivery::DeliveryFactory::Worker& worker) noexcept : worker_(worker) {}

    // moneta::usecases::StreamDelivery
    core::Result<delivery::Blocks> build(const domain::StreamSelection& selection, std::string_view user_id,
                                         std::int64_t now_ms) override {
        return worker_.build(selection, user_id, now_ms);
    }

private:
    delivery::DeliveryFactory::Worker& worker_;
};

}  // namespace moneta::usecases
