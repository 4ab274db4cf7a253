/// @file services/moneta/src/upstream/internal_api.hpp
/// @brief The internal API (system of record) as moneta uses it: an interface, so the catalog
/// cache can be unit-tested without HTTP, and the pooled HTTP implementation.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <array>
#include <atomic>
#include "moneta/metrics/local.hpp"
#include "moneta/metrics/registry.hpp"
#include "moneta/metrics/stats_table.hpp"
#include <cstdint>
#include <string>
#include <string_view>

#include "moneta/core/request_context.hpp"
#include "moneta/core/result.hpp"

namespace moneta::upstream {

enum class Resource : std::uint8_t { kAccount, kContent };

/// What came back: the status and the body (the body is validated by the caller's decoder).
struct Fetched {
    int status = 0;
    std::string body;
};

/// Calls the internal API made, per resource; read by /metrics and by the tests that prove a warm
/// start makes zero internal-API calls.
struct InternalApiStats {
    metrics::LocalCounter account_calls_total;
    metrics::LocalCounter content_calls_total;
    metrics::LocalCounter progress_reads_total;
    metrics::LocalCounter progress_upserts_total;
    metrics::LocalCounter errors_total;
    /// moneta_internal_api_request_duration_seconds{resource}: one HTTP exchange (no retries,
    /// no bulkhead wait), indexed like kLatencyResources.
    std::array<metrics::LocalHistogram<metrics::kLatencyBounds>, 4> latency{};
    static constexpr std::array<std::string_view, 4> kLatencyResources{"account", "content", "progress_read",
                                                                       "progress_upsert"};
};

/// What InternalApiStats exports (summed over the workers' clients and the flusher's).
inline constexpr metrics::Stat<InternalApiStats> kInternalApiStatsTable[] = {
    {metrics::StatKind::kCounter, "moneta_internal_api_requests_total", "Calls moneta made to the internal API.", {"resource", "account"}, MONETA_STAT(account_calls_total)},
    {metrics::StatKind::kCounter, "moneta_internal_api_requests_total", "Calls moneta made to the internal API.", {"resource", "content"}, MONETA_STAT(content_calls_total)},
    {metrics::StatKind::kCounter, "moneta_internal_api_requests_total", "Calls moneta made to the internal API.", {"resource", "progress_read"}, MONETA_STAT(progress_reads_total)},
    {metrics::StatKind::kCounter, "moneta_internal_api_requests_total", "Calls moneta made to the internal API.", {"resource", "progress_upsert"}, MONETA_STAT(progress_upserts_total)},
    {metrics::StatKind::kCounter, "moneta_internal_api_errors_total", "Internal API calls that failed (transport or 5xx).", {}, MONETA_STAT(errors_total)},
};

class InternalApi {
public:
    virtual ~InternalApi() = default;
    /// GET /internal/v1/accounts/{id} or /internal/v1/contents/{id}.
    /// Transport errors are Result errors (kTimeout, kDeadlineExceeded, kConnectFailed, ...);
    /// any HTTP status is a value.
    virtual boost::asio::awaitable<core::Result<Fetched>> async_get(
        Resource resource, std::string_view id, const core::RequestContext& ctx) = 0;

    /// GET /internal/v1/profiles/{profile_id}/progress[?content_ids=a,b] (empty: the newest).
    virtual boost::asio::awaitable<core::Result<Fetched>> async_get_progress(
        std::string_view profile_id, std::string_view content_ids_csv, const core::RequestContext& ctx) = 0;

    /// POST /internal/v1/progress:batchUpsert with @p body (domain::batch_upsert_body).
    virtual boost::asio::awaitable<core::Result<Fetched>> async_upsert_progress(
        std::string_view body, const core::RequestContext& ctx) = 0;

    /// False while calls for @p resource would be refused locally (circuit open): the catalog
    /// cache then serves what it has without spawning a doomed background refresh. Cheap.
    virtual bool available(Resource /*resource*/) const noexcept { return true; }
};

}  // namespace moneta::upstream
