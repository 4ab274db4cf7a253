/// @file services/moneta/src/upstream/internal_api_client.hpp
/// @brief InternalApi over the pooled keep-alive HTTP client (one per worker thread).
#pragma once

#include <chrono>
#include <string>

#include "moneta/http_client/client.hpp"
#include "moneta/trace/recorder.hpp"
#include "upstream/internal_api.hpp"

namespace moneta::upstream {

/// Sends the service token, the request id and the trace context (`traceparent` with a new
/// client span id, plus `elastic-apm-traceparent` for Elastic APM) with every call.
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe (per worker). Stats: any thread.
class InternalApiClient final : public InternalApi {
public:
    /// @param clock times each exchange into stats.latency; null: not timed.
    InternalApiClient(http_client::Client& http, std::string service_token,
                      std::chrono::milliseconds timeout, InternalApiStats& stats,
                      const core::Clock* clock = nullptr);

    /// Records a client span per call into @p recorder (this worker's; nullptr: none), with
    /// server.address/server.port = @p address/@p port. The span's id is the one sent in the
    /// outbound traceparent, so the internal API's server span is its child.
    void set_tracing(trace::Recorder* recorder, std::string address, std::uint16_t port) {
        recorder_ = recorder;
        trace_address_ = std::move(address);
        trace_port_ = port;
    }

    // moneta::upstream::InternalApi
    boost::asio::awaitable<core::Result<Fetched>> async_get(Resource resource, std::string_view id,
                                                            const core::RequestContext& ctx) override;
    boost::asio::awaitable<core::Result<Fetched>> async_get_progress(
        std::string_view profile_id, std::string_view content_ids_csv, const core::RequestContext& ctx) override;
    boost::asio::awaitable<core::Result<Fetched>> async_upsert_progress(
        std::string_view body, const core::RequestContext& ctx) override;

private:
    /// @param route the target's template (span name and http.route: no ids).
    boost::asio::awaitable<core::Result<Fetched>> async_call(std::string_view method, std::string_view target,
                                                             std::string_view route, std::string_view body,
                                                             const core::RequestContext& ctx, std::size_t resource);

    void record_span(const core::TraceContext& span, const core::RequestContext& ctx, core::SteadyTime started,
                     std::string_view method, std::string_view route, int status, std::string_view error) noexcept;

    http_client::Client& http_;
    std::string authorization_;  ///< "Bearer <token>", built once
    std::chrono::milliseconds timeout_;
    InternalApiStats& stats_;
    const core::Clock* clock_;
    trace::Recorder* recorder_ = nullptr;
    std::string trace_address_;
    std::uint16_t trace_port_ = 0;
};

}  // namespace moneta::upstream
